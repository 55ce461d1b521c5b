using System.Buffers;
using System.Text;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Protocols.Postgres;
using static LakeOps.Edge.Frontends.Tests.Passthrough.Frames;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

public sealed class ClientMessageForwarderTests
{
    private sealed class Harness
    {
        public Harness() => Forwarder = new ClientMessageForwarder(Cluster);

        /// <summary>Each test its own cluster, so statements verified by other tests do not count here.</summary>
        public string Cluster { get; } = "cluster-" + Guid.NewGuid().ToString("N");

        public ClientMessageForwarder Forwarder { get; }

        public ArrayBufferWriter<byte> Server { get; private set; } = new();

        public HashSet<string> Mirror { get; private set; } = [];

        public ServerConnectionState State { get; private set; } = null!;

        public Harness Attach()
        {
            Server = new ArrayBufferWriter<byte>();
            Mirror = [];
            State = new ServerConnectionState(Mirror, Cluster);
            Forwarder.Attach(Server, State);
            return this;
        }

        /// <summary>Processes a frame, once as one segment and once split in two (both must behave the same).</summary>
        public ClientStep Feed(byte[] frame, int split = -1) =>
            Forwarder.Process(frame[0], split < 0 ? Sequence(frame) : Sequence(frame[..split], frame[split..]));

        public string Staged => string.Join(",", Enumerable.Range(0, Forwarder.Staged.Count).Select(i => Forwarder.Staged[i].Kind));

        public byte[] Written => Server.WrittenSpan.ToArray();

        /// <summary>The error frames Edge queued, decoded.</summary>
        public List<PgError> Errors => Enumerable.Range(0, Forwarder.Staged.Count)
            .Select(i => Forwarder.Staged[i])
            .Where(r => r.Kind == ResponseKind.SyntheticFrame && r.Frame![0] == (byte)'E')
            .Select(r => ErrorResponseMessage.Parse(r.Frame.AsSpan(5)))
            .ToList();
    }

    private static string Unique(string sql) => sql + " -- " + Guid.NewGuid().ToString("N");

    [Fact]
    public void Without_a_server_connection_work_asks_for_one_and_changes_nothing()
    {
        var h = new Harness();
        foreach (byte[] frame in new[] { Query("select 1"), Parse("s", "select 1"), Parse("", "select 1"), Bind(""), Execute(), Describe('P', "") })
        {
            Assert.Equal(ClientStep.NeedServer, h.Feed(frame));
        }

        Assert.Equal(0, h.Forwarder.Staged.Count);
        Assert.Equal(0, h.Forwarder.StatementCount);
    }

    [Fact]
    public void A_named_parse_is_sent_under_the_shared_server_name()
    {
        string sql = Unique("select $1::int");
        Harness h = new Harness().Attach();
        Assert.Equal(ClientStep.Continue, h.Feed(Parse("client_s1", sql, 23)));
        List<(char Type, byte[] Frame)> frames = Split(h.Written);
        ParseMessage parse = ParseMessage.Parse(Assert.Single(frames).Frame.AsSpan(5));
        Assert.StartsWith("lkp_", parse.StatementName, StringComparison.Ordinal);
        Assert.Equal(sql, parse.Query);
        Assert.Equal([23], parse.ParameterTypeOids);
        Assert.Equal("Parse", h.Staged);
        Assert.Contains(parse.StatementName, h.Mirror);
        Assert.True(h.Forwarder.HalfBatch);

        // Another client with its own name for the same statement, on the same connection: Edge answers.
        var other = new ClientMessageForwarder();
        var otherServer = new ArrayBufferWriter<byte>();
        other.Attach(otherServer, h.State);
        Assert.Equal(ClientStep.Continue, other.Process((byte)'P', Sequence(Parse("P_0", sql, 23))));
        Assert.Equal(0, otherServer.WrittenCount);
        Assert.Equal(ResponseKind.SyntheticParseComplete, other.Staged[0].Kind);

        // Different parameter types are a different statement.
        Assert.Equal(ClientStep.Continue, other.Process((byte)'P', Sequence(Parse("P_1", sql, 20))));
        Assert.NotEqual(parse.StatementName, ParseMessage.Parse(Split(otherServer.WrittenSpan.ToArray())[0].Frame.AsSpan(5)).StatementName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(9)]
    public void Bind_on_a_connection_without_the_statement_prepares_it_first(int split)
    {
        string sql = Unique("select $1");
        Harness h = new Harness().Attach();
        h.Feed(Parse("mine", sql));
        h.Feed(Sync);
        h.Forwarder.EndBatch();

        // Next transaction, another connection.
        h.Attach();
        Assert.Equal(ClientStep.Continue, h.Feed(Bind("mine", "portal1", "42", null), split));
        List<(char Type, byte[] Frame)> frames = Split(h.Written);
        Assert.Equal("PB", new string(frames.Select(f => f.Type).ToArray()));
        ParseMessage parse = ParseMessage.Parse(frames[0].Frame.AsSpan(5));
        BindMessage bind = BindMessage.Parse(frames[1].Frame.AsSpan(5));
        Assert.Equal(parse.StatementName, bind.StatementName);
        Assert.Equal("portal1", bind.PortalName);
        Assert.Equal("42", Encoding.UTF8.GetString(bind.ParameterValues[0]!));
        Assert.Null(bind.ParameterValues[1]);
        Assert.Equal("ParseSwallow,Bind", h.Staged);

        // Used again on the same connection: no second Parse.
        h.Feed(Describe('S', "mine"), split < 0 ? -1 : 2);
        Assert.Equal("PBD", Types(h.Written));
        Assert.Equal(parse.StatementName, DescribeMessage.Parse(Split(h.Written)[2].Frame.AsSpan(5)).Name);
    }

    [Fact]
    public void A_parse_of_a_statement_verified_on_the_cluster_needs_no_server_connection()
    {
        string sql = Unique("select $1");
        var h = new Harness();
        Assert.Equal(ClientStep.NeedServer, h.Feed(Parse("p", sql)));

        // Another session prepared it successfully on this cluster.
        var response = new ServerResponseForwarder();
        ServerStatement statement = ServerStatementRegistry.GetOrAdd([.. Encoding.UTF8.GetBytes(sql), 0, 0, 0]);
        response.Enqueue(new PendingResponse(ResponseKind.ParseSwallow, 0, new ParseTicket(statement, new ServerConnectionState(null, h.Cluster), null)));
        ReadOnlySequence<byte> buffer = Sequence(ParseComplete);
        response.Forward(ref buffer, new ArrayBufferWriter<byte>());
        Assert.Equal(h.Cluster, statement.VerifiedOn);

        Assert.Equal(ClientStep.Continue, h.Feed(Parse("p", sql)));
        Assert.Equal(ClientStep.Continue, h.Feed(Sync));
        Assert.Equal("SyntheticParseComplete,SyntheticReady", h.Staged);

        // Prepared for real when it is used.
        h.Attach();
        h.Feed(Bind("p"));
        Assert.Equal("PB", Types(h.Written));
    }

    [Fact]
    public void Closing_a_named_statement_is_answered_by_edge_and_forgets_the_name()
    {
        Harness h = new Harness().Attach();
        h.Feed(Parse("s", Unique("select 1")));
        int written = h.Server.WrittenCount;
        h.Feed(Close('S', "s"));
        Assert.Equal(written, h.Server.WrittenCount);
        Assert.Equal("Parse,SyntheticCloseComplete", h.Staged);

        // PostgreSQL's answer to a Bind of a missing statement, then everything up to Sync is ignored.
        h.Feed(Bind("s"));
        h.Feed(Execute());
        h.Feed(Sync);
        PgError error = Assert.Single(h.Errors);
        Assert.Equal("26000", error.SqlState);
        Assert.Equal("prepared statement \"s\" does not exist", error.Message);
        Assert.Equal("Parse,SyntheticCloseComplete,SyntheticFrame,Sync", h.Staged);
        Assert.Equal("PS", Types(h.Written));
        Assert.False(h.Forwarder.SkipUntilSync);
        Assert.False(h.Forwarder.HalfBatch);
    }

    [Fact]
    public void Parsing_an_existing_name_again_fails_like_postgresql()
    {
        Harness h = new Harness().Attach();
        h.Feed(Parse("dup", Unique("select 1")));
        h.Feed(Parse("dup", "select 2"));
        Assert.Equal("42P05", Assert.Single(h.Errors).SqlState);
        Assert.True(h.Forwarder.SkipUntilSync);
    }

    [Fact]
    public void Sync_without_a_server_connection_is_answered_by_edge()
    {
        var h = new Harness();
        h.Feed(Close('S', "never"));
        h.Feed(Sync);
        Assert.Equal("SyntheticCloseComplete,SyntheticReady", h.Staged);
        Assert.Equal(0, h.Forwarder.SyncPoints);

        h.Attach();
        h.Feed(Sync);
        Assert.Equal(1, h.Forwarder.SyncPoints);
        Assert.Equal("S", Types(h.Written));
    }

    [Fact]
    public void The_unnamed_statement_is_sent_again_when_bound_on_a_later_connection()
    {
        Harness h = new Harness().Attach();
        byte[] parse = Parse("", "select 7");
        h.Feed(parse);
        h.Feed(Bind(""));
        Assert.Equal("PB", Types(h.Written));

        h.Attach();
        h.Feed(Bind(""));
        h.Feed(Describe('S', ""));
        Assert.Equal("PBD", Types(h.Written));
        Assert.Equal(parse, Split(h.Written)[0].Frame);

        // A simple query destroys it on the server; the next Bind "" re-sends it even on the same connection.
        h.Feed(Query("select 1"));
        h.Feed(Bind(""));
        Assert.Equal("PBDQPB", Types(h.Written));
    }

    [Fact]
    public void Session_effects_are_recorded_for_the_sync_point()
    {
        Harness h = new Harness().Attach();
        h.Feed(Query("SET search_path TO app"));
        StatementEffects effects = Assert.Single(h.Forwarder.Staged[0].Effects!);
        Assert.Equal(SettingChangeKind.Set, Assert.Single(effects.Changes).Kind);
        Assert.Null(h.Forwarder.PinReason);

        h.Feed(Parse("", "create temp table t(a int)"));
        h.Feed(Bind(""));
        Assert.Contains("temporary", h.Forwarder.PinReason, StringComparison.Ordinal);

        h.Feed(Parse("", "set timezone = 'UTC'"));
        h.Feed(Bind(""));
        h.Feed(Execute());
        h.Feed(Sync);
        PendingResponse sync = h.Forwarder.Staged[h.Forwarder.Staged.Count - 1];
        Assert.Equal(ResponseKind.Sync, sync.Kind);
        Assert.Equal("timezone", Assert.Single(Assert.Single(sync.Effects!).Changes).Name);
    }

    [Fact]
    public void Copy_messages_go_to_the_server_only_when_one_is_attached()
    {
        var h = new Harness();
        Assert.Equal(ClientStep.Continue, h.Feed(CopyData("1\n")));
        Assert.Equal(ClientStep.Continue, h.Feed(CopyDone));
        Assert.Equal(0, h.Forwarder.Staged.Count);

        h.Attach();
        h.Feed(CopyData("1\n"));
        h.Feed(CopyDone);
        Assert.Equal("dc", Types(h.Written));
        Assert.Equal("CopyEnd", h.Staged);
    }

    [Fact]
    public void Hidden_queries_and_evictions_are_swallowed_sync_points()
    {
        Harness h = new Harness().Attach();
        h.Forwarder.StageHiddenQuery("SET x = 1");
        h.Forwarder.StageEvictions([ServerStatementRegistry.GetOrAdd([.. Encoding.UTF8.GetBytes(Unique("select 1")), 0, 0, 0])]);
        Assert.Equal("QCS", Types(h.Written));
        Assert.Equal("QuerySwallow,CloseSwallow,SyncSwallow", h.Staged);
        Assert.Equal(2, h.Forwarder.SyncPoints);
    }

    [Fact]
    public void A_failed_transaction_is_emulated_until_the_client_ends_it()
    {
        var h = new Harness();
        h.Forwarder.EmulatingFailedTransaction = true;
        h.Feed(Query("insert into t values (1)"));
        Assert.Equal("25P02", Assert.Single(h.Errors).SqlState);
        Assert.Equal((byte)'E', h.Forwarder.Staged[1].Status);
        h.Forwarder.EndBatch();

        // Extended protocol: anything but a transaction end fails up to Sync.
        h.Feed(Parse("", "select 1"));
        h.Feed(Bind(""));
        h.Feed(Sync);
        Assert.Equal("SyntheticFrame,SyntheticReady", h.Staged);
        Assert.Equal((byte)'E', h.Forwarder.Staged[1].Status);
        h.Forwarder.EndBatch();

        // pgjdbc-style ROLLBACK through the extended protocol.
        h.Feed(Parse("", "ROLLBACK"));
        h.Feed(Bind(""));
        h.Feed(Describe('P', ""));
        h.Feed(Execute());
        h.Feed(Sync);
        Assert.Equal("SyntheticParseComplete,SyntheticFrame,SyntheticFrame,SyntheticFrame,SyntheticReady", h.Staged);
        Assert.Equal((byte)'I', h.Forwarder.Staged[4].Status);
        Assert.False(h.Forwarder.EmulatingFailedTransaction);
    }

    [Fact]
    public void A_simple_rollback_ends_the_emulated_failed_transaction()
    {
        var h = new Harness();
        h.Forwarder.EmulatingFailedTransaction = true;
        h.Feed(Query(" rollback"));
        Assert.Equal("SyntheticFrame,SyntheticReady", h.Staged);
        Assert.Equal((byte)'C', h.Forwarder.Staged[0].Frame![0]);
        Assert.Equal((byte)'I', h.Forwarder.Staged[1].Status);
        Assert.False(h.Forwarder.EmulatingFailedTransaction);
    }

    [Fact]
    public void A_lost_connection_is_reported_at_the_next_request()
    {
        var h = new Harness();
        byte[] error = Error("08006", "lost");
        h.Forwarder.PendingError = error;
        h.Feed(Parse("", "select 1"));
        h.Feed(Bind(""));
        h.Feed(Sync);
        Assert.Equal("SyntheticFrame,SyntheticReady", h.Staged);
        Assert.Same(error, h.Forwarder.Staged[0].Frame);
        Assert.Null(h.Forwarder.PendingError);
    }

    [Fact]
    public void Terminate_ends_and_unknown_messages_are_protocol_errors()
    {
        var h = new Harness();
        Assert.Equal(ClientStep.Terminate, h.Feed([(byte)'X', 0, 0, 0, 4]));
        Assert.Throws<PgProtocolException>(() => h.Feed([(byte)'p', 0, 0, 0, 5, 0]));
        Assert.Throws<PgProtocolException>(() => h.Feed([(byte)'z', 0, 0, 0, 4]));
        h.Attach();
        Assert.Throws<PgProtocolException>(() => h.Feed([(byte)'Q', 0, 0, 0, 6, (byte)'a', (byte)'b']));
    }

    [Fact]
    public void A_failed_client_parse_forgets_the_clients_name()
    {
        Harness h = new Harness().Attach();
        h.Feed(Parse("bad", Unique("selec 1")));
        ParseTicket ticket = h.Forwarder.Staged[0].Ticket!;
        Assert.Equal(1, h.Forwarder.StatementCount);
        h.Forwarder.ForgetFailedParse(ticket);
        Assert.Equal(0, h.Forwarder.StatementCount);
    }
}
