using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Trino;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>
/// Trino client to Trino engine: a coordinator's answer to the POST that only says QUEUED is followed by the front
/// door itself, so the client's first GET brings the next page (two requests for a small query, as without Edge).
/// Against a scripted fake coordinator (not a real one).
/// </summary>
public sealed class TrinoPassthroughPrefetchTests : IAsyncLifetime
{
    private const string Yaml = """
        listeners:
          t:
            protocol: trino
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          coordinator:
            engine: duckdb
        groups:
          trino:
            clusters: [coordinator]
        routing:
          default_group: trino
        """;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http = new();
    private readonly ScriptedCoordinator _coordinator = new();
    private TrinoFrontDoor _door = null!;

    public Task InitializeAsync()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        string port = ((IPEndPoint)probe.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        probe.Stop();
        ConfigLoadResult result = ConfigLoader.Load(Yaml.Replace("{PORT}", port, StringComparison.Ordinal), null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        _door = new TrinoFrontDoor(result.Config!.Listeners[0], new ConfigStore(result.Config!), _coordinator);
        _door.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _door.DisposeAsync();
        _http.Dispose();
    }

    [Fact]
    public async Task A_status_only_answer_is_followed_so_the_first_get_brings_the_rows()
    {
        JsonElement posted = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT x FROM t");
        Assert.Equal("QUEUED", posted.GetProperty("stats").GetProperty("state").GetString());

        JsonElement first = await SendAsync(HttpMethod.Get, posted.GetProperty("nextUri").GetString()!);

        Assert.Equal("[[1],[2]]", first.GetProperty("data").GetRawText());
        Assert.StartsWith(_door.Endpoint + "/v1/statement/executing/", first.GetProperty("nextUri").GetString(), StringComparison.Ordinal);
        Assert.Equal(["/v1/statement/executing/c1/a/1"], _coordinator.Fetched);
        JsonElement last = await SendAsync(HttpMethod.Get, first.GetProperty("nextUri").GetString()!);
        Assert.Equal("FINISHED", last.GetProperty("stats").GetProperty("state").GetString());
        Assert.False(last.TryGetProperty("nextUri", out _));
        Assert.Empty(_coordinator.Canceled);
        Assert.Equal(0, _door.ActiveQueries);
    }

    [Theory]
    [InlineData("not status only")]
    [InlineData("with a session header")]
    public async Task Any_other_answer_reaches_the_client_as_sent(string answer)
    {
        _coordinator.StatusOnly = answer != "not status only";
        _coordinator.AnswerHeaders = answer == "with a session header" ? [new("X-Trino-Set-Session", "a=1")] : [];
        JsonElement posted = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT x FROM t");

        using HttpResponseMessage response = await _http.SendAsync(Request(HttpMethod.Get, posted.GetProperty("nextUri").GetString()!));
        JsonElement first = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

        Assert.Equal("QUEUED", first.GetProperty("stats").GetProperty("state").GetString());
        Assert.Equal("c1", first.GetProperty("id").GetString());
        Assert.Empty(_coordinator.Fetched);
        Assert.Equal(answer == "with a session header", response.Headers.Contains("X-Trino-Set-Session"));
        JsonElement second = await SendAsync(HttpMethod.Get, first.GetProperty("nextUri").GetString()!);
        Assert.Equal("[[1],[2]]", second.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Cancel_while_following_cancels_the_coordinators_query()
    {
        _coordinator.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JsonElement posted = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT x FROM t");
        Assert.True(await WaitUntilAsync(() => _coordinator.Fetched.Count == 1));

        using HttpResponseMessage deleted = await _http.SendAsync(Request(HttpMethod.Delete, posted.GetProperty("nextUri").GetString()!));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["/v1/statement/executing/c1/a/1"], _coordinator.Canceled);
        Assert.Equal(0, _door.ActiveQueries);
    }

    [Fact]
    public async Task A_failed_follow_fails_the_query_and_cancels_it_on_the_coordinator()
    {
        _coordinator.FetchError = "cluster 'coordinator': connection reset";
        JsonElement posted = await SendAsync(HttpMethod.Post, _door.Endpoint + "/v1/statement", "SELECT x FROM t");

        JsonElement first = await SendAsync(HttpMethod.Get, posted.GetProperty("nextUri").GetString()!);

        Assert.Equal("FAILED", first.GetProperty("stats").GetProperty("state").GetString());
        Assert.Contains("connection reset", first.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(await WaitUntilAsync(() => _coordinator.Canceled.Count == 1));
        Assert.Equal(["/v1/statement/executing/c1/a/1"], _coordinator.Canceled);
    }

    private static HttpRequestMessage Request(HttpMethod method, string uri, string? sql = null)
    {
        var request = new HttpRequestMessage(method, uri);
        if (sql is not null)
        {
            request.Content = new StringContent(sql, Encoding.UTF8);
        }

        request.Headers.Add("X-Trino-User", "edge");
        return request;
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string uri, string? sql = null)
    {
        using HttpRequestMessage request = Request(method, uri, sql);
        using HttpResponseMessage response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>A fake coordinator: QUEUED answer to the POST, a page with rows, a FINISHED page.</summary>
    private sealed class ScriptedCoordinator : IEngine, ITrinoHttpEngine, IEngineProvider
    {
        private const string Columns = "\"columns\":[{\"name\":\"x\",\"type\":\"bigint\",\"typeSignature\":{\"rawType\":\"bigint\",\"arguments\":[]}}]";

        public string ClusterName => "coordinator";

        public SqlDialect Dialect => SqlDialect.Trino;

        /// <summary>Whether the POST answer says it is status only (as the real engine reads it from the page).</summary>
        public bool StatusOnly { get; set; } = true;

        public IReadOnlyList<KeyValuePair<string, string>> AnswerHeaders { get; set; } = [];

        public string? FetchError { get; set; }

        /// <summary>When set, the first fetch waits for it or for its cancellation.</summary>
        public TaskCompletionSource? Hold { get; set; }

        public ConcurrentQueue<string> FetchedQueue { get; } = new();

        public ConcurrentQueue<string> CanceledQueue { get; } = new();

        public List<string> Fetched => [.. FetchedQueue];

        public List<string> Canceled => [.. CanceledQueue];

        public IEngine? Find(string clusterName) => clusterName == ClusterName ? this : null;

        public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
            throw new EngineException("the fake coordinator serves the passthrough only");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new TrinoUpstreamPage(
                200,
                Encoding.UTF8.GetBytes("""{"id":"c1","infoUri":"http://coord/ui/c1","nextUri":"http://coord/v1/statement/executing/c1/a/1","stats":{"state":"QUEUED"}}"""),
                new Uri("http://coord/v1/statement/executing/c1/a/1"),
                "QUEUED",
                AnswerHeaders) { IsStatusOnly = StatusOnly });

        public async ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken)
        {
            FetchedQueue.Enqueue(nextUri.AbsolutePath);
            if (Hold is { } hold)
            {
                await hold.Task.WaitAsync(cancellationToken);
            }

            if (FetchError is { } error)
            {
                throw new EngineException(error, SqlStates.ConnectionFailure);
            }

            return nextUri.AbsolutePath == "/v1/statement/executing/c1/a/1"
                ? Page("""{"id":"c1","nextUri":"http://coord/v1/statement/executing/c1/a/2",""" + Columns + ""","data":[[1],[2]],"stats":{"state":"RUNNING"}}""", "http://coord/v1/statement/executing/c1/a/2", "RUNNING")
                : Page("""{"id":"c1",""" + Columns + ""","data":[[3]],"stats":{"state":"FINISHED"}}""", null, "FINISHED");
        }

        public ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken)
        {
            CanceledQueue.Enqueue(nextUri.AbsolutePath);
            return ValueTask.CompletedTask;
        }

        private static TrinoUpstreamPage Page(string json, string? next, string state) =>
            new(200, Encoding.UTF8.GetBytes(json), next is null ? null : new Uri(next), state, []);
    }
}
