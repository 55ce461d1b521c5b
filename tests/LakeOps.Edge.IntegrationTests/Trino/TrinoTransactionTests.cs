using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.IntegrationTests.Trino;

/// <summary>
/// Explicit transactions and the session schema through the real AOT binary's Trino front door: plain HTTP for the
/// transaction headers (the npm trino-client does not carry X-Trino-Started-Transaction-Id), the npm trino-client
/// for X-Trino-Schema.
/// </summary>
public sealed class TrinoTransactionTests : IAsyncLifetime
{
    private static readonly string NodeDir = Path.Combine(EdgeProcess.RepositoryRoot, "tests", "LakeOps.Edge.IntegrationTests", "Trino");

    private readonly HttpClient _http = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private EdgeProcess _edge = null!;
    private int _trinoPort;

    private string Server => $"http://127.0.0.1:{_trinoPort}";

    public async Task InitializeAsync()
    {
        PostgresTestServer postgres = await PostgresTestServer.GetAsync();
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
              duckdb:
                engine: duckdb
                duckdb:
                  path: ":memory:"
              pg:
                engine: postgres
                postgres:
                  host: {{postgres.Host}}
                  port: {{postgres.Port}}
                  user: {{postgres.User}}
                  password: "{{postgres.Password}}"
                  database: {{postgres.Database}}
            groups:
              local:
                clusters: [duckdb]
              pgroup:
                clusters: [pg]
            routing:
              default_group: local
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

    /// <summary>One statement, nextUri followed to the end: the POST's headers and the last page.</summary>
    private async Task<(HttpResponseMessage First, JsonElement Last)> RunAsync(string sql, string catalog, string? transaction = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", "edge");
        request.Headers.Add("X-Trino-Catalog", catalog);
        if (transaction is not null)
        {
            request.Headers.Add("X-Trino-Transaction-Id", transaction);
        }

        HttpResponseMessage first = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        JsonElement page = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.Clone();
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, next.GetString());
            get.Headers.Add("X-Trino-User", "edge");
            using HttpResponseMessage response = await _http.SendAsync(get);
            page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        return (first, page);
    }

    private async Task<string> DataAsync(string sql, string catalog, string? transaction = null)
    {
        (HttpResponseMessage first, JsonElement last) = await RunAsync(sql, catalog, transaction);
        first.Dispose();
        Assert.True(last.GetProperty("stats").GetProperty("state").GetString() == "FINISHED", $"{sql}: {last.GetRawText()}\n{_edge.Log}");
        return last.TryGetProperty("data", out JsonElement data) ? data.GetRawText() : "";
    }

    [Fact]
    public async Task Postgres_transaction_over_http_commits_and_rolls_back()
    {
        string table = "itx_" + _suffix;
        await DataAsync($"CREATE TABLE {table}(a integer)", "pgroup");

        (HttpResponseMessage started, _) = await RunAsync("START TRANSACTION", "pgroup");
        string id = started.Headers.GetValues("X-Trino-Started-Transaction-Id").Single();
        started.Dispose();
        await DataAsync($"INSERT INTO {table} VALUES (1), (2)", "pgroup", id);
        Assert.Equal("[[2]]", await DataAsync($"SELECT count(*) FROM {table}", "pgroup", id));
        Assert.Equal("[[0]]", await DataAsync($"SELECT count(*) FROM {table}", "pgroup"));
        (HttpResponseMessage committed, _) = await RunAsync("COMMIT", "pgroup", id);
        Assert.Equal("true", committed.Headers.GetValues("X-Trino-Clear-Transaction-Id").Single());
        committed.Dispose();
        Assert.Equal("[[2]]", await DataAsync($"SELECT count(*) FROM {table}", "pgroup"));

        (started, _) = await RunAsync("START TRANSACTION", "pgroup");
        id = started.Headers.GetValues("X-Trino-Started-Transaction-Id").Single();
        started.Dispose();
        await DataAsync($"DELETE FROM {table}", "pgroup", id);
        await DataAsync("ROLLBACK", "pgroup", id);
        Assert.Equal("[[2]]", await DataAsync($"SELECT count(*) FROM {table}", "pgroup"));

        (HttpResponseMessage stale, JsonElement refused) = await RunAsync("SELECT 1", "pgroup", id);
        stale.Dispose();
        Assert.Equal("UNKNOWN_TRANSACTION", refused.GetProperty("error").GetProperty("errorName").GetString());
        await DataAsync($"DROP TABLE {table}", "pgroup");
    }

    [Fact]
    public async Task Npm_trino_client_queries_run_in_its_schema()
    {
        Assert.True(Directory.Exists(Path.Combine(NodeDir, "node", "node_modules", "trino-client")), "npm clients missing: run ./build.sh test");
        string schema = "isch_" + _suffix;
        await DataAsync($"CREATE SCHEMA {schema}", "local");
        await DataAsync($"CREATE TABLE {schema}.items AS SELECT 41 + 1 AS answer", "local");
        await DataAsync($"CREATE SCHEMA {schema}", "pgroup");
        await DataAsync($"CREATE TABLE {schema}.items AS SELECT 43 AS answer", "pgroup");

        Assert.Equal("[[42]]", (await ClientAsync("SELECT answer FROM items", "local", schema)).GetProperty("rows").GetRawText());
        Assert.Equal("[[43]]", (await ClientAsync("SELECT answer FROM items", "pgroup", schema)).GetProperty("rows").GetRawText());
        JsonElement missing = await ClientAsync("SELECT answer FROM items", "pgroup", "no_such_" + _suffix);
        Assert.Equal("SCHEMA_NOT_FOUND", missing.GetProperty("error").GetProperty("errorName").GetString());
        await DataAsync($"DROP SCHEMA {schema} CASCADE", "pgroup");
    }

    private async Task<JsonElement> ClientAsync(string sql, string catalog, string schema)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(NodeDir, "trino-client-runner.js"), "trino", Server, "edge", "-", catalog, sql, schema])
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
