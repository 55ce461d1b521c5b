using System.Buffers;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using static LakeOps.Edge.Frontends.Tests.Passthrough.Frames;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

public sealed class ServerResponseForwarderTests
{
    private static readonly ServerStatement Statement = ServerStatementRegistry.GetOrAdd(Key("select 1"));

    private static byte[] Key(string sql) => [.. System.Text.Encoding.UTF8.GetBytes(sql), 0, 0, 0];

    private sealed record Outcome(byte[] Client, string Statuses, bool Desynchronized, ServerResponseForwarder Forwarder);

    /// <summary>Feeds <paramref name="server"/> in two reads split at <paramref name="split"/> (the rest of a partial frame carried over).</summary>
    private static Outcome Run(PendingResponse[] items, byte[] server, int split)
    {
        var forwarder = new ServerResponseForwarder();
        foreach (PendingResponse item in items)
        {
            forwarder.Enqueue(item);
        }

        var client = new ArrayBufferWriter<byte>();
        var statuses = new System.Text.StringBuilder();
        bool desync = false;
        byte[] leftover = Drive(forwarder, Sequence(server[..split]), client, statuses, ref desync);
        byte[] rest = Drive(forwarder, Sequence(leftover, server[split..]), client, statuses, ref desync);
        if (!desync)
        {
            Assert.Empty(rest);
        }

        return new Outcome(client.WrittenSpan.ToArray(), statuses.ToString(), desync, forwarder);
    }

    private static byte[] Drive(ServerResponseForwarder forwarder, ReadOnlySequence<byte> buffer, ArrayBufferWriter<byte> client, System.Text.StringBuilder statuses, ref bool desync)
    {
        while (!desync)
        {
            ForwardStop stop = forwarder.Forward(ref buffer, client);
            if (stop == ForwardStop.SyncPoint)
            {
                statuses.Append((char)forwarder.LastStatus);
                continue;
            }

            desync = stop == ForwardStop.Desynchronized;
            break;
        }

        return buffer.ToArray();
    }

    private static void ForEverySplit(PendingResponse[] items, byte[] server, Action<Outcome> check)
    {
        for (int split = 0; split <= server.Length; split++)
        {
            check(Run(items, server, split));
        }
    }

    private static PendingResponse Item(ResponseKind kind, object? reference = null) => new(kind, 0, reference);

    [Fact]
    public void Simple_query_results_pass_through_unchanged()
    {
        byte[] server = Concat(Columns("a"), Row("1"), Row((string?)null), Notice("hi"), Complete("SELECT 2"), Ready());
        ForEverySplit([Item(ResponseKind.Query)], server, outcome =>
        {
            Assert.Equal(server, outcome.Client);
            Assert.Equal("I", outcome.Statuses);
            Assert.Equal(0, outcome.Forwarder.Pending);
        });
    }

    [Fact]
    public void Edge_answers_go_where_the_server_would_have_put_them()
    {
        // Client: Parse s1 (known: Edge answers), Bind, Describe P, Execute, Close s1 (Edge answers), Sync.
        PendingResponse[] items =
        [
            Item(ResponseKind.SyntheticParseComplete), Item(ResponseKind.Bind), Item(ResponseKind.DescribePortal),
            Item(ResponseKind.Execute), Item(ResponseKind.SyntheticCloseComplete), Item(ResponseKind.Sync),
        ];
        byte[] server = Concat(BindComplete, Columns("a"), Row("x"), Complete("SELECT 1"), Ready());
        byte[] expected = Concat(ParseComplete, BindComplete, Columns("a"), Row("x"), Complete("SELECT 1"), CloseComplete, Ready());
        ForEverySplit(items, server, outcome =>
        {
            Assert.Equal(expected, outcome.Client);
            Assert.Equal("I", outcome.Statuses);
        });
    }

    [Fact]
    public void Responses_to_injected_messages_are_swallowed()
    {
        // Settings replay (a hidden query), then an injected Parse before the client's Bind.
        PendingResponse[] items =
        [
            Item(ResponseKind.QuerySwallow), Item(ResponseKind.ParseSwallow), Item(ResponseKind.Bind),
            Item(ResponseKind.Execute), Item(ResponseKind.Sync),
        ];
        byte[] server = Concat(
            Columns("set_config"), Row("psql"), Status("application_name", "psql"), Complete("SELECT 1"), Ready(),
            ParseComplete, BindComplete, Row("1"), Complete("SELECT 1"), Ready());
        ForEverySplit(items, server, outcome =>
        {
            Assert.Equal(Concat(BindComplete, Row("1"), Complete("SELECT 1"), Ready()), outcome.Client);
            Assert.Equal("II", outcome.Statuses);
        });
    }

    [Fact]
    public void After_an_error_the_answers_for_skipped_messages_are_dropped()
    {
        var state = new ServerConnectionState(null);
        var ticket = new ParseTicket(Statement, state, null);
        PendingResponse[] items =
        [
            Item(ResponseKind.SyntheticParseComplete), Item(ResponseKind.ParseSwallow, ticket), Item(ResponseKind.Bind),
            Item(ResponseKind.SyntheticCloseComplete), Item(ResponseKind.Execute), Item(ResponseKind.Sync),
        ];
        byte[] server = Concat(Error(), Ready());
        ForEverySplit(items, server, outcome =>
        {
            // ParseComplete came before the failing message, CloseComplete after it: PostgreSQL would have skipped the Close.
            Assert.Equal(Concat(ParseComplete, Error(), Ready()), outcome.Client);
            Assert.Equal("I", outcome.Statuses);
            Assert.True(outcome.Forwarder.LastHadError);
            Assert.Same(ticket, Assert.Single(outcome.Forwarder.FailedParses!));
        });
    }

    [Fact]
    public void An_error_before_the_sync_arrives_skips_what_the_client_sends_later()
    {
        var forwarder = new ServerResponseForwarder();
        forwarder.Enqueue(Item(ResponseKind.Bind));
        var client = new ArrayBufferWriter<byte>();
        ReadOnlySequence<byte> buffer = Sequence(Error());
        Assert.Equal(ForwardStop.NeedMoreData, forwarder.Forward(ref buffer, client));

        // The rest of the batch arrives after the error: only the Sync survives.
        forwarder.Enqueue(Item(ResponseKind.SyntheticCloseComplete));
        forwarder.Enqueue(Item(ResponseKind.Execute));
        forwarder.Enqueue(Item(ResponseKind.Query));
        forwarder.Enqueue(Item(ResponseKind.Sync));
        Assert.Equal(1, forwarder.DroppedSyncPoints);
        buffer = Sequence(Ready());
        Assert.Equal(ForwardStop.SyncPoint, forwarder.Forward(ref buffer, client));
        Assert.Equal(Concat(Error(), Ready()), client.WrittenSpan.ToArray());
        Assert.Equal(0, forwarder.Pending);
    }

    [Fact]
    public void Errors_inside_a_simple_query_do_not_end_it()
    {
        byte[] server = Concat(Complete("SET"), Error(), Ready('I'));
        ForEverySplit([Item(ResponseKind.Query), Item(ResponseKind.Query)], Concat(server, Complete("SELECT 0"), Ready()), outcome =>
        {
            Assert.Equal("II", outcome.Statuses);
            Assert.Equal(Concat(server, Complete("SELECT 0"), Ready()), outcome.Client);
        });
    }

    [Fact]
    public void Describe_of_a_statement_ends_at_its_row_description()
    {
        PendingResponse[] items = [Item(ResponseKind.DescribeStatement), Item(ResponseKind.SyntheticCloseComplete), Item(ResponseKind.Sync)];
        byte[] server = Concat(Parameters(23), Columns("a"), Ready());
        ForEverySplit(items, server, outcome => Assert.Equal(Concat(Parameters(23), Columns("a"), CloseComplete, Ready()), outcome.Client));
    }

    [Fact]
    public void Large_rows_stream_through_before_they_have_fully_arrived()
    {
        string big = new('x', 70_000);
        byte[] server = Concat(Row(big), Complete("SELECT 1"), Ready());
        var forwarder = new ServerResponseForwarder();
        forwarder.Enqueue(Item(ResponseKind.Query));
        var client = new ArrayBufferWriter<byte>();
        ReadOnlySequence<byte> buffer = Sequence(server[..1000]);
        Assert.Equal(ForwardStop.NeedMoreData, forwarder.Forward(ref buffer, client));
        Assert.True(buffer.IsEmpty);
        Assert.True(forwarder.InFrame);
        Assert.Equal(server[..1000], client.WrittenSpan.ToArray());

        buffer = Sequence(server[1000..]);
        Assert.Equal(ForwardStop.SyncPoint, forwarder.Forward(ref buffer, client));
        Assert.Equal(server, client.WrittenSpan.ToArray());
        Assert.False(forwarder.InFrame);
    }

    [Fact]
    public void Syncs_sent_during_copy_from_stdin_are_not_counted()
    {
        // libpq in extended mode: Parse/Bind/Execute/Sync, then the COPY data, CopyDone and another Sync.
        PendingResponse[] items =
        [
            Item(ResponseKind.Parse), Item(ResponseKind.Bind), Item(ResponseKind.Execute), Item(ResponseKind.Sync),
            Item(ResponseKind.CopyEnd), Item(ResponseKind.Sync),
        ];
        byte[] server = Concat(ParseComplete, BindComplete, CopyIn, Complete("COPY 2"), Ready());
        ForEverySplit(items, server, outcome =>
        {
            Assert.Equal(server, outcome.Client);
            Assert.Equal("I", outcome.Statuses);
            Assert.Equal(1, outcome.Forwarder.DroppedSyncPoints);
            Assert.Equal(0, outcome.Forwarder.Pending);
        });
    }

    [Fact]
    public void Copy_out_data_passes_through()
    {
        byte[] server = Concat(CopyOut, CopyData("1\n"), CopyData("2\n"), CopyDone, Complete("COPY 2"), Ready());
        ForEverySplit([Item(ResponseKind.Query)], server, outcome => Assert.Equal(server, outcome.Client));
    }

    [Fact]
    public void Notifications_and_parameter_changes_between_requests_reach_the_client()
    {
        byte[] server = Concat(Status("TimeZone", "UTC"), Notice("later"));
        ForEverySplit([], server, outcome =>
        {
            Assert.Equal(server, outcome.Client);
            Assert.False(outcome.Desynchronized);
        });
    }

    [Fact]
    public void A_ready_for_query_nobody_asked_for_desynchronizes()
    {
        Outcome outcome = Run([], Ready(), 0);
        Assert.True(outcome.Desynchronized);
        Assert.Contains("no Sync", outcome.Forwarder.DesyncReason, StringComparison.Ordinal);

        outcome = Run([Item(ResponseKind.Bind)], Ready(), 0);
        Assert.True(outcome.Desynchronized);
    }

    [Fact]
    public void Abort_answers_what_is_owed_with_one_error_and_a_ready_per_sync_point()
    {
        var forwarder = new ServerResponseForwarder();
        forwarder.Enqueue(Item(ResponseKind.SyntheticParseComplete));
        forwarder.Enqueue(Item(ResponseKind.Bind));
        forwarder.Enqueue(Item(ResponseKind.Execute));
        forwarder.Enqueue(Item(ResponseKind.Sync));
        forwarder.Enqueue(Item(ResponseKind.Query));
        var client = new ArrayBufferWriter<byte>();
        byte[] error = Error("08006", "gone");
        Assert.True(forwarder.Abort(client, error, (byte)'E'));
        Assert.Equal(Concat(ParseComplete, error, Ready('E'), Ready('E')), client.WrittenSpan.ToArray());
        Assert.Equal(0, forwarder.Pending);
        Assert.False(forwarder.Abort(new ArrayBufferWriter<byte>(), error, (byte)'I'));
    }

    [Fact]
    public void Command_tags_tell_a_rollback_from_a_commit_when_asked()
    {
        Outcome committed = Run([Item(ResponseKind.Query)], Concat(Complete("COMMIT"), Ready()), 3);
        Assert.False(committed.Forwarder.LastEndedWithRollback);

        var forwarder = new ServerResponseForwarder { TrackTransactionEnd = true };
        forwarder.Enqueue(Item(ResponseKind.Query));
        ReadOnlySequence<byte> buffer = Sequence(Complete("ROLLBACK"), Ready());
        Assert.Equal(ForwardStop.SyncPoint, forwarder.Forward(ref buffer, new ArrayBufferWriter<byte>()));
        Assert.True(forwarder.LastEndedWithRollback);
    }

    [Fact]
    public void A_fatal_error_is_kept_from_the_client_for_edge_to_report()
    {
        byte[] fatal = Of(w => LakeOps.Edge.Protocols.Postgres.PgBackendWriter.WriteErrorResponse(
            w, new LakeOps.Edge.Protocols.Postgres.PgError("FATAL", "57P01", "terminating connection due to administrator command")));
        ForEverySplit([Item(ResponseKind.Query)], Concat(Columns("a"), fatal), outcome =>
        {
            Assert.Equal(Columns("a"), outcome.Client);
            Assert.Equal("57P01", outcome.Forwarder.FatalError?.SqlState);
            Assert.Equal(1, outcome.Forwarder.Pending);
        });
    }

    [Fact]
    public void Malformed_server_frames_desynchronize()
    {
        Outcome outcome = Run([Item(ResponseKind.Query)], [(byte)'D', 0, 0, 0, 1], 5);
        Assert.True(outcome.Desynchronized);
    }
}
