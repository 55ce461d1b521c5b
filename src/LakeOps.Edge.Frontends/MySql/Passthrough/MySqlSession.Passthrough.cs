using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Frontends.MySql.Passthrough;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;

// A part of MySqlSession kept beside the passthrough it starts (the class's namespace, not the folder's).
#pragma warning disable IDE0130
namespace LakeOps.Edge.Frontends.MySql;
#pragma warning restore IDE0130

internal sealed partial class MySqlSession
{
    // Set while the passthrough serves this client: KILL QUERY from another connection goes to it.
    private volatile MySqlPassthrough? _passthrough;

    /// <summary>
    /// When the session's engine is a MySQL-wire engine that can carry this client's wire format, serves the
    /// rest of the connection through <see cref="MySqlPassthrough"/> and returns true; false leaves the client
    /// to the Arrow path (the command loop).
    /// </summary>
    private async ValueTask<bool> RunPassthroughAsync(CancellationToken stopping)
    {
        if (_engineInstance is not MySqlEngine engine || !await MySqlPassthrough.CanServeAsync(engine, _capabilities, stopping).ConfigureAwait(false))
        {
            return false;
        }

        var client = new MySqlPassthroughClient(
            _capabilities,
            (byte)_textCharset,
            _listener.Limits.MaxMessageSize,
            _user,
            _group?.StatementTimeout ?? TimeSpan.Zero,
            KillFromPassthrough,
            ExplainRouteAsSelect,
            _routeAfterLogin is not null ? tags => _route.Tags = RouteAttributes.SplitTags(tags) : null);
        var passthrough = new MySqlPassthrough(engine, client) { Audit = PassthroughAudit(), Admission = Admission, Group = _group?.Name ?? "", Health = _picker.Registry.Get(engine.ClusterName),
            CountsRunning = _group?.Balancing == BalancingStrategy.LeastLoaded,
            Picker = _picker,
            Engines = _engines,
            GroupConfig = _group,
        };

        // The Arrow-path session is not used from here on.
        await CloseEngineAsync().ConfigureAwait(false);
        _passthrough = passthrough;

        // From here on the session only copies packets and never blocks: it resumes on the event loop.
        _transport.InlineCompletions = true;
        // A shutdown only interrupts the wait for the next command (the passthrough then answers ER_SERVER_SHUTDOWN); KILL interrupts anything.
        using var run = CancellationTokenSource.CreateLinkedTokenSource(_killed.Token);
        try
        {
            await passthrough.RunAsync(_transport.Reader, _transport.Writer, run.Token, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            Log.Info(EventId.SessionFailed, $"mysql passthrough of '{_user}' ended: {(_killed.IsCancellationRequested ? "killed" : "Edge is stopping")}");
        }
        catch (IOException ex)
        {
            Log.Info(EventId.SessionFailed, $"mysql passthrough of '{_user}' from {_transport.RemoteEndPoint} ended: {ex.Message}");
        }
        finally
        {
            _passthrough = null;
        }

        return true;
    }

    /// <summary>EXPLAIN ROUTE in a passthrough session: the SELECT the server runs in its place (null for other text).</summary>
    private string? ExplainRouteAsSelect(string sql) =>
        RouteAttributes.TryParseExplainRoute(sql, out string statement)
            ? ExplainRouteResult.AsMySqlSelect(ExplainRouteResult.For(null, _route, _config, statement))
            : null;

    /// <summary>KILL [QUERY | CONNECTION] id sent through the passthrough: Edge's connection ids, the user's own sessions only.</summary>
    private MySqlErrPacket? KillFromPassthrough(uint connectionId, bool connection)
    {
        MySqlSession? target = _registry.Find(connectionId);
        if (target is null)
        {
            return new MySqlErrPacket(MySqlErrorCode.NoSuchThread, MySqlErrorCode.SqlStateOf(MySqlErrorCode.NoSuchThread), $"Unknown thread id: {connectionId}");
        }

        if (!string.Equals(target.User, _user, StringComparison.Ordinal))
        {
            return new MySqlErrPacket(MySqlErrorCode.KillDenied, MySqlErrorCode.SqlStateOf(MySqlErrorCode.KillDenied), $"You are not owner of thread {connectionId}");
        }

        Log.Info(EventId.CancelRequested, $"KILL {(connection ? "CONNECTION" : "QUERY")} {connectionId} by '{_user}' from {_transport.RemoteEndPoint}");
        if (connection)
        {
            target.Kill();
        }
        else
        {
            target.CancelRunningStatement();
        }

        return null;
    }
}
