using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests.Trino;

/// <summary>
/// The Trino front door of the real AOT binary, driven by the npm trino-client and presto-client packages
/// (installed by build.sh into Trino/node) and by raw HTTP for paging, cancel, QUEUED and session headers.
/// </summary>
public sealed class TrinoFrontDoorTests : IAsyncLifetime
{
    private const string SlowSql = "SELECT count(*) FROM range(200000) a, range(200000) b";
    private static readonly string NodeDir = Path.Combine(EdgeProcess.RepositoryRoot, "tests", "LakeOps.Edge.IntegrationTests", "Trino");

    private EdgeProcess _edge = null!;
    private int _trinoPort;
    private int _passwordPort;
    private readonly HttpClient _http = new();

    private string Server => $"http://127.0.0.1:{_trinoPort}";

    public async Task InitializeAsync()
    {
        _trinoPort = EdgeProcess.FreePort();
        _passwordPort = EdgeProcess.FreePort();
        string secret = Core.Security.PasswordHashing.CreateScramVerifier("s3cret");
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
              trinoauth:
                protocol: trino
                address: 127.0.0.1:{{_passwordPort}}
                auth: password
            users:
              alice:
                scram: "{{secret}}"
            clusters:
              duckdb:
                engine: duckdb
                duckdb:
                  path: ":memory:"
            groups:
              local:
                clusters: [duckdb]
              one:
                clusters: [duckdb]
                admission: { max_running: 1, max_queued: 10, queue_timeout: 60s }
            routing:
              default_group: local
            """);

        // The Trino front door must answer before the tests start (the log says why when it does not).
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
            catch (HttpRequestException ex)
            {
                throw new InvalidOperationException($"Trino front door on {Server} does not answer: {ex.Message}\n{_edge.Log}", ex);
            }
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _edge.DisposeAsync();
    }

    private static bool HaveClients => Directory.Exists(Path.Combine(NodeDir, "node", "node_modules", "trino-client"));

    private async Task<JsonElement> RunClientAsync(string client, string sql, string user = "edge", string password = "-", string catalog = "", int? port = null)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(NodeDir, "trino-client-runner.js"), client, $"http://127.0.0.1:{port ?? _trinoPort}", user, password, catalog, sql])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(output.Length > 0, $"{client} runner printed nothing: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("presto")]
    public async Task Clients_run_a_typed_query(string client)
    {
        Assert.True(HaveClients, "npm clients missing: run ./build.sh test (or npm install in tests/LakeOps.Edge.IntegrationTests/Trino/node)");
        JsonElement result = await RunClientAsync(client,
            "SELECT 42 AS i, CAST(1.25 AS DECIMAL(5,2)) AS d, 'héllo' AS s, DATE '2024-02-29' AS dt, TIMESTAMP '2001-02-03 04:05:06.789' AS ts, [1, 2] AS arr, true AS b, NULL::INTEGER AS n");
        Assert.True(result.GetProperty("error").ValueKind == JsonValueKind.Null, result.GetRawText()[..Math.Min(2000, result.GetRawText().Length)]);
        string[] types = [.. result.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("type").GetString()!)];
        Assert.Equal(["integer", "decimal(5,2)", "varchar", "date", "timestamp(6)", "array(integer)", "boolean", "integer"], types);
        Assert.Equal("""[[42,"1.25","héllo","2024-02-29","2001-02-03 04:05:06.789000",[1,2],true,null]]""", result.GetProperty("rows").GetRawText());
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("presto")]
    public async Task Large_result_arrives_in_several_pages(string client)
    {
        Assert.True(HaveClients, "npm clients missing");
        JsonElement result = await RunClientAsync(client, "SELECT i, 'row ' || i AS s FROM range(300000) t(i)");
        Assert.True(result.GetProperty("error").ValueKind == JsonValueKind.Null, result.GetRawText()[..Math.Min(2000, result.GetRawText().Length)]);
        JsonElement rows = result.GetProperty("rows");
        Assert.Equal(300000, rows.GetArrayLength());
        Assert.Equal(299999, rows[299999][0].GetInt64());
        Assert.True(result.GetProperty("pages").GetInt32() > 2, "expected several pages");
    }

    [Theory]
    [InlineData("trino")]
    [InlineData("presto")]
    public async Task Sql_error_is_a_user_error(string client)
    {
        Assert.True(HaveClients, "npm clients missing");
        JsonElement result = await RunClientAsync(client, "SELEC 1");
        Assert.True(result.GetProperty("error").ValueKind == JsonValueKind.Object, result.GetRawText());
        Assert.Equal("SYNTAX_ERROR", result.GetProperty("error").GetProperty("errorName").GetString());
    }

    [Fact]
    public async Task Wrong_password_is_refused_and_right_one_works()
    {
        Assert.True(HaveClients, "npm clients missing");
        JsonElement bad = await RunClientAsync("trino", "SELECT 1", "alice", "wrong", port: _passwordPort);
        Assert.True(bad.GetProperty("error").TryGetProperty("status", out JsonElement status), bad.GetRawText());
        Assert.Equal(401, status.GetInt32());
        JsonElement good = await RunClientAsync("trino", "SELECT 1 AS one", "alice", "s3cret", port: _passwordPort);
        Assert.Equal("[[1]]", good.GetProperty("rows").GetRawText());
    }

    private async Task<JsonElement> PostAsync(string sql, string user = "edge", string? catalog = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", user);
        if (catalog is not null)
        {
            request.Headers.Add("X-Trino-Catalog", catalog);
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<(HttpStatusCode Status, JsonElement? Page)> GetAsync(string uri, string user = "edge")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Add("X-Trino-User", user);
        using HttpResponseMessage response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(body).RootElement.Clone() : null);
    }

    [Fact]
    public async Task Queued_while_the_group_is_full_then_cancel_frees_it()
    {
        JsonElement slow = await PostAsync(SlowSql, catalog: "one");
        string slowNext = slow.GetProperty("nextUri").GetString()!;
        (_, JsonElement? running) = await GetAsync(slowNext);
        Assert.Equal("RUNNING", running!.Value.GetProperty("stats").GetProperty("state").GetString());

        JsonElement second = await PostAsync("SELECT 7 AS seven", catalog: "one");
        (_, JsonElement? queued) = await GetAsync(second.GetProperty("nextUri").GetString()!);
        Assert.Equal("QUEUED", queued!.Value.GetProperty("stats").GetProperty("state").GetString());

        // Cancel the slow query: 204, its next page is gone, and the queued one runs.
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, running.Value.GetProperty("nextUri").GetString()))
        {
            delete.Headers.Add("X-Trino-User", "edge");
            using HttpResponseMessage response = await _http.SendAsync(delete);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        (HttpStatusCode gone, _) = await GetAsync(running.Value.GetProperty("nextUri").GetString()!);
        Assert.Equal(HttpStatusCode.NotFound, gone);

        string? next = queued.Value.GetProperty("nextUri").GetString();
        JsonElement page = queued.Value;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (next is not null && DateTime.UtcNow < deadline)
        {
            (_, JsonElement? current) = await GetAsync(next);
            page = current!.Value;
            next = page.TryGetProperty("nextUri", out JsonElement n) ? n.GetString() : null;
        }

        Assert.Equal("FINISHED", page.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("[[7]]", page.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Query_is_bound_to_its_user()
    {
        JsonElement page = await PostAsync("SELECT 1", user: "edge");
        (HttpStatusCode status, _) = await GetAsync(page.GetProperty("nextUri").GetString()!, user: "mallory");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Matches("^[0-9a-f]{32}$", page.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Session_statements_answer_with_headers()
    {
        async Task<HttpResponseHeaders> Run(string sql, params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent(sql) };
            request.Headers.Add("X-Trino-User", "edge");
            foreach ((string name, string value) in headers)
            {
                request.Headers.Add(name, value);
            }

            HttpResponseMessage response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers;
        }

        HttpResponseHeaders use = await Run("USE cat.sch");
        Assert.Equal("cat", use.GetValues("X-Trino-Set-Catalog").Single());
        Assert.Equal("sch", use.GetValues("X-Trino-Set-Schema").Single());
        Assert.Equal("query_max_run_time=1h", (await Run("SET SESSION query_max_run_time = '1h'")).GetValues("X-Trino-Set-Session").Single());
        Assert.Equal("p1=SELECT%20%3F%20%2B%201", (await Run("PREPARE p1 FROM SELECT ? + 1")).GetValues("X-Trino-Added-Prepare").Single());
        Assert.Equal("p1", (await Run("DEALLOCATE PREPARE p1")).GetValues("X-Trino-Deallocated-Prepare").Single());
        string transaction = (await Run("START TRANSACTION")).GetValues("X-Trino-Started-Transaction-Id").Single();
        Assert.Equal("true", (await Run("COMMIT", ("X-Trino-Transaction-Id", transaction))).GetValues("X-Trino-Clear-Transaction-Id").Single());

        // EXECUTE takes the statement from X-Trino-Prepared-Statement and binds USING values.
        using var execute = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent("EXECUTE p1 USING 41") };
        execute.Headers.Add("X-Trino-User", "edge");
        execute.Headers.Add("X-Trino-Prepared-Statement", "p1=SELECT%20%3F%20%2B%201");
        using HttpResponseMessage first = await _http.SendAsync(execute);
        JsonElement page = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        (_, JsonElement? rows) = await GetAsync(page.GetProperty("nextUri").GetString()!);
        Assert.Equal("[[42]]", rows!.Value.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Bad_requests_get_clear_4xx()
    {
        using (var noUser = new HttpRequestMessage(HttpMethod.Post, Server + "/v1/statement") { Content = new StringContent("SELECT 1") })
        {
            using HttpResponseMessage response = await _http.SendAsync(noUser);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("X-Trino-User", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        (HttpStatusCode unknown, _) = await GetAsync(Server + "/v1/statement/executing/00000000000000000000000000000000/1");
        Assert.Equal(HttpStatusCode.NotFound, unknown);

        using HttpResponseMessage info = await _http.GetAsync(Server + "/v1/info");
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.True(JsonDocument.Parse(await info.Content.ReadAsStringAsync()).RootElement.GetProperty("coordinator").GetBoolean());
    }
}
