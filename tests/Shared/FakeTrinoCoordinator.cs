using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LakeOps.Edge.Tests.Shared;

/// <summary>
/// A FAKE Trino coordinator for tests (a real Trino cannot run on this machine). It does not run SQL: it
/// replays scripted responses of Trino's documented client REST protocol: POST /v1/statement answers the
/// first page, each page's nextUri (/v1/statement/executing/{id}/{slug}/{token}) the next one, DELETE on
/// such a URI is recorded as a cancellation, GET /v1/info reports <c>starting</c>. Scripts model
/// multi-page results, QUEUED/RUNNING states, FAILED pages with Trino's error JSON, session response
/// headers, 503 retries and held pages (to cancel a query while it waits). Bodies can be sent in small
/// chunks so clients see a page's JSON split anywhere. Loopback only, on a free port.
/// </summary>
public sealed class FakeTrinoCoordinator : IAsyncDisposable
{
    /// <summary>Replaced in page bodies by the URI of the next page.</summary>
    public const string NextUriToken = "{nextUri}";

    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, FakeQuery> _queries = new(StringComparer.Ordinal);
    private int _queryCounter;

    public FakeTrinoCoordinator()
    {
        // HttpListener cannot bind port 0: take a free port from the OS, retry if someone grabbed it meanwhile.
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
            try
            {
                listener.Start();
                _listener = listener;
                Port = port;
                break;
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }

        BaseUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/"));
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public Uri BaseUri { get; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<FakeTrinoRequest> Requests { get; } = new();

    /// <summary>Bodies of the pages answered (after token replacement), in order.</summary>
    public ConcurrentQueue<string> SentPages { get; } = new();

    /// <summary>Paths of DELETE requests (cancellations).</summary>
    public ConcurrentQueue<string> Deletes { get; } = new();

    /// <summary>Answers a statement (its SQL and request) with a script of pages.</summary>
    public Func<string, FakeTrinoRequest, FakeQuery> OnStatement { get; set; } = (_, _) => FakeQuery.Finished();

    /// <summary>What GET /v1/info says in <c>starting</c>.</summary>
    public bool Starting { get; set; }

    /// <summary>The statement requests (POST /v1/statement) received so far.</summary>
    public IReadOnlyList<FakeTrinoRequest> Statements => Requests.Where(r => r.Method == "POST").ToList();

    public async ValueTask DisposeAsync()
    {
        foreach (FakeQuery query in _queries.Values)
        {
            query.ReleaseAll();
        }

        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Waits (polling, with a deadline) until <paramref name="condition"/> holds.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        return true;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return port;
    }

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        HttpListenerResponse response = context.Response;
        try
        {
            string body;
            using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
            {
                body = await reader.ReadToEndAsync().ConfigureAwait(false);
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string? name in request.Headers.AllKeys)
            {
                if (name is not null)
                {
                    headers[name] = request.Headers[name] ?? string.Empty;
                }
            }

            string path = request.Url!.AbsolutePath;
            var recorded = new FakeTrinoRequest(request.HttpMethod, path, headers, body);
            Requests.Enqueue(recorded);

            if (request.HttpMethod == "GET" && path == "/v1/info")
            {
                await WriteAsync(response, 200, $$"""{"nodeVersion":{"version":"fake-476"},"environment":"test","coordinator":true,"starting":{{(Starting ? "true" : "false")}},"uptime":"1.00m"}""", null, 0).ConfigureAwait(false);
                return;
            }

            if (request.HttpMethod == "POST" && path == "/v1/statement")
            {
                string id = string.Create(CultureInfo.InvariantCulture, $"20260101_000000_{Interlocked.Increment(ref _queryCounter):00000}_fake0");
                FakeQuery query = OnStatement(body, recorded);
                query.Id = id;
                _queries[id] = query;
                await AnswerPageAsync(response, query, 0).ConfigureAwait(false);
                return;
            }

            // /v1/statement/executing/{id}/{slug}/{token}
            string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 6 && parts[0] == "v1" && parts[1] == "statement" && parts[2] == "executing" && _queries.TryGetValue(parts[3], out FakeQuery? found))
            {
                if (request.HttpMethod == "DELETE")
                {
                    Deletes.Enqueue(path);
                    found.Canceled = true;
                    found.ReleaseAll();
                    await WriteAsync(response, 204, string.Empty, null, 0).ConfigureAwait(false);
                    return;
                }

                int token = int.Parse(parts[5], CultureInfo.InvariantCulture);
                await AnswerPageAsync(response, found, token).ConfigureAwait(false);
                return;
            }

            await WriteAsync(response, 404, "not found: " + path, null, 0).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away (cancellation tests do that on purpose).
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    private async Task AnswerPageAsync(HttpListenerResponse response, FakeQuery query, int token)
    {
        if (token >= query.Pages.Count)
        {
            await WriteAsync(response, 410, "query is gone", null, 0).ConfigureAwait(false);
            return;
        }

        FakePage page = query.Pages[token];
        if (page.Hold is { } hold)
        {
            await hold.Task.ConfigureAwait(false);
        }

        if (query.Canceled && page.Status == 200)
        {
            await WriteAsync(response, 410, "query was canceled", null, 0).ConfigureAwait(false);
            return;
        }

        // A page answered 503 is asked again: the next request for the same token gets the next script entry.
        if (page.Status == 503)
        {
            query.Pages.RemoveAt(token);
            await WriteAsync(response, 503, "busy", null, 0).ConfigureAwait(false);
            return;
        }

        string next = string.Create(CultureInfo.InvariantCulture, $"{BaseUri}v1/statement/executing/{query.Id}/yfake/{token + 1}");
        string body = page.Body
            .Replace(NextUriToken, next, StringComparison.Ordinal)
            .Replace("{id}", query.Id, StringComparison.Ordinal)
            .Replace("{infoUri}", $"{BaseUri}ui/query.html?{query.Id}", StringComparison.Ordinal);
        SentPages.Enqueue(body);
        await WriteAsync(response, page.Status, body, page.Headers, page.ChunkSize).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string body, IReadOnlyList<KeyValuePair<string, string>>? headers, int chunkSize)
    {
        response.StatusCode = status;
        response.ContentType = status == 200 ? "application/json" : "text/plain";
        if (headers is not null)
        {
            foreach (KeyValuePair<string, string> header in headers)
            {
                response.AppendHeader(header.Key, header.Value);
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(body);
        if (chunkSize <= 0)
        {
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            return;
        }

        response.SendChunked = true;
        for (int at = 0; at < bytes.Length; at += chunkSize)
        {
            await response.OutputStream.WriteAsync(bytes.AsMemory(at, Math.Min(chunkSize, bytes.Length - at))).ConfigureAwait(false);
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>One request the fake received.</summary>
public sealed record FakeTrinoRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>One scripted response: status, body (with {nextUri}, {id}, {infoUri} tokens), headers, chunking, and an optional hold.</summary>
public sealed record FakePage(string Body, int Status = 200, IReadOnlyList<KeyValuePair<string, string>>? Headers = null, int ChunkSize = 0)
{
    /// <summary>When set, the page is answered only after this completes (or the query is cancelled).</summary>
    public TaskCompletionSource? Hold { get; init; }
}

/// <summary>A scripted query: the pages its POST and nextUri GETs answer, in order.</summary>
public sealed class FakeQuery
{
    public FakeQuery(params FakePage[] pages) => Pages = [.. pages];

    public List<FakePage> Pages { get; }

    public string Id { get; set; } = string.Empty;

    public bool Canceled { get; set; }

    /// <summary>A query that finishes at once with no columns (e.g. DDL).</summary>
    public static FakeQuery Finished(string? updateType = null) => new(new FakePage(TrinoPages.Finished(updateType: updateType)));

    public void ReleaseAll()
    {
        foreach (FakePage page in Pages)
        {
            page.Hold?.TrySetResult();
        }
    }
}

/// <summary>Page bodies as Trino's documented QueryResults JSON (member order as Trino writes them).</summary>
public static class TrinoPages
{
    public static string Queued() =>
        """{"id":"{id}","infoUri":"{infoUri}","nextUri":"{nextUri}","stats":{"state":"QUEUED","queued":true,"scheduled":false,"nodes":0,"totalSplits":0,"queuedSplits":0,"runningSplits":0,"completedSplits":0,"cpuTimeMillis":0,"wallTimeMillis":0,"queuedTimeMillis":1,"elapsedTimeMillis":1,"processedRows":0,"processedBytes":0,"physicalInputBytes":0,"peakMemoryBytes":0,"spilledBytes":0},"warnings":[]}""";

    public static string Running(string? columns = null, string? data = null, bool last = false, string? updateType = null, long updateCount = -1)
    {
        var text = new StringBuilder();
        text.Append("""{"id":"{id}","infoUri":"{infoUri}",""");
        if (!last)
        {
            text.Append("\"partialCancelUri\":\"{infoUri}/0\",\"nextUri\":\"{nextUri}\",");
        }

        if (columns is not null)
        {
            text.Append("\"columns\":").Append(columns).Append(',');
        }

        if (data is not null)
        {
            text.Append("\"data\":").Append(data).Append(',');
        }

        text.Append("\"stats\":{\"state\":\"").Append(last ? "FINISHED" : "RUNNING")
            .Append("\",\"queued\":false,\"scheduled\":true,\"elapsedTimeMillis\":12,\"processedRows\":5,\"processedBytes\":120,\"rootStage\":{\"stageId\":\"0\",\"state\":\"RUNNING\",\"done\":false,\"subStages\":[]}},\"warnings\":[]");
        if (updateType is not null)
        {
            text.Append(",\"updateType\":\"").Append(updateType).Append('"');
        }

        if (updateCount >= 0)
        {
            text.Append(",\"updateCount\":").Append(updateCount.ToString(CultureInfo.InvariantCulture));
        }

        return text.Append('}').ToString();
    }

    public static string Finished(string? columns = null, string? data = null, string? updateType = null, long updateCount = -1) =>
        Running(columns, data, last: true, updateType, updateCount);

    public static string Failed(string message, int errorCode, string errorName, string errorType) =>
        $$$"""{"id":"{id}","infoUri":"{infoUri}","stats":{"state":"FAILED","queued":false,"scheduled":false,"elapsedTimeMillis":3,"processedRows":0,"processedBytes":0},"error":{"message":"{{{message}}}","errorCode":{{{errorCode}}},"errorName":"{{{errorName}}}","errorType":"{{{errorType}}}","errorLocation":{"lineNumber":1,"columnNumber":8},"failureInfo":{"type":"io.trino.sql.parser.ParsingException","message":"{{{message}}}","suppressed":[],"stack":[]}},"warnings":[]}""";

    /// <summary>A columns array: pairs of name and Trino type.</summary>
    public static string Columns(params (string Name, string Type)[] columns)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < columns.Length; i++)
        {
            text.Append(i == 0 ? string.Empty : ",")
                .Append("{\"name\":\"").Append(columns[i].Name).Append("\",\"type\":\"").Append(columns[i].Type)
                .Append("\",\"typeSignature\":{\"rawType\":\"").Append(columns[i].Type.Split('(')[0]).Append("\",\"arguments\":[]}}");
        }

        return text.Append(']').ToString();
    }
}
