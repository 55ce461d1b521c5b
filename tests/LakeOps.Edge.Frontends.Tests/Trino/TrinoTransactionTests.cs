using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>
/// Explicit transactions and the session schema on the Trino front door, in process: a real DuckDB engine, a real
/// PostgreSQL server (<see cref="PostgresTestServer"/>) and the fake coordinator for the Trino passthrough.
/// </summary>
public sealed class TrinoTransactionTests : IAsyncLifetime
{
    private HttpClient _http = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private PostgresTestServer _postgres = null!;
    private EdgeConfig _config = null!;
    private EngineRegistry _registry = null!;
    private IEngineProvider _engines = null!;
    private readonly FakeTransactionalCoordinator _coordinator = new();
    private TrinoFrontDoor _door = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        _config = Load("30s");
        _registry = await EngineRegistry.StartAsync(_config);
        _engines = new Engines(_registry, _coordinator);
        _door = Start(_config);
    }

    public async Task DisposeAsync()
    {
        await _door.DisposeAsync();
        await _registry.DisposeAsync();
        _http.Dispose();
    }

    private EdgeConfig Load(string clientTimeout, int maxConnections = 10)
    {
        string yaml = $$"""
            listeners:
              t:
                protocol: trino
                address: 127.0.0.1:{{FreePort()}}
                auth: trust
                limits:
                  max_connections: {{maxConnections}}
                  client_timeout: {{clientTimeout}}
            clusters:
              duckdb:
                engine: duckdb
              pg:
                engine: postgres
                postgres:
                  host: {{_postgres.Host}}
                  port: {{_postgres.Port}}
                  user: {{_postgres.User}}
                  password: "{{_postgres.Password}}"
                  database: {{_postgres.Database}}
                pool:
                  max_size: 8
              coordinator:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
              pgroup:
                clusters: [pg]
              trino:
                clusters: [coordinator]
              one:
                clusters: [duckdb]
                admission: { max_running: 1, overflow: reject }
            routing:
              default_group: local
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config!;
    }

    private TrinoFrontDoor Start(EdgeConfig config)
    {
        var store = new ConfigStore(config);
        var door = new TrinoFrontDoor(config.Listeners[0], store, _engines) { Admission = new LakeOps.Edge.Routing.Admission.AdmissionGates(store) };
        door.Start();
        return door;
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Engines(EngineRegistry registry, FakeTransactionalCoordinator coordinator, IEngine? duckdb = null) : IEngineProvider
    {
        public IEngine? Find(string clusterName) => clusterName == "coordinator" ? coordinator : clusterName == "duckdb" && duckdb is not null ? duckdb : registry.Find(clusterName);
    }

    /// <summary>An engine that counts the sessions it opened.</summary>
    private sealed class CountingEngine(IEngine inner) : IEngine
    {
        private int _opened;

        public int Opened => Volatile.Read(ref _opened);

        public string ClusterName => inner.ClusterName;

        public SqlDialect Dialect => inner.Dialect;

        public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _opened);
            return inner.OpenSessionAsync(options, cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>What a client sees of one statement: the POST's response headers and the last page.</summary>
    private sealed record Outcome(HttpResponseMessage First, JsonElement Last)
    {
        public string State => Last.GetProperty("stats").GetProperty("state").GetString()!;

        public string? ErrorName => Last.TryGetProperty("error", out JsonElement error) ? error.GetProperty("errorName").GetString() : null;

        public string Data => Last.TryGetProperty("data", out JsonElement data) ? data.GetRawText() : "";

        public string? Header(string name) => First.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.Single() : null;
    }

    private async Task<(HttpResponseMessage Response, JsonElement Page)> PostAsync(TrinoFrontDoor door, string sql, string? catalog, string? transaction, string? schema, string user, string schemaHeader = "X-Trino-Schema")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, door.Endpoint + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", user);
        if (catalog is not null)
        {
            request.Headers.Add("X-Trino-Catalog", catalog);
        }

        if (transaction is not null)
        {
            request.Headers.Add("X-Trino-Transaction-Id", transaction);
        }

        if (schema is not null)
        {
            request.Headers.Add(schemaHeader, schema);
        }

        HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response, page);
    }

    private async Task<JsonElement> FollowAsync(JsonElement page, string user = "edge")
    {
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next.GetString());
            request.Headers.Add("X-Trino-User", user);
            using HttpResponseMessage response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        return page;
    }

    private Task<Outcome> RunAsync(string sql, string? catalog = null, string? transaction = null, string? schema = null, string user = "edge", string schemaHeader = "X-Trino-Schema") =>
        RunOnAsync(_door, sql, catalog, transaction, schema, user, schemaHeader);

    private async Task<Outcome> RunOnAsync(TrinoFrontDoor door, string sql, string? catalog = null, string? transaction = null, string? schema = null, string user = "edge", string schemaHeader = "X-Trino-Schema")
    {
        (HttpResponseMessage response, JsonElement page) = await PostAsync(door, sql, catalog, transaction, schema, user, schemaHeader);
        return new Outcome(response, await FollowAsync(page, user));
    }

    private async Task<Outcome> RunOkAsync(string sql, string? catalog = null, string? transaction = null, string? schema = null)
    {
        Outcome outcome = await RunAsync(sql, catalog, transaction, schema);
        Assert.True(outcome.State == "FINISHED", $"{sql}: {outcome.Last.GetRawText()}");
        return outcome;
    }

    private async Task<string> StartAsync(string? catalog = null, string sql = "START TRANSACTION", string? schema = null, TrinoFrontDoor? door = null)
    {
        Outcome started = await RunOnAsync(door ?? _door, sql, catalog, schema: schema);
        Assert.True(started.State == "FINISHED", started.Last.GetRawText());
        Assert.Equal("START TRANSACTION", started.Last.GetProperty("updateType").GetString());
        string id = started.Header("X-Trino-Started-Transaction-Id")!;
        Assert.Matches("^[0-9a-f]{32}$", id);
        return id;
    }

    [Fact]
    public async Task Duckdb_commit_keeps_rows_and_rollback_discards_them()
    {
        string table = "dtx_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a INTEGER)");

        string id = await StartAsync();
        Assert.Equal(1, _door.OpenTransactions);
        Assert.Equal("INSERT", (await RunOkAsync($"INSERT INTO {table} VALUES (1)", transaction: id)).Last.GetProperty("updateType").GetString());
        Assert.Equal("[[1]]", (await RunOkAsync($"SELECT count(*) FROM {table}", transaction: id)).Data);
        Outcome rollback = await RunOkAsync("ROLLBACK", transaction: id);
        Assert.Equal("true", rollback.Header("X-Trino-Clear-Transaction-Id"));
        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}")).Data);

        id = await StartAsync();
        await RunOkAsync($"INSERT INTO {table} VALUES (2)", transaction: id);
        Outcome commit = await RunOkAsync("COMMIT", transaction: id);
        Assert.Equal("true", commit.Header("X-Trino-Clear-Transaction-Id"));
        Assert.Equal("COMMIT", commit.Last.GetProperty("updateType").GetString());
        Assert.Equal("[[2]]", (await RunOkAsync($"SELECT a FROM {table}")).Data);
        Assert.Equal(0, _door.OpenTransactions);
    }

    [Fact]
    public async Task Postgres_rows_of_an_open_transaction_are_invisible_to_other_queries_until_commit()
    {
        string table = "ptx_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a integer)", "pgroup");

        string id = await StartAsync("pgroup");
        await RunOkAsync($"INSERT INTO {table} VALUES (1)", "pgroup", id);
        Assert.Equal("[[1]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup", id)).Data);
        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup")).Data);
        await RunOkAsync("COMMIT", "pgroup", id);
        Assert.Equal("[[1]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup")).Data);

        id = await StartAsync("pgroup");
        await RunOkAsync($"DELETE FROM {table}", "pgroup", id);
        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup", id)).Data);
        await RunOkAsync("ROLLBACK", "pgroup", id);
        Assert.Equal("[[1]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup")).Data);
        await RunOkAsync($"DROP TABLE {table}", "pgroup");
    }

    [Fact]
    public async Task Postgres_read_only_transaction_refuses_writes_and_is_aborted_then()
    {
        string table = "pro_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a integer)", "pgroup");
        string id = await StartAsync("pgroup", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        Assert.Equal("[[\"serializable\"]]", (await RunOkAsync("SHOW transaction_isolation", "pgroup", id)).Data);

        Outcome write = await RunAsync($"INSERT INTO {table} VALUES (1)", "pgroup", id);
        Assert.Equal("FAILED", write.State);
        Assert.Contains("read-only", write.Last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        // Trino: a failed query fails the transaction; later queries are refused until it ends.
        Assert.Equal("TRANSACTION_ALREADY_ABORTED", (await RunAsync("SELECT 1", "pgroup", id)).ErrorName);
        Outcome commit = await RunAsync("COMMIT", "pgroup", id);
        Assert.Equal("TRANSACTION_ALREADY_ABORTED", commit.ErrorName);
        Assert.Equal("true", commit.Header("X-Trino-Clear-Transaction-Id"));
        Assert.Equal(0, _door.OpenTransactions);
        await RunOkAsync($"DROP TABLE {table}", "pgroup");
    }

    [Fact]
    public async Task Failed_query_aborts_the_transaction_and_its_rows_are_gone()
    {
        string table = "dab_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a INTEGER)");
        string id = await StartAsync();
        await RunOkAsync($"INSERT INTO {table} VALUES (1)", transaction: id);
        Assert.Equal("FAILED", (await RunAsync("SELECT * FROM no_such_table", transaction: id)).State);
        Outcome refused = await RunAsync($"SELECT count(*) FROM {table}", transaction: id);
        Assert.Equal("TRANSACTION_ALREADY_ABORTED", refused.ErrorName);
        Assert.Equal(22, refused.Last.GetProperty("error").GetProperty("errorCode").GetInt32());

        Outcome rollback = await RunOkAsync("ROLLBACK", transaction: id);
        Assert.Equal("true", rollback.Header("X-Trino-Clear-Transaction-Id"));
        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}")).Data);
    }

    [Fact]
    public async Task Unknown_foreign_and_missing_transaction_ids_are_trino_errors()
    {
        Outcome unknown = await RunAsync("SELECT 1", transaction: "00000000000000000000000000000000");
        Assert.Equal("UNKNOWN_TRANSACTION", unknown.ErrorName);
        Assert.Equal(20, unknown.Last.GetProperty("error").GetProperty("errorCode").GetInt32());

        string id = await StartAsync();
        Assert.Equal("UNKNOWN_TRANSACTION", (await RunAsync("SELECT 1", transaction: id, user: "mallory")).ErrorName);
        Assert.Equal("UNKNOWN_TRANSACTION", (await RunAsync("COMMIT", transaction: id, user: "mallory")).ErrorName);
        Assert.Equal("NOT_SUPPORTED", (await RunAsync("START TRANSACTION", transaction: id)).ErrorName);
        Assert.Equal("NOT_IN_TRANSACTION", (await RunAsync("COMMIT")).ErrorName);
        Assert.Equal("SYNTAX_ERROR", (await RunAsync("START TRANSACTION ISOLATION LEVEL CHAOS")).ErrorName);

        // The owner's transaction survived the foreign attempts.
        Assert.Equal("[[1]]", (await RunOkAsync("SELECT 1", transaction: id)).Data);
        await RunOkAsync("COMMIT", transaction: id);
        Outcome gone = await RunAsync("ROLLBACK", transaction: id);
        Assert.Equal("UNKNOWN_TRANSACTION", gone.ErrorName);
        Assert.Equal("true", gone.Header("X-Trino-Clear-Transaction-Id"));
    }

    [Fact]
    public async Task Second_query_while_one_runs_in_the_transaction_is_refused()
    {
        string id = await StartAsync();
        (HttpResponseMessage response, JsonElement slow) = await PostAsync(_door, "SELECT count(*) FROM range(300000) a, range(300000) b", null, id, null, "edge");
        response.Dispose();
        Assert.True(slow.TryGetProperty("nextUri", out JsonElement next));

        Outcome second = await RunAsync("SELECT 1", transaction: id);
        Assert.Equal("NOT_SUPPORTED", second.ErrorName);
        Assert.Contains("one at a time", second.Last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("NOT_SUPPORTED", (await RunAsync("COMMIT", transaction: id)).ErrorName);

        // Cancelling the running query fails it, and with it the transaction.
        using (var cancel = new HttpRequestMessage(HttpMethod.Delete, next.GetString()))
        {
            cancel.Headers.Add("X-Trino-User", "edge");
            using HttpResponseMessage cancelled = await _http.SendAsync(cancel);
            Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        }

        Assert.Equal("TRANSACTION_ALREADY_ABORTED", (await RunAsync("SELECT 1", transaction: id)).ErrorName);
        await RunOkAsync("ROLLBACK", transaction: id);
        Assert.Equal(0, _door.OpenTransactions);
    }

    [Fact]
    public async Task Abandoned_transaction_is_rolled_back_after_client_timeout()
    {
        string table = "dsw_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a INTEGER)");
        EdgeConfig config = Load("1s");
        await using TrinoFrontDoor door = Start(config);
        string id = await StartAsync(door: door);
        Outcome insert = await RunOnAsync(door, $"INSERT INTO {table} VALUES (1)", transaction: id);
        Assert.Equal("FINISHED", insert.State);
        Assert.Equal(1, door.OpenTransactions);

        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        int swept = 0;
        while (door.OpenTransactions > 0 && DateTime.UtcNow < deadline)
        {
            swept += await door.SweepAbandonedTransactionsAsync();
            await Task.Delay(100);
        }

        Assert.Equal(0, door.OpenTransactions);
        Assert.Equal("UNKNOWN_TRANSACTION", (await RunOnAsync(door, "SELECT 1", transaction: id)).ErrorName);
        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}")).Data);
    }

    [Fact]
    public async Task Stopping_the_listener_rolls_back_open_transactions()
    {
        string table = "dst_" + _suffix;
        await RunOkAsync($"CREATE TABLE {table}(a INTEGER)", "pgroup");
        TrinoFrontDoor door = Start(Load("30s"));
        string id = await StartAsync("pgroup", door: door);
        Assert.Equal("FINISHED", (await RunOnAsync(door, $"INSERT INTO {table} VALUES (1)", "pgroup", id)).State);
        await door.DisposeAsync();

        Assert.Equal("[[0]]", (await RunOkAsync($"SELECT count(*) FROM {table}", "pgroup")).Data);
        await RunOkAsync($"DROP TABLE {table}", "pgroup");
    }

    [Fact]
    public async Task Transaction_takes_an_admission_slot_per_statement_not_for_its_life()
    {
        // Group 'one' runs one statement at a time and rejects the next: an idle open transaction holds no slot.
        string id = await StartAsync("one");
        Assert.Equal("[[1]]", (await RunOkAsync("SELECT 1", "one", id)).Data);
        Assert.Equal("[[2]]", (await RunOkAsync("SELECT 2", "one")).Data);
        Assert.Equal("[[3]]", (await RunOkAsync("SELECT 3", "one", id)).Data);
        await RunOkAsync("COMMIT", "one", id);
    }

    [Fact]
    public async Task Trino_cluster_transactions_run_in_the_coordinators_transaction()
    {
        string id = await StartAsync("trino", "START TRANSACTION READ ONLY");
        (string startSql, string? startTransaction) = _coordinator.Submits[^1];
        Assert.Equal("START TRANSACTION READ ONLY", startSql);
        Assert.Null(startTransaction);
        Assert.DoesNotContain("coord", id, StringComparison.Ordinal);

        Assert.Equal("[[1]]", (await RunOkAsync("SELECT x FROM t", "trino", id)).Data);
        Assert.Equal(("SELECT x FROM t", "coord-tx-1"), _coordinator.Submits[^1]);
        Outcome commit = await RunOkAsync("COMMIT", "trino", id);
        Assert.Equal("true", commit.Header("X-Trino-Clear-Transaction-Id"));
        Assert.Equal(("COMMIT", "coord-tx-1"), _coordinator.Submits[^1]);
        Assert.Equal(0, _door.OpenTransactions);

        // A failed query fails the transaction: Edge rolls it back on the coordinator and refuses later queries.
        id = await StartAsync("trino");
        Outcome failed = await RunAsync("FAIL please", "trino", id);
        Assert.Equal("SYNTAX_ERROR", failed.ErrorName);
        Assert.Equal(("ROLLBACK", "coord-tx-2"), _coordinator.Submits[^1]);
        Assert.Equal("TRANSACTION_ALREADY_ABORTED", (await RunAsync("SELECT x FROM t", "trino", id)).ErrorName);
        int submits = _coordinator.Submits.Count;
        await RunOkAsync("ROLLBACK", "trino", id);
        Assert.Equal(submits, _coordinator.Submits.Count);

        // The coordinator's own errors for COMMIT reach the client as it wrote them.
        id = await StartAsync("trino");
        _coordinator.FailNextCommit = true;
        Outcome refused = await RunAsync("COMMIT", "trino", id);
        Assert.Equal("TRANSACTION_CONFLICT", refused.ErrorName);
        Assert.Equal("true", refused.Header("X-Trino-Clear-Transaction-Id"));

        // Stopping the listener rolls back an open one on the coordinator.
        TrinoFrontDoor door = Start(Load("30s"));
        await StartAsync("trino", door: door);
        await door.DisposeAsync();
        Assert.Equal(("ROLLBACK", "coord-tx-4"), _coordinator.Submits[^1]);
    }

    [Fact]
    public async Task Duckdb_runs_queries_in_the_client_schema()
    {
        string schema = "sch_" + _suffix;
        await RunOkAsync($"CREATE SCHEMA {schema}");
        await RunOkAsync($"CREATE TABLE {schema}.items(a INTEGER)");
        await RunOkAsync($"INSERT INTO {schema}.items VALUES (7)");

        Assert.Equal("[[7]]", (await RunOkAsync("SELECT a FROM items", schema: schema)).Data);
        Assert.Equal("[[7]]", (await RunAsync("SELECT a FROM items", schema: schema, schemaHeader: "X-Presto-Schema")).Data);
        Assert.Equal("FAILED", (await RunAsync("SELECT a FROM items")).State);

        // As in Trino (and for clients that always send "default"): a missing schema matters only to names it should resolve.
        string absent = "no_such_schema_" + _suffix;
        Assert.Equal("[[1]]", (await RunOkAsync("SELECT 1", schema: absent)).Data);
        Outcome missing = await RunAsync("SELECT a FROM items", schema: absent);
        Assert.Equal("SCHEMA_NOT_FOUND", missing.ErrorName);
        Assert.Equal(45, missing.Last.GetProperty("error").GetProperty("errorCode").GetInt32());
        Assert.Contains(absent, missing.Last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_runs_queries_in_the_client_schema_also_inside_a_transaction()
    {
        string schema = "psch_" + _suffix;
        await RunOkAsync($"CREATE SCHEMA {schema}", "pgroup");
        await RunOkAsync($"CREATE TABLE {schema}.items(a integer)", "pgroup");

        string id = await StartAsync("pgroup", schema: schema);
        await RunOkAsync("INSERT INTO items VALUES (5)", "pgroup", id, schema);
        await RunOkAsync("COMMIT", "pgroup", id, schema);
        Assert.Equal("[[5]]", (await RunOkAsync("SELECT a FROM items", "pgroup", schema: schema)).Data);
        Assert.Equal("[[5]]", (await RunOkAsync($"SELECT a FROM {schema}.items", "pgroup")).Data);

        // As in Trino: a missing schema matters only to names it should resolve.
        string missing = "no_such_schema_" + _suffix;
        Assert.Equal("[[1]]", (await RunOkAsync("SELECT 1", "pgroup", schema: missing)).Data);
        Assert.Equal("SCHEMA_NOT_FOUND", (await RunAsync("SELECT a FROM items", "pgroup", schema: missing)).ErrorName);
        Assert.Equal("FAILED", (await RunAsync("SELECT a FROM no_such_table", "pgroup", schema: schema)).State);
        Assert.NotEqual("SCHEMA_NOT_FOUND", (await RunAsync("SELECT a FROM no_such_table", "pgroup", schema: schema)).ErrorName);
        await RunOkAsync($"DROP SCHEMA {schema} CASCADE", "pgroup");
    }

    [Fact]
    public async Task Statements_sent_the_moment_the_last_page_arrives_find_the_transaction_free()
    {
        // The last page of a transaction's query is sent only after the query let go of the transaction: a client that
        // sends its next statement (or COMMIT / ROLLBACK) at once must never see "running another query". Repeated to
        // make the race of the old order (page first, release after) show. Each request on a new connection: on a kept-alive
        // one the server would read the next request only after the previous one's handler ended.
        using var closing = new HttpClient();
        closing.DefaultRequestHeaders.ConnectionClose = true;
        HttpClient kept = _http;
        _http = closing;
        string table = "drc_" + _suffix;
        foreach (string? catalog in new[] { null, "pgroup" })
        {
            await RunOkAsync($"CREATE TABLE {table}(a INTEGER)", catalog);
            for (int i = 0; i < 25; i++)
            {
                string id = await StartAsync(catalog);
                await RunOkAsync($"INSERT INTO {table} VALUES ({i})", catalog, id);
                await RunOkAsync($"SELECT count(*) FROM {table}", catalog, id);
                await RunOkAsync("COMMIT", catalog, id);

                // A failed query: the transaction is rolled back before the client has the FAILED page.
                id = await StartAsync(catalog);
                Assert.Equal("FAILED", (await RunAsync("SELECT * FROM no_such_table", catalog, id)).State);
                Assert.Equal("TRANSACTION_ALREADY_ABORTED", (await RunAsync("SELECT 1", catalog, id)).ErrorName);
                await RunOkAsync("ROLLBACK", catalog, id);
            }

            Assert.Equal("[[25]]", (await RunOkAsync($"SELECT count(*) FROM {table}", catalog)).Data);
            await RunOkAsync($"DROP TABLE {table}", catalog);
        }

        _http = kept;
        Assert.Equal(0, _door.OpenTransactions);
    }

    [Fact]
    public async Task A_late_cancel_neither_fails_a_finished_query_nor_interrupts_the_transactions_session()
    {
        await using var session = new RecordingSession(await _registry.Find("duckdb")!.OpenSessionAsync(new EngineSessionOptions("edge", "local", ""), CancellationToken.None));
        var transaction = new TrinoTransaction("edge", new GroupEngine(_config.Groups["local"], "duckdb", _registry.Find("duckdb")!, session));
        var services = new TrinoServices(new ConfigStore(_config), _engines, new LakeOps.Edge.Routing.Balancing.ClusterPicker(new LakeOps.Edge.Routing.Health.ClusterHealthRegistry()), null, null);
        Assert.Equal(TrinoTransactionEntry.Entered, transaction.TryEnter());
        var query = new TrinoQuery(services, new LakeOps.Edge.Routing.RouteRequest { Protocol = "trino", User = "edge" }, "SELECT 42", "test") { Transaction = transaction };
        await query.Start();
        Assert.True(query.ReturnsRows);
        query.Finish();
        await query.ReleaseAsync();
        Assert.False(transaction.IsBusy);

        // A DELETE that comes after the last page: it must not turn the query into a failure nor cancel the session,
        // which belongs to the transaction (and may run its next query by now).
        query.Fail(TrinoError.UserCanceled("Query was canceled"));
        query.Cancel();
        Assert.Equal(TrinoQueryStates.Finished, query.State);
        Assert.Null(query.Error);
        Assert.Equal(0, session.Cancels);
        Assert.False(transaction.IsAborted);
        await query.DisposeAsync();
        await transaction.DisposeAsync();
    }

    [Fact]
    public async Task A_transaction_that_never_began_is_closed_without_rollback_and_one_that_began_is_rolled_back()
    {
        await using var session = new RecordingSession(await _registry.Find("duckdb")!.OpenSessionAsync(new EngineSessionOptions("edge", "local", ""), CancellationToken.None));
        await new TrinoTransaction("edge", new GroupEngine(_config.Groups["local"], "duckdb", _registry.Find("duckdb")!, session)).DisposeAsync();
        Assert.Empty(session.Statements);

        await using var begun = new RecordingSession(await _registry.Find("duckdb")!.OpenSessionAsync(new EngineSessionOptions("edge", "local", ""), CancellationToken.None));
        var transaction = new TrinoTransaction("edge", new GroupEngine(_config.Groups["local"], "duckdb", _registry.Find("duckdb")!, begun));
        await transaction.BeginAsync(TrinoTransactionModes.Default, CancellationToken.None);
        await transaction.DisposeAsync();
        Assert.Equal(["BEGIN TRANSACTION", "ROLLBACK"], begun.Statements);
    }

    [Fact]
    public async Task Start_transaction_on_a_full_listener_opens_no_engine_session()
    {
        var counting = new CountingEngine(_registry.Find("duckdb")!);
        EdgeConfig config = Load("30s", maxConnections: 1);
        var store = new ConfigStore(config);
        await using var door = new TrinoFrontDoor(config.Listeners[0], store, new Engines(_registry, _coordinator, counting));
        door.Start();

        string id = await StartAsync(door: door);
        Assert.Equal(1, counting.Opened);
        Outcome refused = await RunOnAsync(door, "START TRANSACTION");
        Assert.Equal("QUERY_QUEUE_FULL", refused.ErrorName);
        Assert.Equal(1, counting.Opened);
        Assert.Equal(1, door.OpenTransactions);
        await RunOnAsync(door, "ROLLBACK", transaction: id);
        Assert.Equal(0, door.OpenTransactions);
    }

    [Theory]
    [InlineData("START TRANSACTION", null, null)]
    [InlineData("start  transaction read only;", null, true)]
    [InlineData("START TRANSACTION ISOLATION LEVEL repeatable   read, READ WRITE", "REPEATABLE READ", false)]
    [InlineData("START TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE", "SERIALIZABLE", true)]
    public void Transaction_modes_parse(string sql, string? isolation, bool? readOnly)
    {
        TrinoTransactionModes modes = TrinoTransactionModes.Parse(sql)!;
        Assert.Equal(isolation, modes.IsolationLevel);
        Assert.Equal(readOnly, modes.ReadOnly);
    }

    [Theory]
    [InlineData("START TRANSACTION ISOLATION LEVEL CHAOS")]
    [InlineData("START TRANSACTION READ ONLY, READ WRITE")]
    [InlineData("START TRANSACTION READ")]
    public void Bad_transaction_modes_are_refused(string sql) => Assert.Null(TrinoTransactionModes.Parse(sql));

    [Fact]
    public void Each_engine_begins_in_its_own_dialect()
    {
        TrinoTransactionModes modes = TrinoTransactionModes.Parse("START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY")!;
        Assert.Equal(["START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY"], modes.BeginStatements(SqlDialect.Postgres));
        Assert.Equal(["SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION READ ONLY"], modes.BeginStatements(SqlDialect.MySql));
        Assert.Equal(["BEGIN TRANSACTION"], modes.BeginStatements(SqlDialect.DuckDb));
        Assert.Equal(["START TRANSACTION"], TrinoTransactionModes.Default.BeginStatements(SqlDialect.MySql));
    }

    [Fact]
    public void Schema_statements_quote_the_name()
    {
        Assert.Equal("SET schema = 'it''s'", TrinoSchema.UseStatement(SqlDialect.DuckDb, "it's"));
        Assert.Equal("SET search_path TO \"a\"\"b\", \"$user\", public", TrinoSchema.UseStatement(SqlDialect.Postgres, "a\"b"));
        Assert.Equal("USE `a``b`", TrinoSchema.UseStatement(SqlDialect.MySql, "a`b"));
        Assert.Null(TrinoSchema.UseStatement(SqlDialect.Trino, "s"));
    }
}

/// <summary>
/// A fake Trino coordinator (not a real one) with transactions: START TRANSACTION answers (after a QUEUED page)
/// X-Trino-Started-Transaction-Id coord-tx-N; COMMIT / ROLLBACK answer X-Trino-Clear-Transaction-Id; SQL starting
/// with FAIL fails with SYNTAX_ERROR; anything else returns one row. Records each submit with its transaction header.
/// </summary>
internal sealed class FakeTransactionalCoordinator : IEngine, ITrinoHttpEngine
{
    private const string Columns = "\"columns\":[{\"name\":\"x\",\"type\":\"bigint\",\"typeSignature\":{\"rawType\":\"bigint\",\"arguments\":[]}}]";
    private int _transactions;

    public string ClusterName => "coordinator";

    public SqlDialect Dialect => SqlDialect.Trino;

    public List<(string Sql, string? Transaction)> Submits { get; } = [];

    public bool FailNextCommit { get; set; }

    public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
        throw new EngineException("the fake coordinator serves the passthrough only");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken)
    {
        string? transaction = null;
        foreach (KeyValuePair<string, string> header in request.Headers)
        {
            if (header.Key.Equals("X-Trino-Transaction-Id", StringComparison.OrdinalIgnoreCase))
            {
                transaction = header.Value;
            }
        }

        lock (Submits)
        {
            Submits.Add((request.Sql, transaction));
        }

        string sql = request.Sql;
        TrinoUpstreamPage page;
        if (sql.StartsWith("START TRANSACTION", StringComparison.OrdinalIgnoreCase))
        {
            page = Page("""{"id":"coord_start","nextUri":"http://coord:8080/v1/statement/queued/coord_start/1","stats":{"state":"QUEUED"}}""", "http://coord:8080/v1/statement/queued/coord_start/1", "QUEUED", []);
        }
        else if (sql is "COMMIT" && FailNextCommit)
        {
            FailNextCommit = false;
            page = Page("""{"id":"coord_c","stats":{"state":"FAILED"},"error":{"message":"conflict","errorCode":17,"errorName":"TRANSACTION_CONFLICT","errorType":"USER_ERROR"}}""", null, "FAILED", []);
        }
        else if (sql is "COMMIT" or "ROLLBACK")
        {
            page = Page("""{"id":"coord_end","stats":{"state":"FINISHED"},"updateType":"COMMIT"}""", null, "FINISHED", [new("X-Trino-Clear-Transaction-Id", "true")]);
        }
        else if (sql.StartsWith("FAIL", StringComparison.Ordinal))
        {
            page = Page("""{"id":"coord_f","stats":{"state":"FAILED"},"error":{"message":"bad","errorCode":1,"errorName":"SYNTAX_ERROR","errorType":"USER_ERROR"}}""", null, "FAILED", []);
        }
        else
        {
            page = Page("""{"id":"coord_q",""" + Columns + ""","data":[[1]],"stats":{"state":"FINISHED"}}""", null, "FINISHED", []);
        }

        return ValueTask.FromResult(page);
    }

    public ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken)
    {
        int number = Interlocked.Increment(ref _transactions);
        return ValueTask.FromResult(Page("""{"id":"coord_start","stats":{"state":"FINISHED"},"updateType":"START TRANSACTION"}""", null, "FINISHED",
            [new("X-Trino-Started-Transaction-Id", "coord-tx-" + number.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
    }

    public ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    // The error is parsed as the Trino engine parses it (TrinoEngine reads the page once).
    private static TrinoUpstreamPage Page(string json, string? next, string state, IReadOnlyList<KeyValuePair<string, string>> headers) =>
        new(200, Encoding.UTF8.GetBytes(json), next is null ? null : new Uri(next), state, headers) { Error = ErrorOf(json) };

    private static TrinoUpstreamError? ErrorOf(string json) =>
        LakeOps.Edge.Protocols.Trino.TrinoResultsReader.ReadPageInfo(Encoding.UTF8.GetBytes(json)).Error is { } error
            ? new TrinoUpstreamError(error.Message, error.ErrorCode, error.ErrorName, error.ErrorType)
            : null;
}
