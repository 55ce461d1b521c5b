using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// A Trino coordinator, over Trino's client REST protocol (POST /v1/statement, GET nextUri until it is
/// gone, DELETE nextUri to cancel). One keep-alive HTTP connection pool per cluster (pool.max_size
/// connections, pool.idle_timeout, pool.max_lifetime, pool.connect_timeout). Two paths:
/// <list type="bullet">
/// <item>Arrow (<see cref="IEngine"/>): sessions decode pages into Arrow batches as they stream in, for psql, mysql and other non-Trino clients.</item>
/// <item>Passthrough (<see cref="ITrinoHttpEngine"/>): a Trino client's query goes through page by page as the coordinator's bytes.</item>
/// </list>
/// </summary>
public sealed class TrinoEngine : IEngine, ITrinoHttpEngine, IDrainableEngine
{
    /// <summary>Largest page body the passthrough buffers, and largest single JSON token the Arrow path accepts.</summary>
    internal const int MaxPageBytes = 256 * 1024 * 1024;

    private const int MaxServiceUnavailableRetries = 10;

    /// <summary>
    /// A passthrough query not polled for this long no longer counts as open: its client is gone, and the
    /// coordinator abandons it too (Trino's query.client.timeout defaults to 5 minutes).
    /// </summary>
    private static readonly TimeSpan AbandonedQueryAge = TimeSpan.FromMinutes(5);

    private readonly HttpClient _http;

    /// <summary>The health probe's own client, outside the capped pool, so a busy pool never makes a healthy coordinator look dead.</summary>
    private readonly HttpClient _probeHttp;

    /// <summary>Passthrough queries the coordinator still runs (a page with a nextUri was handed out): query id -> last page time.</summary>
    private readonly ConcurrentDictionary<string, long> _openQueries = new(StringComparer.Ordinal);
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly string _clientTags;
    private readonly HashSet<string> _forwardHeaders;
    private int _sessionCount;
    private int _passthroughRequests;
    private int _draining;
    private int _disposed;

    public TrinoEngine(ClusterConfig cluster)
        : this(cluster, null)
    {
    }

    /// <param name="cluster">A cluster with engine trino.</param>
    /// <param name="handler">The HTTP handler to use instead of the pooled SocketsHttpHandler (tests).</param>
    internal TrinoEngine(ClusterConfig cluster, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Engine != EngineKind.Trino)
        {
            throw new ArgumentException($"cluster '{cluster.Name}' is a {cluster.Engine} cluster, not trino", nameof(cluster));
        }

        Cluster = cluster;
        Options = cluster.Trino ?? throw new ArgumentException($"cluster '{cluster.Name}' has no trino (host, port) settings", nameof(cluster));
        string scheme = Options.Tls == EngineTlsMode.Disable ? "http" : "https";
        string host = Options.Host.Contains(':', StringComparison.Ordinal) && !Options.Host.StartsWith('[') ? $"[{Options.Host}]" : Options.Host;
        BaseUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"{scheme}://{host}:{Options.Port}/"));
        Address = string.Create(CultureInfo.InvariantCulture, $"{scheme}://{Options.Host}:{Options.Port}");
        _http = new HttpClient(handler ?? CreateHandler(cluster, Options, capped: true), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _probeHttp = handler is null
            ? new HttpClient(CreateHandler(cluster, Options, capped: false), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan }
            : _http;
        if (Options.AccessToken is { Length: > 0 } token)
        {
            _authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (Options.Password is not null)
        {
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Options.User + ":" + Options.Password)));
        }

        _clientTags = string.Join(',', Options.ClientTags);
        _forwardHeaders = new HashSet<string>(Options.ForwardHeaders, StringComparer.OrdinalIgnoreCase);
    }

    public ClusterConfig Cluster { get; }

    public TrinoEngineOptions Options { get; }

    /// <summary>The coordinator's base address (scheme, host, port).</summary>
    public Uri BaseUri { get; }

    /// <summary>"http(s)://host:port", for messages.</summary>
    public string Address { get; }

    public string ClusterName => Cluster.Name;

    public SqlDialect Dialect => SqlDialect.Trino;

    /// <summary>Engine sessions (Arrow path) open now.</summary>
    public int SessionCount => Volatile.Read(ref _sessionCount);

    /// <summary>Passthrough queries open now: the coordinator handed out a nextUri that was neither followed to the end nor canceled.</summary>
    public int PassthroughQueryCount
    {
        get
        {
            PruneAbandonedQueries();
            return _openQueries.Count;
        }
    }

    /// <summary>An engine session, a passthrough request or a passthrough query that has not finished is open.</summary>
    public bool IsBusy => SessionCount > 0 || Volatile.Read(ref _passthroughRequests) > 0 || PassthroughQueryCount > 0;

    /// <summary>
    /// SocketsHttpHandler cannot close just its idle connections; instead every later request asks the coordinator
    /// to close its connection, so none goes back to the pool, and disposing the engine closes what is left.
    /// </summary>
    public void BeginDrain() => Volatile.Write(ref _draining, 1);

    public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Increment(ref _sessionCount) > Cluster.Limits.MaxSessions)
        {
            Interlocked.Decrement(ref _sessionCount);
            throw new EngineException($"cluster '{ClusterName}' has reached max_sessions {Cluster.Limits.MaxSessions}", SqlStates.TooManyConnections);
        }

        return ValueTask.FromResult<IEngineSession>(new TrinoEngineSession(this, options));
    }

    internal void SessionClosed() => Interlocked.Decrement(ref _sessionCount);

    /// <inheritdoc/>
    public async ValueTask<TrinoUpstreamPage> SubmitAsync(TrinoUpstreamRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using HttpRequestMessage message = CreateStatementRequest(request.Sql, request.Headers);
        return await SendPassthroughAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<TrinoUpstreamPage> FetchAsync(Uri nextUri, CancellationToken cancellationToken)
    {
        using HttpRequestMessage message = CreateRequest(HttpMethod.Get, CheckOwnUri(nextUri), null);
        return await SendPassthroughAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask CancelAsync(Uri nextUri, CancellationToken cancellationToken)
    {
        Uri uri = CheckOwnUri(nextUri);
        if (QueryIdOf(uri) is { } queryId)
        {
            _openQueries.TryRemove(queryId, out _);
        }

        try
        {
            using HttpRequestMessage message = CreateRequest(HttpMethod.Delete, uri, null);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Best effort: the coordinator also abandons queries whose client stops polling.
        }
    }

    /// <summary>
    /// GET /v1/info over the probe's own HTTP client (not the capped statement pool); the JSON says whether the
    /// coordinator is still starting. Throws <see cref="EngineException"/> 08006 when unreachable.
    /// </summary>
    public async ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using HttpRequestMessage message = CreateRequest(HttpMethod.Get, new Uri(BaseUri, "v1/info"), null);
        using HttpResponseMessage response = await SendAsync(_probeHttp, message, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }

        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var reader = new System.Text.Json.Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                bool isStarting = reader.ValueTextEquals("starting"u8);
                reader.Read();
                if (isStarting)
                {
                    return reader.TokenType == System.Text.Json.JsonTokenType.False;
                }

                reader.Skip();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }

        return false;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _http.Dispose();
            if (!ReferenceEquals(_probeHttp, _http))
            {
                _probeHttp.Dispose();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// POST /v1/statement for the passthrough: the client's headers that the cluster config forwards (legacy
    /// X-Presto-* renamed), the configured user or the client's (forward_user), Edge's credentials.
    /// </summary>
    internal HttpRequestMessage CreateStatementRequest(string sql, IReadOnlyList<KeyValuePair<string, string>> clientHeaders)
    {
        string? clientUser = null;
        var forwarded = new List<KeyValuePair<string, string>>(clientHeaders.Count + 4);
        string? tags = null;
        string? session = null;
        foreach (KeyValuePair<string, string> header in clientHeaders)
        {
            string name = header.Key.StartsWith("X-Presto-", StringComparison.OrdinalIgnoreCase) ? "X-Trino-" + header.Key[9..] : header.Key;
            if (name.Equals("X-Trino-User", StringComparison.OrdinalIgnoreCase))
            {
                clientUser = header.Value;
            }
            else if (name.Equals("X-Trino-Client-Tags", StringComparison.OrdinalIgnoreCase) && _forwardHeaders.Contains(name))
            {
                tags = tags is null ? header.Value : tags + "," + header.Value;
            }
            else if (name.Equals("X-Trino-Session", StringComparison.OrdinalIgnoreCase) && _forwardHeaders.Contains(name))
            {
                session = session is null ? header.Value : session + "," + header.Value;
            }
            else if (_forwardHeaders.Contains(name))
            {
                forwarded.Add(new KeyValuePair<string, string>(name, header.Value));
            }
        }

        var message = CreateRequest(HttpMethod.Post, new Uri(BaseUri, "v1/statement"), Options.ForwardUser ? clientUser : null);
        message.Content = new StringContent(sql, Encoding.UTF8, "text/plain");
        HttpRequestHeaders headers = message.Headers;
        bool hasSource = false;
        bool hasCatalog = false;
        bool hasSchema = false;
        foreach (KeyValuePair<string, string> header in forwarded)
        {
            hasSource |= header.Key.Equals("X-Trino-Source", StringComparison.OrdinalIgnoreCase);
            hasCatalog |= header.Key.Equals("X-Trino-Catalog", StringComparison.OrdinalIgnoreCase);
            hasSchema |= header.Key.Equals("X-Trino-Schema", StringComparison.OrdinalIgnoreCase);
            headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (!hasSource)
        {
            headers.TryAddWithoutValidation("X-Trino-Source", Options.Source);
        }

        if (!hasCatalog && Options.Catalog is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Catalog", Options.Catalog);
        }

        if (!hasSchema && Options.Schema is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Schema", Options.Schema);
        }

        string combinedTags = tags is null ? _clientTags : _clientTags.Length == 0 ? tags : _clientTags + "," + tags;
        if (combinedTags.Length > 0)
        {
            headers.TryAddWithoutValidation("X-Trino-Client-Tags", combinedTags);
        }

        string? combinedSession = CombineSession(session);
        if (combinedSession is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Session", combinedSession);
        }

        return message;
    }

    /// <summary>POST /v1/statement for the Arrow path, with the engine session's state.</summary>
    internal HttpRequestMessage CreateStatementRequest(string sql, string user, TrinoSessionState state, KeyValuePair<string, string>? extraPrepared)
    {
        var message = CreateRequest(HttpMethod.Post, new Uri(BaseUri, "v1/statement"), Options.ForwardUser ? user : null);
        message.Content = new StringContent(sql, Encoding.UTF8, "text/plain");
        HttpRequestHeaders headers = message.Headers;
        headers.TryAddWithoutValidation("X-Trino-Source", Options.Source);
        // Full-precision timestamps and time zone names, as current Trino clients ask for them.
        headers.TryAddWithoutValidation("X-Trino-Client-Capabilities", "PATH,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION");
        if (_clientTags.Length > 0)
        {
            headers.TryAddWithoutValidation("X-Trino-Client-Tags", _clientTags);
        }

        state.WriteTo(headers, extraPrepared);
        return message;
    }

    /// <summary>A request to the coordinator with Edge's credentials and X-Trino-User.</summary>
    internal HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, string? user)
    {
        var message = new HttpRequestMessage(method, uri) { Version = HttpVersion.Version11 };
        message.Headers.TryAddWithoutValidation("X-Trino-User", string.IsNullOrEmpty(user) ? Options.User : user);
        message.Headers.Authorization = _authorization;
        message.Headers.UserAgent.TryParseAdd("lakeops-edge");
        if (Volatile.Read(ref _draining) != 0)
        {
            // A retired engine keeps no connection alive (see BeginDrain).
            message.Headers.ConnectionClose = true;
        }

        return message;
    }

    /// <summary>
    /// Sends a request and waits for the response headers (up to request_timeout). Retries 503 as Trino's
    /// protocol asks; maps connection failures to 08006 and a rejected login to 28000.
    /// </summary>
    internal Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken) =>
        SendAsync(_http, message, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        byte[]? body = message.Content is null ? null : await message.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            HttpResponseMessage response;
            HttpRequestMessage send = attempt == 0 ? message : Clone(message, body);
            try
            {
                response = await http.SendAsync(send, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new EngineException(
                    string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}': no response from the Trino coordinator at {Address} within {Options.RequestTimeout.TotalSeconds:0.###} s"),
                    SqlStates.ConnectionFailure);
            }
            catch (HttpRequestException ex)
            {
                throw ConnectionFailure(ex);
            }
            finally
            {
                if (attempt > 0)
                {
                    send.Dispose();
                }
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < MaxServiceUnavailableRetries)
            {
                response.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(50 * (attempt + 1)), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                response.Dispose();
                throw new EngineException(
                    string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}': the Trino coordinator at {Address} rejected Edge's credentials for user '{Options.User}' (HTTP {(int)response.StatusCode})"),
                    SqlStates.InvalidAuthorizationSpecification);
            }

            return response;
        }
    }

    /// <summary>Raises the error a non-200 response stands for (its body is Trino's message, or a page with an error).</summary>
    internal async Task<EngineException> HttpErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > 0 && body[0] == (byte)'{')
            {
                try
                {
                    if (TrinoResultsReader.ReadPageInfo(body).Error is { } error)
                    {
                        return TrinoErrors.FromPage(error);
                    }
                }
                catch (FormatException)
                {
                    // Not a page: report the text.
                }
            }

            text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 512)).Trim();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            text = ex.Message;
        }

        return new EngineException(
            string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}': the Trino coordinator answered HTTP {(int)response.StatusCode}{(text.Length > 0 ? ": " + text : string.Empty)}"),
            (int)response.StatusCode >= 500 ? SqlStates.ConnectionFailure : SqlStates.ProtocolViolation);
    }

    internal EngineException ConnectionFailure(Exception ex)
    {
        string reason = ex.InnerException is SocketException socket ? socket.Message : ex.InnerException?.Message ?? ex.Message;
        return new EngineException($"cluster '{ClusterName}': cannot connect to the Trino coordinator at {Address}: {reason}", SqlStates.ConnectionFailure, ex);
    }

    internal EngineException Malformed(Exception ex) =>
        new($"cluster '{ClusterName}': the Trino coordinator at {Address} sent a page Edge cannot read: {ex.Message}", SqlStates.ProtocolViolation, ex);

    /// <summary>Only URIs on this coordinator are followed: a page's nextUri must not send Edge (and its credentials) elsewhere.</summary>
    internal Uri CheckOwnUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            return new Uri(BaseUri, uri);
        }

        if (!string.Equals(uri.Scheme, BaseUri.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(uri.Host, BaseUri.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != BaseUri.Port)
        {
            throw new EngineException($"cluster '{ClusterName}': refusing to follow '{uri.GetLeftPart(UriPartial.Authority)}', which is not the coordinator {Address}", SqlStates.ProtocolViolation);
        }

        return uri;
    }

    private string? CombineSession(string? clientSession)
    {
        if (Options.SessionProperties.Count == 0)
        {
            return clientSession;
        }

        // Configured properties first, then the client's, which win where names repeat.
        var text = new StringBuilder();
        foreach (KeyValuePair<string, string> property in Options.SessionProperties)
        {
            if (clientSession is not null && clientSession.Contains(property.Key + "=", StringComparison.Ordinal))
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(property.Key).Append('=').Append(Uri.EscapeDataString(property.Value));
        }

        if (clientSession is not null)
        {
            text.Append(text.Length > 0 ? "," : string.Empty).Append(clientSession);
        }

        return text.ToString();
    }

    /// <summary>A passthrough request, counted while it runs; its page says whether the query stays open.</summary>
    private async ValueTask<TrinoUpstreamPage> SendPassthroughAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _passthroughRequests);
        try
        {
            return await SendForPageAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _passthroughRequests);
        }
    }

    private void TrackQuery(string? queryId, bool open)
    {
        if (queryId is null)
        {
            return;
        }

        if (!open)
        {
            _openQueries.TryRemove(queryId, out _);
            return;
        }

        _openQueries[queryId] = Environment.TickCount64;
        if (_openQueries.Count > 1024)
        {
            PruneAbandonedQueries();
        }
    }

    private void PruneAbandonedQueries()
    {
        long oldest = Environment.TickCount64 - (long)AbandonedQueryAge.TotalMilliseconds;
        foreach (KeyValuePair<string, long> query in _openQueries)
        {
            if (query.Value < oldest)
            {
                _openQueries.TryRemove(query);
            }
        }
    }

    /// <summary>The query id in a nextUri (/v1/statement/{queued|executing}/{queryId}/...), or null.</summary>
    private static string? QueryIdOf(Uri uri)
    {
        string[] segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length >= 4 && segments[0] == "v1" && segments[1] == "statement" ? segments[3] : null;
    }

    private async ValueTask<TrinoUpstreamPage> SendForPageAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, IEnumerable<string>> header in response.Headers)
        {
            if (header.Key.StartsWith("X-Trino-", StringComparison.OrdinalIgnoreCase))
            {
                foreach (string value in header.Value)
                {
                    headers.Add(new KeyValuePair<string, string>(header.Key, value));
                }
            }
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        int length = 0;
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Options.RequestTimeout);
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxPageBytes)
                        {
                            throw new EngineException($"cluster '{ClusterName}': a page from the Trino coordinator exceeds {MaxPageBytes / (1024 * 1024)} MB", SqlStates.ProgramLimitExceeded);
                        }

                        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    int read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                }
            }

            Uri? nextUri = null;
            string? state = null;
            bool statusOnly = false;
            TrinoUpstreamError? error = null;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                TrinoPageInfo info = TrinoResultsReader.ReadPageInfo(buffer.AsSpan(0, length));
                nextUri = info.NextUri is null ? null : new Uri(info.NextUri, UriKind.RelativeOrAbsolute);
                state = info.State;
                error = info.Error is { } failed ? new TrinoUpstreamError(failed.Message, failed.ErrorCode, failed.ErrorName, failed.ErrorType) : null;
                statusOnly = nextUri is not null && !info.HasData && !info.HasColumns && info.Error is null && info.UpdateType is null;
                TrackQuery(info.Id, open: nextUri is not null);
            }
            else if (message.RequestUri is { } requested)
            {
                // 404 / 410 and other failures of a nextUri: the coordinator no longer runs the query.
                TrackQuery(QueryIdOf(requested), open: false);
            }

            byte[] owned = buffer;
            var page = new TrinoUpstreamPage((int)response.StatusCode, owned.AsMemory(0, length), nextUri, state, headers, () => ArrayPool<byte>.Shared.Return(owned))
            {
                IsStatusOnly = statusOnly,
                Error = error,
            };
            buffer = [];
            return page;
        }
        catch (FormatException ex)
        {
            throw Malformed(ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EngineException($"cluster '{ClusterName}': the Trino coordinator at {Address} stopped sending a page", SqlStates.ConnectionFailure);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw ConnectionFailure(ex);
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static HttpRequestMessage Clone(HttpRequestMessage message, byte[]? body)
    {
        var copy = new HttpRequestMessage(message.Method, message.RequestUri) { Version = message.Version };
        foreach (KeyValuePair<string, IEnumerable<string>> header in message.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (KeyValuePair<string, IEnumerable<string>> header in message.Content!.Headers)
            {
                copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return copy;
    }

    /// <summary>The keep-alive HTTP handler; <paramref name="capped"/>: pool.max_size limits its connections (statement pool) or not (health probe).</summary>
    private static SocketsHttpHandler CreateHandler(ClusterConfig cluster, TrinoEngineOptions options, bool capped)
    {
        PoolOptions pool = cluster.Pool;
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = capped ? pool.MaxSize : int.MaxValue,
            PooledConnectionIdleTimeout = pool.IdleTimeout > TimeSpan.Zero ? pool.IdleTimeout : Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = pool.MaxLifetime > TimeSpan.Zero ? pool.MaxLifetime : Timeout.InfiniteTimeSpan,
            ConnectTimeout = pool.ConnectTimeout,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };
        if (options.Tls != EngineTlsMode.Disable)
        {
            var remote = new RemoteEngineOptions { Host = options.Host, Port = options.Port, User = options.User, Tls = options.Tls, CaFile = options.CaFile };
            handler.SslOptions.RemoteCertificateValidationCallback = EngineTls.CertificateValidator(remote);
        }

        return handler;
    }
}
