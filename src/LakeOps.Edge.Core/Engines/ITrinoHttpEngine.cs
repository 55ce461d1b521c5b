namespace LakeOps.Edge.Core.Engines;

/// <summary>
/// An engine that speaks Trino's client HTTP protocol. Besides the Arrow path (<see cref="IEngine"/>),
/// it lets the Trino front door pass a Trino client's query through: pages travel as the coordinator's
/// JSON bytes (only the URIs in them are rewritten by the front door), never decoded into rows.
/// </summary>
public interface ITrinoHttpEngine
{
    /// <summary>POST /v1/statement on the coordinator. Thrown <see cref="EngineException"/> 08006 when it cannot be reached.</summary>
    ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken);

    /// <summary>GET of a nextUri the coordinator handed out earlier.</summary>
    ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken);

    /// <summary>DELETE of a nextUri: cancels the query on the coordinator (best effort).</summary>
    ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken);
}

/// <summary>
/// One query submission: the SQL and the client's X-Trino-* request headers (the engine decides, from
/// its cluster config, which ones to forward and which credentials to present to the coordinator).
/// </summary>
public sealed record TrinoUpstreamRequest(string Sql, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>
/// One page as the coordinator sent it. <see cref="Body"/> is the QueryResults JSON, owned by the page
/// until it is disposed (pooled buffer); <see cref="NextUri"/> and <see cref="State"/> are read from it
/// so the front door needs no second parse. <see cref="Headers"/> holds the X-Trino-* response headers
/// (Set-Catalog, Added-Prepare, ...) that the client must see.
/// </summary>
public sealed class TrinoUpstreamPage(int statusCode, ReadOnlyMemory<byte> body, Uri? nextUri, string? state, IReadOnlyList<KeyValuePair<string, string>> headers, Action? release = null) : IDisposable
{
    public int StatusCode { get; } = statusCode;

    public ReadOnlyMemory<byte> Body { get; } = body;

    public Uri? NextUri { get; } = nextUri;

    public string? State { get; } = state;

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; } = headers;

    /// <summary>
    /// The page only reports progress: HTTP 200 with a nextUri, and no columns, data, error or update (e.g. the
    /// QUEUED answer to a POST). False when unknown.
    /// </summary>
    public bool IsStatusOnly { get; init; }

    /// <summary>The page's <c>error</c> object (a FAILED page), parsed with the rest of the page; null when it has none.</summary>
    public TrinoUpstreamError? Error { get; init; }

    public void Dispose() => release?.Invoke();
}

/// <summary>A coordinator's error as it wrote it: Trino's message, errorCode, errorName and errorType.</summary>
public sealed record TrinoUpstreamError(string Message, int ErrorCode, string? ErrorName, string? ErrorType);
