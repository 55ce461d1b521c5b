using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>
/// The Trino front door's Arrow path with admission spill and the transparent retry, in process: real DuckDB
/// clusters, and a cluster "dead" whose engine sessions open but whose statements fail the way a cluster that
/// went away fails (connect refused, or a lost connection).
/// </summary>
public sealed class TrinoSpillRetryTests : IAsyncLifetime
{
    private const string Refused = "cluster 'dead': cannot connect to 127.0.0.1:1: Connection refused";
    private const string Lost = "cluster 'dead': lost the connection to the server: Connection reset by peer";

    private const string Yaml = """
        listeners:
          t:
            protocol: trino
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          duck_a:
            engine: duckdb
          duck_b:
            engine: duckdb
          dead:
            engine: duckdb
        groups:
          full:
            clusters: [duck_a]
            admission: { max_running: 1, max_queued: 10, queue_timeout: 60s, overflow: { spill: other } }
          other:
            clusters: [duck_b]
            admission: { max_running: 1, max_queued: 10, queue_timeout: 60s }
          two:
            clusters: [dead, duck_a]
            balancing: failover
            admission: { max_running: 4 }
          slowtwo:
            clusters: [dead, duck_a]
            balancing: failover
            statement_timeout: 300ms
          spilldead:
            clusters: [duck_a]
            admission: { max_running: 1, overflow: { spill: deadfirst } }
          deadfirst:
            clusters: [dead, duck_b]
            balancing: failover
        routing:
          default_group: full
        """;

    private readonly HttpClient _http = new();
    private readonly string _auditPath = Path.Combine(Path.GetTempPath(), $"trino-spill-{Guid.NewGuid():N}.jsonl");
    private EngineRegistry _registry = null!;
    private AuditLog _audit = null!;
    private AdmissionGates _gates = null!;
    private TrinoFrontDoor _door = null!;
    private FailingEngine _dead = null!;

    public async Task InitializeAsync()
    {
        ConfigLoadResult result = ConfigLoader.Load(Yaml.Replace("{PORT}", FreePort().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        var store = new ConfigStore(result.Config!);
        _registry = await EngineRegistry.StartAsync(result.Config!);
        _dead = new FailingEngine("dead");
        _audit = new AuditLog(new AuditConfig { Enabled = true, Path = _auditPath, IncludeSql = true });
        _gates = new AdmissionGates(store);
        _door = new TrinoFrontDoor(result.Config!.Listeners[0], store, new Engines(_registry, _dead)) { Audit = _audit, Admission = _gates };
        _door.Start();
    }

    public async Task DisposeAsync()
    {
        await _door.DisposeAsync();
        await _registry.DisposeAsync();
        _audit.Dispose();
        _http.Dispose();
        File.Delete(_auditPath);
    }

    [Fact]
    public async Task A_query_that_finds_its_group_full_runs_on_the_spill_group_and_says_so_in_the_audit()
    {
        await RunAsync("CREATE TABLE marker AS SELECT 'a' AS side", "full");
        await RunAsync("CREATE TABLE marker AS SELECT 'b' AS side", "other");

        Assert.True(_gates.ForGroup("full")!.TryAdmit(out AdmissionTicket holder));
        try
        {
            JsonElement spilled = (await RunAsync("SELECT side FROM marker /* spilled */", "full"))[^1];
            Assert.Equal("[[\"b\"]]", spilled.GetProperty("data").GetRawText());
            await AuditRecordAsync("/* spilled */");
            Assert.Equal(1, _gates.ForGroup("full")!.Running);
            Assert.Equal(0, _gates.ForGroup("other")!.Running);
        }
        finally
        {
            holder.Dispose();
        }

        // Room again: the query stays on its own group.
        Assert.Equal("[[\"a\"]]", (await RunAsync("SELECT side FROM marker", "full"))[^1].GetProperty("data").GetRawText());

        JsonElement record = await AuditRecordAsync("/* spilled */");
        Assert.Equal("other", record.GetProperty("group").GetString());
        Assert.Equal("duck_b", record.GetProperty("cluster").GetString());
        Assert.Equal("ok", record.GetProperty("outcome").GetString());
        Assert.Equal(1, record.GetProperty("rows").GetInt64());
        Assert.EndsWith("group 'full' was full: spilled to group 'other'", record.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_waits_queued_in_its_own_group_instead_of_spilling()
    {
        Assert.True(_gates.ForGroup("full")!.TryAdmit(out AdmissionTicket holder));
        (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "CREATE TABLE written AS SELECT 7 AS x", "full");
        response.Dispose();
        Assert.True(await WaitUntilAsync(() => _gates.ForGroup("full")!.Queued == 1));
        (response, page) = await SendAsync(HttpMethod.Get, page.GetProperty("nextUri").GetString()!);
        response.Dispose();
        Assert.Equal("QUEUED", page.GetProperty("stats").GetProperty("state").GetString());

        holder.Dispose();
        JsonElement last = await FollowAsync(page);
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal(0, _gates.ForGroup("other")!.Running);

        // It ran on its own group's cluster (the spill group has no such table).
        Assert.Equal("[[7]]", (await RunAsync("SELECT x FROM written", "full"))[^1].GetProperty("data").GetRawText());
        Assert.Equal("FAILED", (await RunAsync("SELECT x FROM written", "other"))[^1].GetProperty("stats").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_spilled_query_shows_queued_while_the_spill_group_is_full_too()
    {
        Assert.True(_gates.ForGroup("full")!.TryAdmit(out AdmissionTicket fullHolder));
        Assert.True(_gates.ForGroup("other")!.TryAdmit(out AdmissionTicket otherHolder));
        try
        {
            (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT 5 AS five /* waits on other */", "full");
            response.Dispose();
            Assert.True(await WaitUntilAsync(() => _gates.ForGroup("other")!.Queued == 1));
            (response, page) = await SendAsync(HttpMethod.Get, page.GetProperty("nextUri").GetString()!);
            response.Dispose();
            Assert.Equal("QUEUED", page.GetProperty("stats").GetProperty("state").GetString());
            Assert.Equal(0, _gates.ForGroup("full")!.Queued);

            otherHolder.Dispose();
            JsonElement last = await FollowAsync(page);
            Assert.Equal("[[5]]", last.GetProperty("data").GetRawText());
        }
        finally
        {
            fullHolder.Dispose();
            otherHolder.Dispose();
        }

        Assert.Equal("other", (await AuditRecordAsync("/* waits on other */")).GetProperty("group").GetString());
        Assert.Equal(0, _gates.ForGroup("other")!.Running);
    }

    [Fact]
    public async Task A_query_whose_cluster_refuses_runs_once_more_on_the_next_member()
    {
        JsonElement last = (await RunAsync("SELECT 40 + 2 AS answer /* retried */", "two"))[^1];
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("[[42]]", last.GetProperty("data").GetRawText());
        Assert.Equal(1, _dead.Executions);
        Assert.Equal(1, _door.Picker.Registry.Get("dead").Failures);

        // The slot moved with the statement and was freed with it.
        JsonElement record = await AuditRecordAsync("/* retried */");
        Assert.Equal(0, _gates.ForGroup("two")!.Running);
        Assert.Equal("duck_a", record.GetProperty("cluster").GetString());
        Assert.Equal("ok", record.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task After_a_lost_connection_only_queries_are_retried_never_writes()
    {
        _dead.Failure = Lost;
        Assert.Equal("[[3]]", (await RunAsync("SELECT 3", "two"))[^1].GetProperty("data").GetRawText());
        Assert.Equal(1, _dead.Executions);

        // A write may have committed before the connection died: the client gets the error, naming the cluster.
        JsonElement write = (await RunAsync("CREATE TABLE lost AS SELECT 1 AS x /* lost write */", "two"))[^1];
        Assert.Equal("FAILED", write.GetProperty("stats").GetProperty("state").GetString());
        Assert.Contains("cluster 'dead'", write.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, _dead.Executions);
        Assert.Equal("dead", (await AuditRecordAsync("/* lost write */")).GetProperty("cluster").GetString());
        Assert.Equal(0, _gates.ForGroup("two")!.Running);
    }

    [Fact]
    public async Task A_statement_that_timed_out_is_not_retried()
    {
        _dead.WaitForCancel = true;
        JsonElement last = (await RunAsync("SELECT 1 /* timed out */", "slowtwo"))[^1];
        Assert.Equal("EXCEEDED_TIME_LIMIT", last.GetProperty("error").GetProperty("errorName").GetString());
        Assert.Equal(1, _dead.Executions);
        Assert.Equal("dead", (await AuditRecordAsync("/* timed out */")).GetProperty("cluster").GetString());
    }

    [Fact]
    public async Task A_spilled_statement_is_not_retried()
    {
        Assert.True(_gates.ForGroup("spilldead")!.TryAdmit(out AdmissionTicket holder));
        try
        {
            JsonElement last = (await RunAsync("SELECT 1 /* spilled to dead */", "spilldead"))[^1];
            Assert.Equal("FAILED", last.GetProperty("stats").GetProperty("state").GetString());
            Assert.Contains("Connection refused", last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, _dead.Executions);
        }
        finally
        {
            holder.Dispose();
        }

        JsonElement record = await AuditRecordAsync("/* spilled to dead */");
        Assert.Equal("deadfirst", record.GetProperty("group").GetString());
        Assert.Equal("dead", record.GetProperty("cluster").GetString());
        Assert.Equal("error", record.GetProperty("outcome").GetString());
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>
    /// The audit record of the query whose SQL has <paramref name="marker"/>. A query writes it after releasing its
    /// slots, and the client may see the last page before that: waiting for the record is waiting for the release.
    /// </summary>
    private async Task<JsonElement> AuditRecordAsync(string marker)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            Assert.True(_audit.Flush(TimeSpan.FromSeconds(5)));
            foreach (string line in File.Exists(_auditPath) ? File.ReadAllLines(_auditPath) : [])
            {
                using JsonDocument record = JsonDocument.Parse(line);
                if (record.RootElement.TryGetProperty("sql", out JsonElement sql) && sql.GetString()!.Contains(marker, StringComparison.Ordinal))
                {
                    return record.RootElement.Clone();
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"no audit record with {marker}");
            }

            await Task.Delay(10);
        }
    }

    private async Task<(HttpResponseMessage Response, JsonElement Page)> SendAsync(HttpMethod method, string uri, string? sql = null, string? catalog = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (sql is not null)
        {
            request.Content = new StringContent(sql, Encoding.UTF8);
        }

        request.Headers.Add("X-Trino-User", "edge");
        if (catalog is not null)
        {
            request.Headers.Add("X-Trino-Catalog", catalog);
        }

        HttpResponseMessage response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        JsonElement page = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return (response, page);
    }

    private async Task<JsonElement> FollowAsync(JsonElement page)
    {
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            (HttpResponseMessage response, page) = await SendAsync(HttpMethod.Get, next.GetString()!);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        return page;
    }

    private async Task<List<JsonElement>> RunAsync(string sql, string catalog)
    {
        var pages = new List<JsonElement>();
        (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", sql, catalog);
        response.Dispose();
        pages.Add(page);
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            (response, page) = await SendAsync(HttpMethod.Get, next.GetString()!);
            response.Dispose();
            pages.Add(page);
        }

        return pages;
    }

    private sealed class Engines(EngineRegistry registry, FailingEngine dead) : IEngineProvider
    {
        public IEngine? Find(string clusterName) => clusterName == dead.ClusterName ? dead : registry.Find(clusterName);
    }

    /// <summary>A cluster that went away: sessions open (the engine connects lazily), every statement fails with <see cref="Failure"/>.</summary>
    private sealed class FailingEngine(string name) : IEngine
    {
        private int _executions;

        public string ClusterName => name;

        public SqlDialect Dialect => SqlDialect.DuckDb;

        public string Failure { get; set; } = Refused;

        /// <summary>Statements hang until cancelled (statement_timeout), then fail with <see cref="Failure"/>.</summary>
        public bool WaitForCancel { get; set; }

        public int Executions => Volatile.Read(ref _executions);

        public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IEngineSession>(new Session(this));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Session(FailingEngine engine) : IEngineSession
        {
            private readonly CancellationTokenSource _cancelled = new();

            public ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken) =>
                throw new EngineException(engine.Failure, SqlStates.ConnectionFailure);

            public async ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref engine._executions);
                if (engine.WaitForCancel)
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancelled.Token);
                    await Task.Delay(Timeout.Infinite, linked.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                throw new EngineException(engine.Failure, SqlStates.ConnectionFailure);
            }

            public void Cancel() => _cancelled.Cancel();

            public ValueTask DisposeAsync()
            {
                _cancelled.Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
