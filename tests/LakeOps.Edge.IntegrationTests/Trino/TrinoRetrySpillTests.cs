using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.IntegrationTests.Trino;

/// <summary>
/// Issue 5's admission spill and transparent retry on the Trino front door of the real AOT binary. Retry: a group of
/// two MySQL-wire clusters in failover order, the first of which nobody listens on (its engine session opens without
/// connecting, so the query's first attempt fails to connect), the second the shared MariaDB. Spill: two DuckDB groups
/// with different marker tables; a Trino query that streams a large result holds the first group's only slot.
/// </summary>
public sealed class TrinoRetrySpillTests : IAsyncLifetime
{
    private static readonly string NodeDir = Path.Combine(EdgeProcess.RepositoryRoot, "tests", "LakeOps.Edge.IntegrationTests", "Trino");

    private readonly HttpClient _http = new();
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;
    private int _trinoPort;

    private string Server => $"http://127.0.0.1:{_trinoPort}";

    public async Task InitializeAsync()
    {
        _mariaDb = await MariaDbTestServer.GetAsync();
        _trinoPort = EdgeProcess.FreePort();
        _edge = await EdgeProcess.StartAsync($$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
              trino:
                protocol: trino
                address: 127.0.0.1:{{_trinoPort}}
                auth: trust
            clusters:
              dead:
                engine: mysql
                mysql: { host: 127.0.0.1, port: {{EdgeProcess.FreePort()}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
                pool: { connect_timeout: 2s }
                health: { probe_interval: 0s, failure_threshold: 100 }
              maria:
                engine: mysql
                mysql: { host: {{_mariaDb.Host}}, port: {{_mariaDb.Port}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
                health: { probe_interval: 0s }
              duck_a:
                engine: duckdb
                duckdb: { path: "{DIR}/a.duckdb" }
              duck_b:
                engine: duckdb
                duckdb: { path: "{DIR}/b.duckdb" }
            groups:
              two:
                clusters: [dead, maria]
                balancing: failover
                admission: { max_running: 4 }
              duck:
                clusters: [duck_a]
                admission: { max_running: 1, overflow: { spill: other } }
              other:
                clusters: [duck_b]
            routing:
              default_group: duck
            audit:
              enabled: true
              path: audit.jsonl
              include_sql: true
            """);

        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using HttpResponseMessage info = await _http.GetAsync(Server + "/v1/info");
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _edge.DisposeAsync();
    }

    [Fact]
    public async Task A_query_whose_cluster_cannot_be_reached_is_answered_by_the_next_member()
    {
        JsonElement last = await FollowAsync(await PostAsync("select 40 + 2 AS answer /* trino retry */", "two"));
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("[[42]]", last.GetProperty("data").GetRawText());
        Assert.Contains("trino query of 'edge': cluster 'dead' failed before any result", _edge.Log, StringComparison.Ordinal);
        Assert.Contains("retrying on 'maria' of group 'two'", _edge.Log, StringComparison.Ordinal);

        JsonElement record = await AuditRecordAsync("/* trino retry */");
        Assert.Equal("maria", record.GetProperty("cluster").GetString());
        Assert.Equal("ok", record.GetProperty("outcome").GetString());
        Assert.Equal(1, record.GetProperty("rows").GetInt64());

        // A real Trino client sees only the answer.
        JsonElement client = await RunTrinoClientAsync("select 6 * 7 AS answer", "two");
        Assert.True(client.GetProperty("error").ValueKind == JsonValueKind.Null, client.GetRawText());
        Assert.Equal("[[42]]", client.GetProperty("rows").GetRawText());
    }

    [Fact]
    public async Task A_query_that_finds_its_group_full_runs_on_the_spill_group()
    {
        await FollowAsync(await PostAsync("CREATE TABLE marker AS SELECT 'a' AS side", "duck"));
        await FollowAsync(await PostAsync("CREATE TABLE marker AS SELECT 'b' AS side", "other"));
        Assert.Equal("[[\"a\"]]", (await FollowAsync(await PostAsync("SELECT side FROM marker", "duck"))).GetProperty("data").GetRawText());

        // A large result the client stops reading after its first page holds duck's only slot.
        JsonElement big = await PostAsync("SELECT i, repeat('x', 200) AS pad FROM range(50000000) t(i)", "duck");
        JsonElement first = await GetAsync(big.GetProperty("nextUri").GetString()!);
        while (!first.TryGetProperty("data", out _))
        {
            first = await GetAsync(first.GetProperty("nextUri").GetString()!);
        }

        JsonElement spilled = await FollowAsync(await PostAsync("SELECT side FROM marker /* trino spilled */", "duck"));
        Assert.Equal("[[\"b\"]]", spilled.GetProperty("data").GetRawText());
        JsonElement record = await AuditRecordAsync("/* trino spilled */");
        Assert.Equal("other", record.GetProperty("group").GetString());
        Assert.Equal("duck_b", record.GetProperty("cluster").GetString());
        Assert.EndsWith("group 'duck' was full: spilled to group 'other'", record.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Cancelling the large query frees the slot at once: back on its own group.
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, first.GetProperty("nextUri").GetString()))
        {
            delete.Headers.Add("X-Trino-User", "edge");
            using HttpResponseMessage response = await _http.SendAsync(delete);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        Assert.Equal("[[\"a\"]]", (await FollowAsync(await PostAsync("SELECT side FROM marker", "duck"))).GetProperty("data").GetRawText());
    }

    private Task<JsonElement> AuditRecordAsync(string marker) =>
        Support.AuditLog.WaitForLineAsync(Path.Combine(_edge.Directory, "audit.jsonl"), marker, TimeSpan.FromSeconds(10), () => _edge.Log);

    private async Task<JsonElement> PostAsync(string sql, string catalog)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", "edge");
        request.Headers.Add("X-Trino-Catalog", catalog);
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
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

    private async Task<JsonElement> FollowAsync(JsonElement page)
    {
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            page = await GetAsync(next.GetString()!);
        }

        return page;
    }

    private async Task<JsonElement> RunTrinoClientAsync(string sql, string catalog)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(NodeDir, "trino-client-runner.js"), "trino", Server, "edge", "-", catalog, sql])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(output.Length > 0, $"trino-client runner printed nothing: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
