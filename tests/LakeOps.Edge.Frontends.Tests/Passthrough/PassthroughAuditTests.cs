using System.Buffers;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

/// <summary>
/// The PostgreSQL passthrough's audit bookkeeping without sockets: client frames as the client loop sees
/// them, server answers as the pump reports them, records read back from the audit file.
/// </summary>
public sealed class PassthroughAuditTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edge-passthrough-audit-").FullName;
    private readonly AuditLog _log;
    private readonly PassthroughAudit _audit;

    public PassthroughAuditTests()
    {
        _log = new AuditLog(new AuditConfig { Enabled = true, Path = Path.Combine(_directory, "audit.jsonl"), IncludeSql = true });
        var group = new GroupConfig { Name = "pg", Clusters = ["pg1"] };
        var route = new RouteRequest { Protocol = "postgres", Listener = "main", User = "alice", Database = "sales", Application = "app" };
        _audit = new PassthroughAudit(_log, route, "127.0.0.1:4000", new RouteDecision(group, "database 'sales' is not a group; routing.default_group 'pg'"), new Placement());
    }

    public void Dispose()
    {
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class Placement : IAuditPlacement
    {
        public string GroupName => "pg";

        public string ClusterName => "pg1";
    }

    private static ReadOnlySequence<byte> Frame(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return new ReadOnlySequence<byte>(writer.WrittenMemory);
    }

    private void Client(Action<ArrayBufferWriter<byte>> write)
    {
        ReadOnlySequence<byte> frame = Frame(write);
        _audit.OnClientFrame(frame.FirstSpan[0], frame);
    }

    private void Complete(string tag) => _audit.OnCommandComplete(PgMessageTypes.CommandComplete, Frame(w => PgBackendWriter.WriteCommandComplete(w, tag)));

    private List<JsonElement> Records()
    {
        Assert.True(_log.Flush(TimeSpan.FromSeconds(10)));
        string path = Path.Combine(_directory, "audit.jsonl");
        return !File.Exists(path) ? [] : File.ReadAllLines(path).Select(line =>
        {
            using JsonDocument document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }).ToList();
    }

    private static string? Text(JsonElement record, string name) => record.GetProperty(name).GetString();

    [Fact]
    public void A_simple_query_is_one_record_with_the_rows_of_its_tag()
    {
        Client(w => PgFrontendWriter.WriteQuery(w, "select * from orders where id = 7"));
        Complete("SELECT 3");
        _audit.OnReady();

        JsonElement record = Assert.Single(Records());
        Assert.Equal("select * from orders where id = 7", Text(record, "sql"));
        Assert.Equal("select", Text(record, "statement_kind"));
        Assert.Equal(3, record.GetProperty("rows").GetInt64());
        Assert.Equal("ok", Text(record, "outcome"));
        Assert.Equal("fallback", Text(record, "rule"));
        Assert.Equal("pg", Text(record, "group"));
        Assert.Equal("pg1", Text(record, "cluster"));
        Assert.Equal("alice", Text(record, "user"));
        Assert.Equal("127.0.0.1:4000", Text(record, "client_address"));
        Assert.Equal(LakeOps.Edge.Sql.SqlFingerprint.Compute("select * from orders where id = 8").ToString("x16", System.Globalization.CultureInfo.InvariantCulture), Text(record, "fingerprint"));
    }

    [Fact]
    public void An_extended_batch_up_to_sync_is_one_record_described_by_its_parse()
    {
        Client(w => PgFrontendWriter.WriteParse(w, "", "insert into orders values ($1)", [23]));
        Client(w => PgFrontendWriter.WriteBind(w, "", "", [], [[0, 0, 0, 1]], []));
        Client(w => PgFrontendWriter.WriteDescribe(w, 'P', ""));
        Client(w => PgFrontendWriter.WriteExecute(w, "", 0));
        Client(PgFrontendWriter.WriteSync);
        Complete("INSERT 0 1");
        _audit.OnReady();

        JsonElement record = Assert.Single(Records());
        Assert.Equal("insert", Text(record, "statement_kind"));
        Assert.Equal("insert into orders values ($1)", Text(record, "sql"));
        Assert.Equal(1, record.GetProperty("rows").GetInt64());
    }

    [Fact]
    public void A_bind_of_a_named_statement_is_described_by_the_statement_it_names()
    {
        Client(w => PgFrontendWriter.WriteParse(w, "s1", "update orders set state = $1", [25]));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();
        Client(w => PgFrontendWriter.WriteParse(w, "s2", "delete from orders", []));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();

        Client(w => PgFrontendWriter.WriteBind(w, "", "s1", [], [[(byte)'x']], []));
        Client(w => PgFrontendWriter.WriteExecute(w, "", 0));
        Client(PgFrontendWriter.WriteSync);
        Complete("UPDATE 12");
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(3, records.Count);
        Assert.Equal("update", Text(records[2], "statement_kind"));
        Assert.Equal("update orders set state = $1", Text(records[2], "sql"));
        Assert.Equal(12, records[2].GetProperty("rows").GetInt64());
    }

    [Fact]
    public void A_closed_named_statement_is_forgotten_and_the_others_are_kept()
    {
        Client(w => PgFrontendWriter.WriteParse(w, "s1", "update orders set state = $1", [25]));
        Client(w => PgFrontendWriter.WriteParse(w, "s2", "delete from orders", []));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();
        Client(w => PgFrontendWriter.WriteClose(w, 'S', "s1"));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();

        // A Bind of the closed name (the server refuses it) is no longer described by its old text.
        Client(w => PgFrontendWriter.WriteBind(w, "", "s1", [], [[(byte)'x']], []));
        Client(w => PgFrontendWriter.WriteExecute(w, "", 0));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnError("26000");
        _audit.OnReady();

        Client(w => PgFrontendWriter.WriteBind(w, "", "s2", [], [], []));
        Client(w => PgFrontendWriter.WriteExecute(w, "", 0));
        Client(PgFrontendWriter.WriteSync);
        Complete("DELETE 4");
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(4, records.Count);
        Assert.Equal("utility", Text(records[2], "statement_kind"));
        Assert.True(!records[2].TryGetProperty("sql", out JsonElement sql) || sql.ValueKind == JsonValueKind.Null, records[2].ToString());
        Assert.Equal("26000", Text(records[2], "sqlstate"));
        Assert.Equal("delete", Text(records[3], "statement_kind"));
        Assert.Equal("delete from orders", Text(records[3], "sql"));
    }

    [Fact]
    public void Discarding_every_statement_forgets_every_name()
    {
        Client(w => PgFrontendWriter.WriteParse(w, "s1", "delete from orders", []));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();
        _audit.ClearStatements();

        Client(w => PgFrontendWriter.WriteBind(w, "", "s1", [], [], []));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(2, records.Count);
        Assert.Equal("utility", Text(records[1], "statement_kind"));
        Assert.True(!records[1].TryGetProperty("sql", out JsonElement sql) || sql.ValueKind == JsonValueKind.Null, records[1].ToString());
    }

    [Fact]
    public void Errors_record_their_sqlstate_and_cancels_count_as_cancelled()
    {
        Client(w => PgFrontendWriter.WriteQuery(w, "select * from missing"));
        _audit.OnError(SqlStates.UndefinedTable);
        _audit.OnReady();
        Client(w => PgFrontendWriter.WriteQuery(w, "select pg_sleep(10)"));
        _audit.OnError(SqlStates.QueryCanceled);
        _audit.OnReady();

        // Edge's own answer (no server connection): its ErrorResponse counts, other frames do not.
        Client(w => PgFrontendWriter.WriteQuery(w, "select 1"));
        _audit.OnEdgeFrame([PgMessageTypes.BindComplete, 0, 0, 0, 4]);
        _audit.OnEdgeFrame(ClientMessageForwarder.ErrorFrame(SqlStates.ConnectionFailure, "cannot connect"));
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(3, records.Count);
        Assert.Equal("error", Text(records[0], "outcome"));
        Assert.Equal("42P01", Text(records[0], "sqlstate"));
        Assert.Equal(-1, records[0].GetProperty("rows").GetInt64());
        Assert.Equal("cancelled", Text(records[1], "outcome"));
        Assert.Equal("57014", Text(records[1], "sqlstate"));
        Assert.Equal("error", Text(records[2], "outcome"));
        Assert.Equal("08006", Text(records[2], "sqlstate"));
    }

    [Fact]
    public void Pipelined_requests_complete_in_order_with_their_own_rows()
    {
        Client(w => PgFrontendWriter.WriteQuery(w, "select 1; select 2"));
        Client(w => PgFrontendWriter.WriteQuery(w, "create table t (a int)"));
        Complete("SELECT 1");
        Complete("SELECT 1");
        _audit.OnReady();
        Complete("CREATE TABLE");
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(2, records.Count);
        Assert.Equal("select 1; select 2", Text(records[0], "sql"));
        Assert.Equal(2, records[0].GetProperty("rows").GetInt64());
        Assert.Equal("ddl", Text(records[1], "statement_kind"));
        Assert.Equal(-1, records[1].GetProperty("rows").GetInt64());
        Assert.True(records[0].GetProperty("query_id").GetInt64() < records[1].GetProperty("query_id").GetInt64());
    }

    [Fact]
    public void Without_statement_text_a_request_allocates_nothing()
    {
        using var log = new AuditLog(new AuditConfig { Enabled = true, Path = Path.Combine(_directory, "quiet.jsonl"), BufferSize = 1 << 16 });
        var route = new RouteRequest { Protocol = "postgres", Listener = "main", User = "alice", Database = "sales", Application = "app" };
        var audit = new PassthroughAudit(log, route, "127.0.0.1:4000", default, new Placement());
        ReadOnlySequence<byte> query = Frame(w => PgFrontendWriter.WriteQuery(w, "select * from orders where id = 7 and state in ('a', 'b')"));
        ReadOnlySequence<byte> parse = Frame(w => PgFrontendWriter.WriteParse(w, "", "update orders set state = $1 where id = $2", []));
        ReadOnlySequence<byte> bind = Frame(w => PgFrontendWriter.WriteBind(w, "", "", [], [], []));
        ReadOnlySequence<byte> execute = Frame(w => PgFrontendWriter.WriteExecute(w, "", 0));
        ReadOnlySequence<byte> sync = Frame(PgFrontendWriter.WriteSync);
        ReadOnlySequence<byte> complete = Frame(w => PgBackendWriter.WriteCommandComplete(w, "SELECT 3"));

        void Round()
        {
            audit.OnClientFrame(PgMessageTypes.Query, query);
            audit.OnCommandComplete(PgMessageTypes.CommandComplete, complete);
            audit.OnReady();
            audit.OnClientFrame(PgMessageTypes.Parse, parse);
            audit.OnClientFrame(PgMessageTypes.Bind, bind);
            audit.OnClientFrame(PgMessageTypes.Execute, execute);
            audit.OnClientFrame(PgMessageTypes.Sync, sync);
            audit.OnCommandComplete(PgMessageTypes.CommandComplete, complete);
            audit.OnReady();
        }

        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Round();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(log.Flush(TimeSpan.FromSeconds(10)));
        Assert.Equal(202, log.Written);
    }

    [Fact]
    public void A_sync_the_server_never_answers_merges_into_the_next_answer()
    {
        // COPY FROM STDIN in the extended protocol: the Sync after Execute is ignored by the server.
        Client(w => PgFrontendWriter.WriteParse(w, "", "copy orders from stdin", []));
        Client(w => PgFrontendWriter.WriteBind(w, "", "", [], [], []));
        Client(w => PgFrontendWriter.WriteExecute(w, "", 0));
        Client(PgFrontendWriter.WriteSync);
        _audit.OnDropped();
        Client(PgFrontendWriter.WriteSync);
        Complete("COPY 5");
        _audit.OnReady();
        Client(w => PgFrontendWriter.WriteQuery(w, "select 'next'"));
        Complete("SELECT 1");
        _audit.OnReady();

        List<JsonElement> records = Records();
        Assert.Equal(2, records.Count);
        Assert.Equal("copy orders from stdin", Text(records[0], "sql"));
        Assert.Equal(5, records[0].GetProperty("rows").GetInt64());
        Assert.Equal("select 'next'", Text(records[1], "sql"));
    }
}
