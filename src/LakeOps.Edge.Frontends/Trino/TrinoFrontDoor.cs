using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Telemetry.Audit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// The Trino HTTP front door (Kestrel): <c>POST /v1/statement</c>, paging with <c>GET</c> on nextUri,
/// cancel with <c>DELETE</c>, <c>GET /v1/info</c>. Each query is routed, admitted and run like a statement
/// of the other front doors; results stream as pages built from Arrow batches, or pass through as the
/// coordinator's bytes when the cluster is a Trino engine (<see cref="ITrinoHttpEngine"/>). Session state
/// travels in headers (X-Trino-Set-Catalog, -Set-Session, -Added-Prepare, ...), as with Trino itself.
/// Same life cycle as <see cref="FrontDoorListener"/>: <see cref="Start"/>, <see cref="StopAsync"/>, dispose.
/// </summary>
public sealed partial class TrinoFrontDoor : IFrontDoor
{
    /// <summary>JSON written into a page before it is sent (pages end at a row boundary past it).</summary>
    public const int TargetPageBytes = 1024 * 1024;

    private static readonly TimeSpan PageWait = TimeSpan.FromSeconds(1);
    private static readonly string ServerVersion = "lakeops-edge-" + (typeof(TrinoFrontDoor).Assembly.GetName().Version?.ToString(3) ?? "0");
    private static readonly long StartedAt = Environment.TickCount64;

    private readonly ConfigStore _config;
    private readonly IEngineProvider _engines;
    private readonly ListenerConfig _listener;
    private readonly X509Certificate2? _certificate;
    private readonly TrinoAuthenticator _authenticator = new();
    private readonly TrinoRegistry<TrinoQuery> _queries;
    private WebApplication? _app;
    private TrinoServices? _services;
    private int _stopped;

    public TrinoFrontDoor(ListenerConfig listener, ConfigStore config, IEngineProvider engines)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(config);
        _listener = listener;
        _config = config;
        _engines = engines;
        Name = listener.Name;
        if (listener.Tls is { } tls)
        {
            _certificate = ListenerCertificate.Load(tls);
        }

        _queries = new TrinoRegistry<TrinoQuery>(() => Listener().Limits.ClientTimeout, TimeSpan.FromSeconds(5), static (n, _) =>
            $"Trino front door: {n} abandoned quer{(n == 1 ? "y" : "ies")} cancelled");
        _transactions = new TrinoRegistry<TrinoTransaction>(() => Listener().Limits.ClientTimeout, TimeSpan.FromSeconds(5), static (n, timeout) =>
            $"Trino front door: {n} abandoned transaction{(n == 1 ? "" : "s")} rolled back (no query for {timeout.TotalSeconds:0} s, client_timeout)");
    }

    public string Name { get; }

    /// <summary>The bound address, e.g. http://127.0.0.1:18080 (useful with port 0); set by <see cref="Start"/>.</summary>
    public string Endpoint { get; private set; } = "";

    /// <inheritdoc cref="FrontDoorListener.Picker"/>
    public ClusterPicker Picker { get; init; } = new(new ClusterHealthRegistry());

    /// <inheritdoc cref="FrontDoorListener.Audit"/>
    public AuditLog? Audit { get; init; }

    /// <inheritdoc cref="FrontDoorListener.Admission"/>
    public AdmissionGates? Admission { get; init; }

    /// <summary>Live queries (for tests and metrics).</summary>
    public int ActiveQueries => _queries.Count;

    /// <summary>Runs the abandoned-query sweep now (it also runs every 5 s); returns how many queries it cancelled.</summary>
    internal Task<int> SweepAbandonedAsync() => _queries.SweepAsync();

    /// <summary>Binds and starts serving. Throws <see cref="IOException"/> when the address is taken.</summary>
    public void Start()
    {
        _services = new TrinoServices(_config, _engines, Picker, Admission, Audit);
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = _listener.Limits.MaxMessageSize;
            options.Limits.MaxConcurrentConnections = _listener.Limits.MaxConnections;
            options.Listen(_listener.Endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                if (_certificate is not null)
                {
                    listen.UseHttps(_certificate);
                }
            });
        });
        WebApplication app = builder.Build();
        app.Run(HandleAsync);
        app.StartAsync().GetAwaiter().GetResult();
        _app = app;
        Endpoint = app.Urls.FirstOrDefault() ?? _listener.Endpoint.ToString();
        Log.Info(EventId.Listening, $"trino listener '{Name}' on {Endpoint}");
    }

    /// <summary>Stops accepting, lets running requests finish up to the timeout, then cancels live queries.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        if (_app is not null)
        {
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await _app.StopAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await _queries.DisposeAsync().ConfigureAwait(false);

        // After the queries (a query that ends unfinished aborts its transaction): open transactions roll back.
        await _transactions.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _certificate?.Dispose();
    }

    private ListenerConfig Listener() => _config.Current.FindListener(Name) ?? _listener;

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            HttpRequest request = context.Request;
            string path = request.Path.Value ?? "";
            if (path == "/v1/statement")
            {
                await (HttpMethods.IsPost(request.Method) ? SubmitAsync(context) : TextAsync(context, 405, "use POST to submit a query")).ConfigureAwait(false);
            }
            else if (path.StartsWith("/v1/statement/executing/", StringComparison.Ordinal))
            {
                await PageRequestAsync(context, path["/v1/statement/executing/".Length..]).ConfigureAwait(false);
            }
            else if (path.StartsWith("/v1/statement/partialCancel/", StringComparison.Ordinal))
            {
                // Partial cancel (stop a stage early) has no meaning here; the query goes on.
                context.Response.StatusCode = 204;
            }
            else if (path == "/v1/info")
            {
                await InfoAsync(context).ConfigureAwait(false);
            }
            else if (path == "/v1/info/state")
            {
                await JsonAsync(context, "\"ACTIVE\""u8.ToArray()).ConfigureAwait(false);
            }
            else if (path.StartsWith("/v1/query/", StringComparison.Ordinal))
            {
                await QueryInfoAsync(context, path["/v1/query/".Length..]).ConfigureAwait(false);
            }
            else
            {
                await TextAsync(context, 404, $"not found: {path}").ConfigureAwait(false);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            if (!context.Response.HasStarted)
            {
                await TextAsync(context, ex.StatusCode, ex.StatusCode == 413
                    ? $"request body larger than max_message_size ({Listener().Limits.MaxMessageSize} bytes) of listener '{Name}'"
                    : ex.Message).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    /// <summary>The request's user, or the reason it has none (answer it with <see cref="RefuseAsync"/>).</summary>
    private (string? User, string? Error) Authenticate(HttpContext context)
    {
        string? headerUser = context.Request.Headers["X-Trino-User"].FirstOrDefault() ?? context.Request.Headers["X-Presto-User"].FirstOrDefault();
        return _authenticator.Authenticate(Listener().Auth, _config.Current, context.Request.Headers.Authorization.FirstOrDefault(), headerUser);
    }

    /// <summary>400 on trust listeners (no user given), 401 with a Basic challenge otherwise.</summary>
    private Task RefuseAsync(HttpContext context, string error)
    {
        if (Listener().Auth == AuthMethod.Trust)
        {
            return TextAsync(context, 400, error);
        }

        context.Response.Headers.WWWAuthenticate = "Basic realm=\"LakeOps Edge\"";
        return TextAsync(context, 401, error);
    }

    private async Task SubmitAsync(HttpContext context)
    {
        (string? user, string? refused) = Authenticate(context);
        if (user is null)
        {
            await RefuseAsync(context, refused!).ConfigureAwait(false);
            return;
        }

        string sql = await ReadBodyAsync(context).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(sql))
        {
            await TextAsync(context, 400, "SQL statement is empty").ConfigureAwait(false);
            return;
        }

        TrinoClientSession session = TrinoClientSession.FromHeaders(context.Request.Headers);
        TrinoSessionStatement statement = TrinoSessionStatement.Parse(sql);
        if (IsTransactionControl(statement))
        {
            // START TRANSACTION, COMMIT, ROLLBACK: real engine transactions (TrinoFrontDoor.Transactions.cs).
            await TransactionStatementAsync(context, user!, session, statement, sql).ConfigureAwait(false);
            return;
        }

        if (statement.Kind == TrinoSessionStatementKind.Execute)
        {
            if (!session.PreparedStatements.TryGetValue(statement.Name!, out string? prepared))
            {
                await ImmediateAsync(context, TrinoError.NotFound($"Prepared statement not found: {statement.Name}")).ConfigureAwait(false);
                return;
            }

            string? bound = TrinoSessionStatement.Bind(prepared, statement.Parameters);
            if (bound is null)
            {
                await ImmediateAsync(context, TrinoError.GenericUser($"Incorrect number of parameters: prepared statement '{statement.Name}' does not take {statement.Parameters.Count}")).ConfigureAwait(false);
                return;
            }

            sql = bound;
        }
        else if (statement.Kind != TrinoSessionStatementKind.None)
        {
            await SessionStatementAsync(context, statement).ConfigureAwait(false);
            return;
        }

        EdgeConfig config = _config.Current;
        RouteRequest route = BuildRoute(config, user!, session);
        if (RouteAttributes.TryParseExplainRoute(sql, out string explained))
        {
            RecordBatch batch = ExplainRouteResult.For(null, route, config, explained);
            await ImmediateAsync(context, null, batch).ConfigureAwait(false);
            return;
        }

        (TrinoTransaction? transaction, TrinoError? notEntered) = EnterTransaction(user!, session);
        if (notEntered is not null)
        {
            await ImmediateAsync(context, notEntered).ConfigureAwait(false);
            return;
        }

        var query = new TrinoQuery(_services!, route, sql, ClientAddress(context)) { Transaction = transaction };
        if (!_queries.TryAdd(query, Listener().Limits.MaxConnections))
        {
            await query.DisposeAsync().ConfigureAwait(false);
            await ImmediateAsync(context, TrinoError.QueueFull($"too many queries on Trino listener '{Name}' (max_connections {Listener().Limits.MaxConnections})")).ConfigureAwait(false);
            return;
        }

        await query.Gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            // Like Trino, the POST answers at once with a nextUri (clients such as presto-client require one); the
            // query starts meanwhile and the first GET brings its first rows.
            query.Touch();
            _ = query.Start();
            query.Token++;
            var buffer = new ArrayBufferWriter<byte>(512);
            string baseUri = BaseUri(context);
            WriteStatusPage(buffer, query, baseUri, NextUri(baseUri, query));
            await SendAsync(context, buffer).ConfigureAwait(false);
        }
        finally
        {
            query.Gate.Release();
        }
    }

    private RouteRequest BuildRoute(EdgeConfig config, string user, TrinoClientSession session) => new()
    {
        Protocol = "trino",
        Listener = Name,
        User = user,
        Roles = RouteAttributes.RolesOf(config, user),
        Database = session.Catalog,
        Schema = session.Schema,
        Application = session.Source,
        Tags = session.ClientTags,
        Session = session.Properties,
        Headers = session.Headers,
        Syntax = SqlSyntax.Trino,
    };

    /// <summary>GET (next page) or DELETE (cancel) of /v1/statement/executing/{id}/{token}.</summary>
    private async Task PageRequestAsync(HttpContext context, string rest)
    {
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string id = slash < 0 ? rest : rest[..slash];
        long token = slash < 0 || !long.TryParse(rest.AsSpan(slash + 1), out long parsed) ? -1 : parsed;
        (string? user, string? refused) = Authenticate(context);
        if (user is null && (Listener().Auth != AuthMethod.Trust || context.Request.Headers.ContainsKey("X-Trino-User") || context.Request.Headers.ContainsKey("X-Presto-User")))
        {
            // Trust listeners only: some clients (presto-client) omit the user on nextUri; the unguessable id suffices then.
            await RefuseAsync(context, refused!).ConfigureAwait(false);
            return;
        }

        TrinoQuery? query = _queries.Find(id);
        if (query is null || (user is not null && user != query.User))
        {
            await TextAsync(context, 404, $"Query not found: {id}").ConfigureAwait(false);
            return;
        }

        if (HttpMethods.IsDelete(context.Request.Method))
        {
            await CancelAsync(context, query).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method))
        {
            await TextAsync(context, 405, "use GET for the next page or DELETE to cancel").ConfigureAwait(false);
            return;
        }

        await query.Gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            if (query.IsReleased)
            {
                await TextAsync(context, 404, $"Query not found: {id}").ConfigureAwait(false);
                return;
            }

            if (token != query.Token)
            {
                await TextAsync(context, 410, $"page {token} of query {id} is gone (the next page is {query.Token})").ConfigureAwait(false);
                return;
            }

            await WritePageAsync(context, query, PageWait).ConfigureAwait(false);
        }
        finally
        {
            query.Gate.Release();
        }
    }

    /// <summary>DELETE on nextUri or /v1/query/{id}: cancels the statement, releases everything, 204.</summary>
    private async Task CancelAsync(HttpContext context, TrinoQuery query)
    {
        // Not under the gate: a page request holds it while the engine runs, and this must interrupt that. A query that
        // finished or was released meanwhile stays as it was (Fail and Cancel see to that).
        query.Fail(TrinoError.UserCanceled("Query was canceled"));
        query.Cancel();
        await query.Gate.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            await _queries.RemoveAsync(query).ConfigureAwait(false);
        }
        finally
        {
            query.Gate.Release();
        }

        context.Response.StatusCode = 204;
    }

    /// <summary>The next page of <paramref name="query"/>; the caller holds its gate.</summary>
    private async Task WritePageAsync(HttpContext context, TrinoQuery query, TimeSpan wait)
    {
        query.Touch();
        Task starting = query.Starting!;
        if (!starting.IsCompleted)
        {
            // No timer task per request, and no exception when the wait times out or the client hangs up.
            await starting.WaitAsync(wait, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        string baseUri = BaseUri(context);
        var buffer = new ArrayBufferWriter<byte>(4096);
        if (!starting.IsCompleted)
        {
            // Still waiting for admission (QUEUED) or for the engine's first answer (RUNNING).
            query.Token++;
            WriteStatusPage(buffer, query, baseUri, NextUri(baseUri, query));
            await SendAsync(context, buffer).ConfigureAwait(false);
            return;
        }

        if (query.Error is { } error)
        {
            WriteFailedPage(buffer, query, baseUri, error);
            await SendLastPageAsync(context, query, buffer).ConfigureAwait(false);
            return;
        }

        if (query.Upstream is not null)
        {
            await PassthroughPageAsync(context, query, baseUri, buffer).ConfigureAwait(false);
            return;
        }

        bool finished;
        try
        {
            finished = query.ReturnsRows
                ? await WriteRowsPageAsync(buffer, query, baseUri, context.RequestAborted).ConfigureAwait(false)
                : WriteUpdatePage(buffer, query, baseUri);
        }
        catch (Exception ex) when (ex is EngineException or NotSupportedException or OperationCanceledException)
        {
            TrinoError failure = ex switch
            {
                EngineException engine => query.IsCanceled ? query.CanceledError() : TrinoQuery.ErrorOf(engine),
                NotSupportedException notSupported => TrinoError.NotSupported(notSupported.Message),
                _ => query.CanceledError(),
            };
            query.Fail(failure);
            buffer.ResetWrittenCount();
            WriteFailedPage(buffer, query, baseUri, failure);
            finished = true;
        }

        await (finished ? SendLastPageAsync(context, query, buffer) : SendAsync(context, buffer)).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the query's last page (FINISHED or FAILED) and releases the query. A query of a transaction is released
    /// first (the page is complete in the buffer): its client may send the transaction's next statement, COMMIT or
    /// ROLLBACK the moment it has the page, and must find the transaction free, its failure already rolled back.
    /// Other queries answer first and clean up after.
    /// </summary>
    private async Task SendLastPageAsync(HttpContext context, TrinoQuery query, ArrayBufferWriter<byte> buffer)
    {
        if (query.Transaction is not null)
        {
            await _queries.RemoveAsync(query).ConfigureAwait(false);
            await SendAsync(context, buffer).ConfigureAwait(false);
            return;
        }

        await SendAsync(context, buffer).ConfigureAwait(false);
        await _queries.RemoveAsync(query).ConfigureAwait(false);
    }

    /// <summary>The one page of a statement without rows: FINISHED with its update type and count.</summary>
    private static bool WriteUpdatePage(ArrayBufferWriter<byte> buffer, TrinoQuery query, string baseUri)
    {
        query.Finish();
        using var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options);
        TrinoQueryResultsWriter.Start(writer, query.Id, InfoUri(baseUri, query), null);
        TrinoQueryResultsWriter.WriteStats(writer, query.Stats());
        long affected = query.RowsAffected;
        TrinoQueryResultsWriter.WriteUpdate(writer, UpdateType(query.Sql), affected >= 0 ? affected : null);
        TrinoQueryResultsWriter.End(writer);
        return true;
    }

    private static async ValueTask<bool> WriteRowsPageAsync(ArrayBufferWriter<byte> buffer, TrinoQuery query, string baseUri, CancellationToken cancellationToken)
    {
        using var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options);
        TrinoQueryResultsWriter.Start(writer, query.Id, InfoUri(baseUri, query), null);
        TrinoQueryResultsWriter.WriteColumns(writer, query.Columns!);
        TrinoQueryResultsWriter.StartData(writer);
        bool finished = await query.WriteRowsAsync(writer, TargetPageBytes, cancellationToken).ConfigureAwait(false);
        TrinoQueryResultsWriter.EndData(writer);
        if (finished)
        {
            query.Finish();
        }
        else
        {
            // Members may come in any order; nextUri follows the data because only now is it known whether rows remain.
            query.Token++;
            writer.WriteString("nextUri"u8, NextUri(baseUri, query));
        }

        TrinoQueryResultsWriter.WriteStats(writer, query.Stats());
        TrinoQueryResultsWriter.End(writer);
        return finished;
    }

    private async Task PassthroughPageAsync(HttpContext context, TrinoQuery query, string baseUri, ArrayBufferWriter<byte> buffer)
    {
        TrinoUpstreamPage page;
        try
        {
            page = await query.NextUpstreamPageAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            TrinoError failure = TrinoQuery.ErrorOf(ex);
            query.Fail(failure);
            WriteFailedPage(buffer, query, baseUri, failure);
            await SendLastPageAsync(context, query, buffer).ConfigureAwait(false);
            return;
        }

        bool finished;
        using (page)
        {
            query.UpstreamNext = page.NextUri;
            finished = page.NextUri is null;
            string? next = null;
            if (!finished)
            {
                query.Token++;
                next = NextUri(baseUri, query);
            }

            try
            {
                // Rows are counted for the audit record in the same pass, without decoding the data.
                query.Rows += TrinoUriRewriter.RewriteCounting(page.Body, next, InfoUri(baseUri, query), $"{baseUri}/v1/statement/partialCancel/{query.Id}", buffer).Rows;
            }
            catch (JsonException ex)
            {
                TrinoError failure = TrinoError.External($"the Trino engine sent a page that is not JSON: {ex.Message}");
                query.Fail(failure);
                buffer.ResetWrittenCount();
                WriteFailedPage(buffer, query, baseUri, failure);
                finished = true;
            }

            foreach (KeyValuePair<string, string> header in page.Headers)
            {
                context.Response.Headers.Append(header.Key, header.Value);
            }

            if (finished)
            {
                if (page.State == TrinoQueryStates.Failed)
                {
                    query.Fail(TrinoUpstreamStatement.ErrorOf(page));
                }
                else
                {
                    query.Finish();
                }
            }

            context.Response.StatusCode = page.StatusCode is >= 200 and < 600 ? page.StatusCode : 200;
        }

        await (finished ? SendLastPageAsync(context, query, buffer) : SendAsync(context, buffer)).ConfigureAwait(false);
    }

    private static void WriteStatusPage(ArrayBufferWriter<byte> buffer, TrinoQuery query, string baseUri, string nextUri)
    {
        using var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options);
        TrinoQueryResultsWriter.Start(writer, query.Id, InfoUri(baseUri, query), nextUri);
        TrinoQueryResultsWriter.WriteStats(writer, query.Stats());
        TrinoQueryResultsWriter.End(writer);
    }

    private static void WriteFailedPage(ArrayBufferWriter<byte> buffer, TrinoQuery query, string baseUri, TrinoError error)
    {
        using var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options);
        TrinoQueryResultsWriter.Start(writer, query.Id, InfoUri(baseUri, query), null);
        TrinoQueryResultsWriter.WriteStats(writer, query.Stats() with { State = TrinoQueryStates.Failed });
        TrinoQueryResultsWriter.WriteError(writer, error);
        TrinoQueryResultsWriter.End(writer);
    }

    /// <summary>A one-page answer that needs no query: an error, or a small result (EXPLAIN ROUTE).</summary>
    private async Task ImmediateAsync(HttpContext context, TrinoError? error, RecordBatch? batch = null, string? updateType = null)
    {
        string baseUri = BaseUri(context);
        string id = TrinoQuery.NewId();
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, TrinoQueryResultsWriter.Options))
        {
            TrinoQueryResultsWriter.Start(writer, id, $"{baseUri}/v1/query/{id}", null);
            if (batch is not null)
            {
                TrinoColumn[] columns = TrinoQuery.ColumnsOf(batch.Schema);

                TrinoQueryResultsWriter.WriteColumns(writer, columns);
                TrinoQueryResultsWriter.StartData(writer);
                TrinoQueryResultsWriter.WriteRows(writer, columns, batch, 0, batch.Length);
                TrinoQueryResultsWriter.EndData(writer);
            }

            TrinoQueryResultsWriter.WriteStats(writer, new TrinoQueryStats(error is null ? TrinoQueryStates.Finished : TrinoQueryStates.Failed, 0, 0, batch?.Length ?? 0, 0));
            if (error is not null)
            {
                TrinoQueryResultsWriter.WriteError(writer, error);
            }

            if (updateType is not null)
            {
                TrinoQueryResultsWriter.WriteUpdate(writer, updateType, null);
            }

            TrinoQueryResultsWriter.End(writer);
        }

        await SendAsync(context, buffer).ConfigureAwait(false);
    }

    /// <summary>USE, SET/RESET SESSION, PREPARE, DEALLOCATE: answered with session headers (transactions: TrinoFrontDoor.Transactions.cs).</summary>
    private Task SessionStatementAsync(HttpContext context, TrinoSessionStatement statement)
    {
        IHeaderDictionary headers = context.Response.Headers;
        string updateType;
        switch (statement.Kind)
        {
            case TrinoSessionStatementKind.Use:
                if (statement.Catalog is not null)
                {
                    headers["X-Trino-Set-Catalog"] = statement.Catalog;
                }

                headers["X-Trino-Set-Schema"] = statement.Schema;
                updateType = "USE";
                break;
            case TrinoSessionStatementKind.SetSession:
                headers["X-Trino-Set-Session"] = $"{statement.Name}={Uri.EscapeDataString(statement.Value!)}";
                updateType = "SET SESSION";
                break;
            case TrinoSessionStatementKind.ResetSession:
                headers["X-Trino-Clear-Session"] = statement.Name;
                updateType = "RESET SESSION";
                break;
            case TrinoSessionStatementKind.Prepare:
                headers["X-Trino-Added-Prepare"] = $"{statement.Name}={Uri.EscapeDataString(statement.Value!)}";
                updateType = "PREPARE";
                break;
            default:
                headers["X-Trino-Deallocated-Prepare"] = statement.Name;
                updateType = "DEALLOCATE";
                break;
        }

        return ImmediateAsync(context, null, null, updateType);
    }

    private async Task InfoAsync(HttpContext context)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("nodeVersion"u8);
            writer.WriteString("version"u8, ServerVersion);
            writer.WriteEndObject();
            writer.WriteString("environment"u8, "lakeops-edge"u8);
            writer.WriteBoolean("coordinator"u8, true);
            writer.WriteBoolean("starting"u8, false);
            writer.WriteString("uptime"u8, $"{(Environment.TickCount64 - StartedAt) / 60000.0:0.00}m");
            writer.WriteEndObject();
        }

        await SendAsync(context, buffer).ConfigureAwait(false);
    }

    private async Task QueryInfoAsync(HttpContext context, string id)
    {
        TrinoQuery? query = _queries.Find(id);
        if (query is null)
        {
            await TextAsync(context, 404, $"Query not found: {id}").ConfigureAwait(false);
            return;
        }

        (string? user, string? refused) = Authenticate(context);
        if (user is null)
        {
            await RefuseAsync(context, refused!).ConfigureAwait(false);
            return;
        }

        if (user != query.User)
        {
            await TextAsync(context, 404, $"Query not found: {id}").ConfigureAwait(false);
            return;
        }

        if (HttpMethods.IsDelete(context.Request.Method))
        {
            await CancelAsync(context, query).ConfigureAwait(false);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("queryId"u8, query.Id);
            writer.WriteString("state"u8, query.State);
            writer.WriteString("user"u8, query.User);
            writer.WriteEndObject();
        }

        await SendAsync(context, buffer).ConfigureAwait(false);
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static Task SendAsync(HttpContext context, ArrayBufferWriter<byte> buffer)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }

    private static Task JsonAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static Task TextAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        byte[] body = Encoding.UTF8.GetBytes(message + "\n");
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static string BaseUri(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host.Value}";

    private static string NextUri(string baseUri, TrinoQuery query) => $"{baseUri}/v1/statement/executing/{query.Id}/{query.Token}";

    private static string InfoUri(string baseUri, TrinoQuery query) => $"{baseUri}/v1/query/{query.Id}";

    private static string ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? $"{address}:{context.Connection.RemotePort}" : "unknown";

    /// <summary>Trino's updateType for a statement without rows: its leading keywords ("INSERT", "CREATE TABLE").</summary>
    internal static string UpdateType(string sql)
    {
        string[] words = sql.TrimStart().Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return "";
        }

        string first = words[0].ToUpperInvariant();
        return first is "CREATE" or "DROP" or "ALTER" && words.Length > 1
            ? first + " " + words[1].ToUpperInvariant()
            : first;
    }
}
