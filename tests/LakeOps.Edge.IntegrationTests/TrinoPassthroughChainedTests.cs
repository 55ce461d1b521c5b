using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// A Trino client through Edge to a Trino engine, both the real AOT binary: instance B serves DuckDB behind its
/// Trino front door (the coordinator); instance A's only cluster is a Trino engine pointing at B, so a client of
/// A's Trino front door gets B's pages passed through. A small query costs the client a POST and one GET, as it
/// would against B directly (A follows B's QUEUED answer itself).
/// </summary>
public sealed class TrinoPassthroughChainedTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private EdgeProcess _b = null!;
    private EdgeProcess _a = null!;
    private int _aTrinoPort;

    public async Task InitializeAsync()
    {
        int bTrinoPort = EdgeProcess.FreePort();
        _b = await EdgeProcess.StartAsync($$"""
            listeners:
              pg: { protocol: postgres, address: 127.0.0.1:{PORT}, auth: trust }
              trino: { protocol: trino, address: 127.0.0.1:{{bTrinoPort}}, auth: trust }
            clusters:
              duckdb: { engine: duckdb }
            groups:
              local: { clusters: [duckdb] }
            routing: { default_group: local }
            """);
        _aTrinoPort = EdgeProcess.FreePort();
        try
        {
            _a = await EdgeProcess.StartAsync($$"""
                listeners:
                  pg: { protocol: postgres, address: 127.0.0.1:{PORT}, auth: trust }
                  trino: { protocol: trino, address: 127.0.0.1:{{_aTrinoPort}}, auth: trust }
                clusters:
                  lake: { engine: trino, trino: { host: 127.0.0.1, port: {{bTrinoPort}}, user: edge-a } }
                groups:
                  local: { clusters: [lake] }
                routing: { default_group: local }
                """);
        }
        catch
        {
            await _b.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task A_small_query_takes_a_post_and_one_get()
    {
        (List<JsonElement> pages, int requests) = await RunAsync("SELECT 42 AS answer, 'hi' AS greeting");

        Assert.True(requests == 2, $"{requests} requests\nA:\n{_a.Log}\nB:\n{_b.Log}");
        JsonElement last = pages[^1];
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("""[[42,"hi"]]""", last.GetProperty("data").GetRawText());
        Assert.Equal(["answer", "greeting"], last.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task A_result_of_many_pages_passes_through_whole()
    {
        (List<JsonElement> pages, _) = await RunAsync("SELECT i FROM range(300000) t(i) ORDER BY i");

        long count = 0;
        long sum = 0;
        foreach (JsonElement page in pages)
        {
            if (page.TryGetProperty("data", out JsonElement data))
            {
                foreach (JsonElement row in data.EnumerateArray())
                {
                    count++;
                    sum += row[0].GetInt64();
                }
            }

            if (page.TryGetProperty("nextUri", out JsonElement next))
            {
                Assert.StartsWith($"http://127.0.0.1:{_aTrinoPort}/", next.GetString(), StringComparison.Ordinal);
            }
        }

        Assert.True(pages.Count > 3, $"{pages.Count} pages");
        Assert.Equal(300000, count);
        Assert.Equal(299999L * 300000 / 2, sum);
        Assert.Equal("FINISHED", pages[^1].GetProperty("stats").GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_coordinators_error_reaches_the_client()
    {
        (List<JsonElement> pages, _) = await RunAsync("SELECT * FROM no_such_table");

        JsonElement last = pages[^1];
        Assert.Equal("FAILED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.Contains("no_such_table", last.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>POST, then GET each nextUri to the end, as Trino clients do; every page and the number of requests.</summary>
    private async Task<(List<JsonElement> Pages, int Requests)> RunAsync(string sql)
    {
        var pages = new List<JsonElement>();
        string? uri = $"http://127.0.0.1:{_aTrinoPort}/v1/statement";
        HttpMethod method = HttpMethod.Post;
        while (uri is not null)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Add("X-Trino-User", "edge");
            if (method == HttpMethod.Post)
            {
                request.Content = new StringContent(sql, Encoding.UTF8);
            }

            using HttpResponseMessage response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonElement page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            pages.Add(page);
            uri = page.TryGetProperty("nextUri", out JsonElement next) ? next.GetString() : null;
            method = HttpMethod.Get;
        }

        return (pages, pages.Count);
    }
}
