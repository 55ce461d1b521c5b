using System.Text;
using LakeOps.Edge.Frontends.Postgres.Passthrough;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

public sealed class ServerConnectionStateTests
{
    private static ServerStatement NewStatement() =>
        ServerStatementRegistry.GetOrAdd([.. Encoding.UTF8.GetBytes("select " + Guid.NewGuid().ToString("N")), 0, 0, 0]);

    [Fact]
    public void The_registry_gives_one_statement_per_text_and_types()
    {
        byte[] key = [.. Encoding.UTF8.GetBytes("select " + Guid.NewGuid().ToString("N")), 0, 0, 1, 0, 0, 0, 23];
        ServerStatement first = ServerStatementRegistry.GetOrAdd(key);
        Assert.Same(first, ServerStatementRegistry.GetOrAdd(key.ToArray()));
        key[^1] = 20;
        Assert.NotSame(first, ServerStatementRegistry.GetOrAdd(key));
        Assert.Equal((byte)'P', first.ParseFrame[0]);
        Assert.Equal(first.ParseFrame.Length - 1, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(first.ParseFrame.AsSpan(1)));
    }

    [Fact]
    public void Statements_are_mirrored_into_the_connections_own_set()
    {
        var mirror = new HashSet<string>();
        var state = new ServerConnectionState(mirror);
        ServerStatement statement = NewStatement();
        Assert.False(state.TryUse(statement));
        state.Add(statement);
        Assert.True(state.TryUse(statement));
        Assert.Contains(statement.Name, mirror);
        state.Remove(statement);
        Assert.DoesNotContain(statement.Name, mirror);
        Assert.False(state.TryUse(statement));
    }

    [Fact]
    public void A_statement_another_pool_user_dropped_is_prepared_again()
    {
        var mirror = new HashSet<string>();
        var state = new ServerConnectionState(mirror);
        ServerStatement statement = NewStatement();
        state.Add(statement);
        mirror.Clear();
        mirror.Add("lakeops_a1");
        Assert.False(state.TryUse(statement));
        Assert.Equal(0, state.Count);
    }

    [Fact]
    public void The_least_recently_used_statements_beyond_capacity_are_evicted()
    {
        var mirror = new HashSet<string>();
        var state = new ServerConnectionState(mirror);
        ServerStatement[] statements = [.. Enumerable.Range(0, 5).Select(_ => NewStatement())];
        foreach (ServerStatement statement in statements)
        {
            state.Add(statement);
        }

        Assert.True(state.TryUse(statements[0]));
        Assert.True(state.TryUse(statements[2]));
        Assert.Null(state.Borrowed(5));
        List<ServerStatement> evicted = state.Borrowed(3)!;
        Assert.Equal([statements[1], statements[3]], evicted);
        Assert.Equal(3, state.Count);
        Assert.Equal(3, mirror.Count);
        Assert.False(state.TryUse(statements[1]));
    }

    [Fact]
    public void Clear_forgets_everything_the_server_dropped()
    {
        var mirror = new HashSet<string> { "lakeops_a7" };
        var state = new ServerConnectionState(mirror);
        state.Add(NewStatement());
        state.Clear();
        Assert.Equal(0, state.Count);
        Assert.Empty(mirror);
    }

    [Fact]
    public void The_response_queue_keeps_order_while_growing_and_removing()
    {
        var queue = new ResponseQueue();
        for (int i = 0; i < 40; i++)
        {
            queue.Add(new PendingResponse(ResponseKind.SyntheticReady, (byte)i));
            if (i % 3 == 0)
            {
                queue.RemoveHead();
            }
        }

        var expected = Enumerable.Range(0, 40).Where(i => i > 13).Select(i => (byte)i).ToList();
        Assert.Equal(expected, Enumerable.Range(0, queue.Count).Select(i => queue[i].Status));
        queue.RemoveAt(3);
        expected.RemoveAt(3);
        Assert.Equal(expected, Enumerable.Range(0, queue.Count).Select(i => queue[i].Status));
        var other = new ResponseQueue();
        other.TakeAll(queue);
        Assert.Equal(0, queue.Count);
        Assert.Equal(expected.Count, other.Count);
    }
}
