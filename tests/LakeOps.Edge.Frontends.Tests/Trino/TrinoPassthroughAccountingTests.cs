using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>
/// Trino client to Trino engine, in process against a scripted fake coordinator: the query's admission slot from
/// submit to its end (every way it can end, released exactly once), its rows in the audit record, and what its
/// cluster's health hears (submit latency and failures, fetch failures, a half-open trial completed).
/// </summary>
public sealed class TrinoPassthroughAccountingTests : IAsyncLifetime
{
    private const string Yaml = """
        listeners:
          t:
            protocol: trino
            address: 127.0.0.1:{PORT}
            auth: trust
            limits: { client_timeout: 1s }
        clusters:
          coordinator:
            engine: duckdb
        groups:
          trino:
            clusters: [coordinator]
            admission: { max_running: 2, overflow: reject }
        routing:
          default_group: trino
        """;

    private readonly HttpClient _http = new();
    private readonly string _auditPath = Path.Combine(Path.GetTempPath(), $"trino-pass-{Guid.NewGuid():N}.jsonl");
    private readonly TestClock _clock = new();
    private ScriptedCoordinator _coordinator = null!;
    private AuditLog _audit = null!;
    private AdmissionGates _gates = null!;
    private TrinoFrontDoor _door = null!;

    private AdmissionGate Gate => _gates.ForGroup("trino")!;

    private ClusterHealth Health => _door.Picker.Registry.Get("coordinator");

    public Task InitializeAsync()
    {
        ConfigLoadResult result = ConfigLoader.Load(Yaml.Replace("{PORT}", FreePort().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        var store = new ConfigStore(result.Config!);
        _coordinator = new ScriptedCoordinator();
        _audit = new AuditLog(new AuditConfig { Enabled = true, Path = _auditPath, IncludeSql = true });
        _gates = new AdmissionGates(store);
        var registry = new ClusterHealthRegistry(_clock);
        registry.Get("coordinator").Configure(new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1) }, ClusterAdminState.Enabled);
        _door = new TrinoFrontDoor(result.Config!.Listeners[0], store, _coordinator)
        {
            Audit = _audit,
            Admission = _gates,
            Picker = new ClusterPicker(registry),
        };
        _door.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _door.DisposeAsync();
        _audit.Dispose();
        _http.Dispose();
        File.Delete(_auditPath);
    }

    [Fact]
    public async Task The_slot_is_held_until_the_last_page_and_the_rows_reach_the_audit()
    {
        // A slot held by someone else: a double release would take it away too.
        Assert.True(Gate.TryAdmit(out AdmissionTicket other));
        try
        {
            JsonElement page = await PostAsync("SELECT x FROM t /* counted */");
            Assert.True(await WaitUntilAsync(() => Task.FromResult(Gate.Running == 2 && Health.Running == 1)));
            var data = new StringBuilder();
            while (page.TryGetProperty("nextUri", out JsonElement next))
            {
                Assert.Equal(2, Gate.Running);
                Assert.Equal(1, Health.Running);
                page = await GetAsync(next.GetString()!);
                if (page.TryGetProperty("data", out JsonElement rows))
                {
                    data.Append(rows.GetRawText());
                }
            }

            Assert.Equal("FINISHED", page.GetProperty("stats").GetProperty("state").GetString());
            Assert.Equal("[[1],[2]][[\"a,]\"],[null],[[3,[4]]]]", data.ToString());
            JsonElement record = await AuditRecordAsync("/* counted */");
            Assert.Equal(1, Gate.Running);
            Assert.Equal(0, Health.Running);
            Assert.Equal(0, _door.ActiveQueries);
            Assert.Equal(5, record.GetProperty("rows").GetInt64());
            Assert.Equal("coordinator", record.GetProperty("cluster").GetString());
            Assert.Equal("ok", record.GetProperty("outcome").GetString());
        }
        finally
        {
            other.Dispose();
        }
    }

    [Theory]
    [InlineData("failed-page")]
    [InlineData("delete")]
    [InlineData("abandoned")]
    [InlineData("fetch-error")]
    public async Task Every_end_releases_the_slot_exactly_once(string end)
    {
        _coordinator.FailSecondPage = end == "failed-page";
        _coordinator.FetchError = end == "fetch-error" ? "cluster 'coordinator': cannot connect to the Trino coordinator at http://127.0.0.1:1: Connection refused" : null;
        Assert.True(Gate.TryAdmit(out AdmissionTicket other));
        try
        {
            string marker = $"/* ends by {end} */";
            JsonElement page = await PostAsync("SELECT x FROM t " + marker);
            page = await GetAsync(page.GetProperty("nextUri").GetString()!);
            Assert.Equal(2, Gate.Running);
            switch (end)
            {
                case "delete":
                    await DeleteAsync(page.GetProperty("nextUri").GetString()!);
                    Assert.Equal(1, _coordinator.Cancels);
                    break;
                case "abandoned":
                    Assert.True(await WaitUntilAsync(async () => await _door.SweepAbandonedAsync() > 0 || _door.ActiveQueries == 0));
                    Assert.Equal(1, _coordinator.Cancels);
                    break;
                default:
                    while (page.TryGetProperty("nextUri", out JsonElement next))
                    {
                        page = await GetAsync(next.GetString()!);
                    }

                    Assert.Equal("FAILED", page.GetProperty("stats").GetProperty("state").GetString());
                    break;
            }

            Assert.NotEqual("ok", (await AuditRecordAsync(marker)).GetProperty("outcome").GetString());
            Assert.Equal(0, _door.ActiveQueries);
            Assert.Equal(1, Gate.Running);
            Assert.Equal(0, Health.Running);

            // Nothing more to release: another sweep leaves the other holder's slot alone.
            await _door.SweepAbandonedAsync();
            Assert.Equal(1, Gate.Running);
        }
        finally
        {
            other.Dispose();
        }

        Assert.Equal(0, Gate.Running);
        Assert.Equal(end == "fetch-error" ? 1 : 0, Health.Failures);
    }

    [Fact]
    public async Task A_full_group_rejects_instead_of_queueing_and_frees_nothing_it_did_not_take()
    {
        Assert.True(Gate.TryAdmit(out AdmissionTicket first));
        Assert.True(Gate.TryAdmit(out AdmissionTicket second));
        try
        {
            JsonElement page = await FollowAsync(await PostAsync("SELECT x FROM t"));
            Assert.Equal("QUERY_QUEUE_FULL", page.GetProperty("error").GetProperty("errorName").GetString());
            Assert.Equal(0, _coordinator.Submitted);
            Assert.Equal(2, Gate.Running);
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }
    }

    [Fact]
    public async Task Submits_feed_the_clusters_health_with_latency_and_failures()
    {
        await FollowAsync(await PostAsync("SELECT x FROM t"));
        Assert.Equal(1, Health.Successes);
        Assert.NotNull(Health.AverageLatency);

        _coordinator.SubmitError = "cluster 'coordinator': cannot connect to the Trino coordinator at http://127.0.0.1:1: Connection refused";
        JsonElement failed = await FollowAsync(await PostAsync("SELECT x FROM t /* refused */"));
        Assert.Equal("FAILED", failed.GetProperty("stats").GetProperty("state").GetString());
        await AuditRecordAsync("/* refused */");
        Assert.Equal(1, Health.Failures);
        Assert.Equal(BreakerState.Open, Health.Breaker);
        Assert.Equal(0, Gate.Running);
    }

    [Fact]
    public async Task A_half_open_trial_is_completed_by_the_query_that_took_it()
    {
        Health.ReportFailure(FailureKind.Connect, "down");
        Assert.Equal(BreakerState.Open, Health.Breaker);
        _clock.Advance(TimeSpan.FromSeconds(5));

        // The trial succeeds: the breaker closes (an abandoned trial would leave it half-open).
        JsonElement page = await FollowAsync(await PostAsync("SELECT x FROM t"));
        Assert.Equal("FINISHED", page.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal(BreakerState.Closed, Health.Breaker);

        // A trial that fails opens it again.
        Health.ReportFailure(FailureKind.Connect, "down again");
        _clock.Advance(TimeSpan.FromSeconds(30));
        _coordinator.SubmitError = "cluster 'coordinator': cannot connect to the Trino coordinator at http://127.0.0.1:1: Connection refused";
        await FollowAsync(await PostAsync("SELECT x FROM t"));
        Assert.Equal(BreakerState.Open, Health.Breaker);
    }

    [Fact]
    public async Task A_trial_refused_by_admission_is_given_back()
    {
        Health.ReportFailure(FailureKind.Connect, "down");
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(Gate.TryAdmit(out AdmissionTicket first));
        Assert.True(Gate.TryAdmit(out AdmissionTicket second));
        try
        {
            JsonElement page = await FollowAsync(await PostAsync("SELECT x FROM t"));
            Assert.Equal("QUERY_QUEUE_FULL", page.GetProperty("error").GetProperty("errorName").GetString());
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }

        // Nothing was sent: the next query may take the trial at once.
        Assert.True(Health.TryBeginTrial());
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
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

    private async Task<JsonElement> PostAsync(string sql)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _door.Endpoint + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", "edge");
        using HttpResponseMessage response = await _http.SendAsync(request);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<JsonElement> GetAsync(string uri)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Add("X-Trino-User", "edge");
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task DeleteAsync(string uri)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, uri);
        request.Headers.Add("X-Trino-User", "edge");
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<JsonElement> FollowAsync(JsonElement page)
    {
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            page = await GetAsync(next.GetString()!);
        }

        return page;
    }

    /// <summary>
    /// A FAKE coordinator (no real Trino runs here) replaying documented QueryResults pages: QUEUED, then rows whose
    /// JSON has commas and brackets inside strings and nested arrays, then the last page; or a FAILED page, or errors.
    /// </summary>
    private sealed class ScriptedCoordinator : IEngine, ITrinoHttpEngine, IEngineProvider
    {
        private const string Columns = "\"columns\":[{\"name\":\"x\",\"type\":\"json\",\"typeSignature\":{\"rawType\":\"json\",\"arguments\":[]}}]";
        private int _submitted;
        private int _cancels;

        public string ClusterName => "coordinator";

        public SqlDialect Dialect => SqlDialect.Trino;

        public int Submitted => Volatile.Read(ref _submitted);

        public int Cancels => Volatile.Read(ref _cancels);

        public string? SubmitError { get; set; }

        public string? FetchError { get; set; }

        public bool FailSecondPage { get; set; }

        public IEngine? Find(string clusterName) => clusterName == ClusterName ? this : null;

        public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
            throw new EngineException("the fake coordinator serves the passthrough only");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _submitted);
            if (SubmitError is { } error)
            {
                throw new EngineException(error, SqlStates.ConnectionFailure);
            }

            return ValueTask.FromResult(Page("""{"id":"c1","infoUri":"http://coord/ui/c1","nextUri":"http://coord/v1/statement/executing/c1/a/1","stats":{"state":"QUEUED"}}""", "http://coord/v1/statement/executing/c1/a/1", "QUEUED"));
        }

        public ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken)
        {
            if (FetchError is { } error && nextUri.AbsolutePath.EndsWith("/2", StringComparison.Ordinal))
            {
                throw new EngineException(error, SqlStates.ConnectionFailure);
            }

            TrinoUpstreamPage page = nextUri.AbsolutePath switch
            {
                "/v1/statement/executing/c1/a/1" => Page("""{"id":"c1","nextUri":"http://coord/v1/statement/executing/c1/a/2",""" + Columns + ""","data":[[1],[2]],"stats":{"state":"RUNNING"}}""", "http://coord/v1/statement/executing/c1/a/2", "RUNNING"),
                _ when FailSecondPage => Page("""{"id":"c1","stats":{"state":"FAILED"},"error":{"message":"line 1:15: Table 't' does not exist","errorCode":46,"errorName":"TABLE_NOT_FOUND","errorType":"USER_ERROR"}}""", null, "FAILED"),
                _ => Page("""{"id":"c1",""" + Columns + ""","data":[["a,]"],[null],[[3,[4]]]],"stats":{"state":"FINISHED"}}""", null, "FINISHED"),
            };
            return ValueTask.FromResult(page);
        }

        public ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _cancels);
            return ValueTask.CompletedTask;
        }

        private static TrinoUpstreamPage Page(string json, string? next, string state) =>
            new(200, Encoding.UTF8.GetBytes(json), next is null ? null : new Uri(next), state, []);
    }

    private sealed class TestClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
