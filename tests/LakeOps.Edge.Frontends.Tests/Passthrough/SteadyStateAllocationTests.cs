using System.Buffers;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using static LakeOps.Edge.Frontends.Tests.Passthrough.Frames;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

/// <summary>The per-query work of the passthrough allocates nothing once warmed up.</summary>
public sealed class SteadyStateAllocationTests
{
    private const int Rounds = 2000;

    [Fact]
    public void Forwarding_prepared_and_simple_queries_allocates_nothing()
    {
        string cluster = "alloc-" + Guid.NewGuid().ToString("N");
        var client = new ClientMessageForwarder(cluster);
        var state = new ServerConnectionState([], cluster);
        var server = new ArrayBufferWriter<byte>(64 * 1024);
        var responses = new ServerResponseForwarder();
        var toClient = new ArrayBufferWriter<byte>(64 * 1024);

        ReadOnlySequence<byte> parse = Sequence(Parse("P_0", "SELECT abalance FROM pgbench_accounts WHERE aid = $1 -- " + cluster));
        ReadOnlySequence<byte>[] prepared =
        [
            Sequence(Bind("P_0", "", "42")), Sequence(Describe('P', "")), Sequence(Execute()), Sequence(Sync),
        ];
        ReadOnlySequence<byte>[] extended =
        [
            Sequence(Parse("", "SELECT abalance FROM pgbench_accounts WHERE aid = $1")), Sequence(Bind("", "", "7")),
            Sequence(Describe('P', "")), Sequence(Execute()), Sequence(Sync),
        ];
        ReadOnlySequence<byte> simple = Sequence(Query("SELECT abalance FROM pgbench_accounts WHERE aid = 3;"));
        byte[] extendedReply = Concat(ParseComplete, BindComplete, Columns("abalance"), Row("0"), Complete("SELECT 1"), Ready());
        byte[] preparedReply = Concat(BindComplete, Columns("abalance"), Row("0"), Complete("SELECT 1"), Ready());
        byte[] simpleReply = Concat(Columns("abalance"), Row("0"), Complete("SELECT 1"), Ready());

        client.Attach(server, state);
        client.Process((byte)'P', parse);
        client.Process((byte)'S', Sequence(Sync));
        Drain(client, responses, toClient, Concat(ParseComplete, Ready()));

        void RunRound()
        {
            server.ResetWrittenCount();
            toClient.ResetWrittenCount();
            foreach (ReadOnlySequence<byte> frame in prepared)
            {
                client.Process(frame.FirstSpan[0], frame);
            }

            Drain(client, responses, toClient, preparedReply);
            foreach (ReadOnlySequence<byte> frame in extended)
            {
                client.Process(frame.FirstSpan[0], frame);
            }

            Drain(client, responses, toClient, extendedReply);
            client.Process((byte)'Q', simple);
            Drain(client, responses, toClient, simpleReply);
        }

        for (int i = 0; i < 100; i++)
        {
            RunRound();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Rounds; i++)
        {
            RunRound();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(0, responses.Pending);
    }

    private static void Drain(ClientMessageForwarder client, ServerResponseForwarder responses, ArrayBufferWriter<byte> toClient, byte[] reply)
    {
        while (client.Staged.Count > 0)
        {
            responses.Enqueue(client.Staged.RemoveHead());
        }

        client.EndBatch();
        var buffer = new ReadOnlySequence<byte>(reply);
        while (responses.Forward(ref buffer, toClient) == ForwardStop.SyncPoint)
        {
        }

        Assert.True(buffer.IsEmpty);
    }
}
