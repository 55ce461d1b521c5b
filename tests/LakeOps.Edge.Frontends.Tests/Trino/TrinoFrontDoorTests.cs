using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>The front door in process: real DuckDB engine, and a fake Trino coordinator for the passthrough.</summary>
public sealed class TrinoFrontDoorTests : IAsyncLifetime
{
    private const string Yaml = """
        listeners:
          t:
            protocol: trino
            address: 127.0.0.1:{PORT}
            auth: trust
            limits:
              max_connections: 3
              max_message_size: 1KiB
              client_timeout: 1s
        clusters:
          duckdb:
            engine: duckdb
          coordinator:
            engine: duckdb
        groups:
          local:
            clusters: [duckdb]
          trino:
            clusters: [coordinator]
          slow:
            clusters: [duckdb]
            statement_timeout: 300ms
        routing:
          default_group: local
        routes:
          - name: routing-group-header
            when: {header: {X-Trino-Routing-Group: trino}}
            group: trino
        """;

    private readonly HttpClient _http = new();
    private EngineRegistry _registry = null!;
    private FakeTrinoCoordinator _coordinator = null!;
    private TrinoFrontDoor _door = null!;

    public async Task InitializeAsync()
    {
        ConfigLoadResult result = ConfigLoader.Load(Yaml.Replace("{PORT}", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        _registry = await EngineRegistry.StartAsync(result.Config!);
        _coordinator = new FakeTrinoCoordinator();
        var engines = new Engines(_registry, _coordinator);
        _door = new TrinoFrontDoor(result.Config!.Listeners[0], new ConfigStore(result.Config!), engines);
        _door.Start();
    }

    public async Task DisposeAsync()
    {
        await _door.DisposeAsync();
        await _registry.DisposeAsync();
        _http.Dispose();
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Engines(EngineRegistry registry, FakeTrinoCoordinator coordinator) : IEngineProvider
    {
        public IEngine? Find(string clusterName) => clusterName == "coordinator" ? coordinator : registry.Find(clusterName);
    }

    private async Task<(HttpResponseMessage Response, JsonElement Page)> SendAsync(HttpMethod method, string uri, string? sql = null, string user = "edge", string? catalog = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (sql is not null)
        {
            request.Content = new StringContent(sql, Encoding.UTF8);
        }

        request.Headers.Add("X-Trino-User", user);
        if (catalog is not null)
        {
            request.Headers.Add("X-Trino-Catalog", catalog);
        }

        HttpResponseMessage response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        JsonElement page = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(body).RootElement.Clone() : default;
        return (response, page);
    }

    /// <summary>Follows nextUri to the end; returns every page.</summary>
    private async Task<List<JsonElement>> RunAsync(string sql, string? catalog = null)
    {
        var pages = new List<JsonElement>();
        (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", sql, catalog: catalog);
        response.Dispose();
        pages.Add(page);
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            (response, page) = await SendAsync(HttpMethod.Get, next.GetString()!);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
            pages.Add(page);
        }

        return pages;
    }

    [Fact]
    public async Task Select_streams_rows_from_duckdb_and_ends_finished()
    {
        List<JsonElement> pages = await RunAsync("SELECT 1 AS one, 'x' AS s");
        Assert.Equal("QUEUED", pages[0].GetProperty("stats").GetProperty("state").GetString());
        JsonElement last = pages[^1];
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("[[1,\"x\"]]", last.GetProperty("data").GetRawText());
        Assert.Equal("integer", last.GetProperty("columns")[0].GetProperty("type").GetString());
        Assert.Equal(0, _door.ActiveQueries);
    }

    [Fact]
    public async Task Queries_feed_their_clusters_health()
    {
        // A fresh registry: while its window fills, each query reports its session open and its statement.
        ClusterHealth health = _door.Picker.Registry.Get("duckdb");
        Assert.Equal(0, health.Successes);
        await RunAsync("SELECT 1");
        await RunAsync("SELECT 2");
        Assert.Equal(4, health.Successes);
        Assert.NotNull(health.AverageLatency);
        Assert.Equal(0, health.Running);
    }

    [Fact]
    public async Task Large_result_is_paged_with_bounded_pages()
    {
        List<JsonElement> pages = await RunAsync("SELECT i, repeat('x', 100) AS pad FROM range(50000) t(i)");
        long rows = 0;
        long expected = 0;
        foreach (JsonElement page in pages)
        {
            if (page.TryGetProperty("data", out JsonElement data))
            {
                foreach (JsonElement row in data.EnumerateArray())
                {
                    Assert.Equal(expected++, row[0].GetInt64());
                    rows++;
                }

                // A page ends after the run of (at most 256) rows that crossed the target.
                int length = data.GetRawText().Length;
                Assert.True(length < TrinoFrontDoor.TargetPageBytes + (256 * 200), $"page of {length} bytes");
            }
        }

        Assert.Equal(50000, rows);
        Assert.True(pages.Count > 3);
    }

    [Fact]
    public async Task Errors_are_trino_errors()
    {
        JsonElement last = (await RunAsync("SELECT * FROM no_such_table"))[^1];
        Assert.Equal("FAILED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("USER_ERROR", last.GetProperty("error").GetProperty("errorType").GetString());

        JsonElement syntax = (await RunAsync("SELEC 1"))[^1];
        Assert.Equal("SYNTAX_ERROR", syntax.GetProperty("error").GetProperty("errorName").GetString());
    }

    [Fact]
    public async Task Statement_timeout_fails_with_exceeded_time_limit()
    {
        JsonElement last = (await RunAsync("SELECT count(*) FROM range(300000) a, range(300000) b", catalog: "slow"))[^1];
        Assert.Equal("FAILED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("EXCEEDED_TIME_LIMIT", last.GetProperty("error").GetProperty("errorName").GetString());
        Assert.Contains("statement_timeout", last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_statements_report_update_type_and_count()
    {
        await RunAsync("CREATE TABLE IF NOT EXISTS upd(a INTEGER)");
        JsonElement last = (await RunAsync("INSERT INTO upd VALUES (1), (2)"))[^1];
        Assert.Equal("INSERT", last.GetProperty("updateType").GetString());
        Assert.Equal(2, last.GetProperty("updateCount").GetInt64());
    }

    [Fact]
    public async Task Explain_route_answers_without_running()
    {
        JsonElement page = (await RunAsync("EXPLAIN ROUTE SELECT 1", catalog: "trino"))[^1];
        Assert.Equal("FINISHED", page.GetProperty("stats").GetProperty("state").GetString());
        Assert.Contains("trino", page.GetProperty("data").GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, _coordinator.Submitted);
    }

    [Fact]
    public async Task Passthrough_forwards_coordinator_pages_with_uris_rewritten()
    {
        List<JsonElement> pages = await RunAsync("SELECT x FROM t", catalog: "trino");
        Assert.Equal(1, _coordinator.Submitted);
        Assert.Equal("SELECT x FROM t", _coordinator.LastSql);
        var data = new StringBuilder();
        Assert.Matches("^[0-9a-f]{32}$", pages[0].GetProperty("id").GetString());
        for (int i = 0; i < pages.Count; i++)
        {
            JsonElement page = pages[i];
            Assert.StartsWith(_door.Endpoint, page.GetProperty("infoUri").GetString(), StringComparison.Ordinal);
            if (page.TryGetProperty("nextUri", out JsonElement next))
            {
                Assert.StartsWith(_door.Endpoint + "/v1/statement/executing/", next.GetString(), StringComparison.Ordinal);
            }

            if (page.TryGetProperty("data", out JsonElement rows))
            {
                data.Append(rows.GetRawText());
            }

            // After Edge's own first answer to the POST, the coordinator's id stays in the body (bytes are not re-encoded).
            if (i > 0)
            {
                Assert.Equal("coord_q1", page.GetProperty("id").GetString());
            }
        }

        Assert.Equal("[[1],[2]][[3]]", data.ToString());
        Assert.Equal("FINISHED", pages[^1].GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal(3, _coordinator.Fetches);
        Assert.Equal(0, _door.ActiveQueries);
    }

    [Fact]
    public async Task Routing_group_header_selects_a_group_only_through_a_rule()
    {
        async Task<JsonElement> Run(string group)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _door.Endpoint + "/v1/statement") { Content = new StringContent("SELECT 5 AS x") };
            request.Headers.Add("X-Trino-User", "edge");
            request.Headers.Add("X-Trino-Routing-Group", group);
            using HttpResponseMessage response = await _http.SendAsync(request);
            JsonElement page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            while (page.TryGetProperty("nextUri", out JsonElement next))
            {
                (HttpResponseMessage r, page) = await SendAsync(HttpMethod.Get, next.GetString()!);
                r.Dispose();
            }

            return page;
        }

        // A rule names the header value: the query goes to the Trino group (the fake coordinator).
        await Run("trino");
        Assert.Equal(1, _coordinator.Submitted);

        // No rule for this value: the header alone picks nothing; DuckDB of the default group answers.
        JsonElement local = await Run("elsewhere");
        Assert.Equal(1, _coordinator.Submitted);
        Assert.Equal("[[5]]", local.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Passthrough_cancel_reaches_the_coordinator()
    {
        (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT x FROM t", catalog: "trino");
        response.Dispose();
        (response, page) = await SendAsync(HttpMethod.Get, page.GetProperty("nextUri").GetString()!);
        response.Dispose();
        (response, _) = await SendAsync(HttpMethod.Delete, page.GetProperty("nextUri").GetString()!);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        response.Dispose();
        Assert.Equal(1, _coordinator.Cancels);
    }

    [Fact]
    public async Task Query_of_another_user_is_not_found_and_stale_tokens_are_gone()
    {
        (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT 1");
        response.Dispose();
        string next = page.GetProperty("nextUri").GetString()!;
        (response, _) = await SendAsync(HttpMethod.Get, next, user: "mallory");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        response.Dispose();
        (response, _) = await SendAsync(HttpMethod.Get, next[..next.LastIndexOf('/')] + "/99");
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        response.Dispose();
        (response, _) = await SendAsync(HttpMethod.Delete, next);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        response.Dispose();
    }

    [Fact]
    public async Task Limits_body_size_query_count_and_abandoned_queries()
    {
        (HttpResponseMessage response, _) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT '" + new string('x', 2000) + "'");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("max_message_size", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        response.Dispose();

        for (int i = 0; i < 3; i++)
        {
            (response, _) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT 1");
            response.Dispose();
        }

        (response, JsonElement refused) = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT 1");
        response.Dispose();
        Assert.Equal("QUERY_QUEUE_FULL", refused.GetProperty("error").GetProperty("errorName").GetString());
        Assert.Equal(3, _door.ActiveQueries);

        // Nobody asks for their pages: after client_timeout (1 s) the sweep cancels them.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        int swept = 0;
        while (_door.ActiveQueries > 0 && DateTime.UtcNow < deadline)
        {
            swept += await _door.SweepAbandonedAsync();
            await Task.Delay(100);
        }

        Assert.Equal(0, _door.ActiveQueries);
        Assert.True(swept > 0 || _door.ActiveQueries == 0);
    }

    [Fact]
    public async Task Audit_record_per_query()
    {
        string path = Path.Combine(Path.GetTempPath(), $"trino-audit-{Guid.NewGuid():N}.jsonl");
        try
        {
            ConfigLoadResult result = ConfigLoader.Load(Yaml.Replace("{PORT}", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), null, _ => null);
            using var audit = new Telemetry.Audit.AuditLog(new AuditConfig { Enabled = true, Path = path, IncludeSql = true });
            await using (var door = new TrinoFrontDoor(result.Config!.Listeners[0], new ConfigStore(result.Config!), _registry) { Audit = audit })
            {
                door.Start();
                (HttpResponseMessage response, JsonElement page) = await SendAsync(HttpMethod.Post, door.Endpoint + "/v1/statement", "SELECT 3 AS audited");
                response.Dispose();
                (response, _) = await SendAsync(HttpMethod.Get, page.GetProperty("nextUri").GetString()!);
                response.Dispose();
            }

            Assert.True(audit.Flush(TimeSpan.FromSeconds(5)));
            string line = Assert.Single(File.ReadAllLines(path));
            using JsonDocument record = JsonDocument.Parse(line);
            Assert.Equal("trino", record.RootElement.GetProperty("protocol").GetString());
            Assert.Equal("SELECT 3 AS audited", record.RootElement.GetProperty("sql").GetString());
            Assert.Equal("duckdb", record.RootElement.GetProperty("cluster").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Info_and_unknown_paths()
    {
        using HttpResponseMessage info = await _http.GetAsync(_door.Endpoint + "/v1/info");
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        using HttpResponseMessage missing = await _http.GetAsync(_door.Endpoint + "/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var noUser = new HttpRequestMessage(HttpMethod.Post, _door.Endpoint + "/v1/statement") { Content = new StringContent("SELECT 1") };
        using HttpResponseMessage refused = await _http.SendAsync(noUser);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }
}

/// <summary>
/// A fake Trino coordinator (not a real one: none can run here) that replays documented QueryResults pages:
/// QUEUED first, then two data pages, the last without nextUri.
/// </summary>
internal sealed class FakeTrinoCoordinator : IEngine, ITrinoHttpEngine
{
    private const string Columns = "\"columns\":[{\"name\":\"x\",\"type\":\"bigint\",\"typeSignature\":{\"rawType\":\"bigint\",\"arguments\":[]}}]";

    public string ClusterName => "coordinator";

    public SqlDialect Dialect => SqlDialect.DuckDb;

    public int Submitted;
    public int Fetches;
    public int Cancels;
    public string? LastSql;

    public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
        throw new EngineException("the fake coordinator serves the passthrough only");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Submitted);
        LastSql = request.Sql;
        return ValueTask.FromResult(Page("""{"id":"coord_q1","infoUri":"http://coord:8080/ui/query.html?coord_q1","nextUri":"http://coord:8080/v1/statement/queued/coord_q1/a/1","stats":{"state":"QUEUED"}}""", "http://coord:8080/v1/statement/queued/coord_q1/a/1", "QUEUED"));
    }

    public ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Fetches);
        TrinoUpstreamPage page = nextUri.AbsolutePath switch
        {
            "/v1/statement/queued/coord_q1/a/1" => Page("""{"id":"coord_q1","infoUri":"http://coord:8080/ui/query.html?coord_q1","partialCancelUri":"http://coord:8080/v1/stage/coord_q1.0","nextUri":"http://coord:8080/v1/statement/executing/coord_q1/b/1",""" + Columns + ""","data":[[1],[2]],"stats":{"state":"RUNNING"}}""", "http://coord:8080/v1/statement/executing/coord_q1/b/1", "RUNNING"),
            "/v1/statement/executing/coord_q1/b/1" => Page("""{"id":"coord_q1","infoUri":"http://coord:8080/ui/query.html?coord_q1","nextUri":"http://coord:8080/v1/statement/executing/coord_q1/b/2",""" + Columns + ""","stats":{"state":"RUNNING"}}""", "http://coord:8080/v1/statement/executing/coord_q1/b/2", "RUNNING"),
            _ => Page("""{"id":"coord_q1","infoUri":"http://coord:8080/ui/query.html?coord_q1",""" + Columns + ""","data":[[3]],"stats":{"state":"FINISHED"}}""", null, "FINISHED"),
        };
        return ValueTask.FromResult(page);
    }

    public ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Cancels);
        return ValueTask.CompletedTask;
    }

    private static TrinoUpstreamPage Page(string json, string? next, string state) =>
        new(200, Encoding.UTF8.GetBytes(json), next is null ? null : new Uri(next), state, []);
}
