using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>An engine session a routed client session holds on one group.</summary>
internal sealed class GroupEngine(GroupConfig group, string cluster, IEngine engine, IEngineSession session)
{
    public GroupConfig Group { get; } = group;

    public string Cluster { get; } = cluster;

    public IEngine Engine { get; } = engine;

    public IEngineSession Session { get; } = session;

    public SqlDialect Dialect => Engine.Dialect;
}

/// <summary>
/// Per-statement routing for one client session (PostgreSQL or MySQL front door, Arrow path): the
/// session's <see cref="RouteRequest"/>, the current config snapshot's <see cref="RouteTable"/> (read
/// per statement, so a reload's routes apply to the next statement of every session), and one engine
/// session per group, opened on first use (cluster picked by the <see cref="ClusterPicker"/> among the
/// group's eligible members, with one retry elsewhere when opening fails to connect) and closed with the
/// client session. Not thread-safe: one session, one statement at a time.
/// </summary>
internal sealed class SessionRouter : IAsyncDisposable
{
    private readonly ConfigStore _configs;
    private readonly IEngineProvider _engines;
    private readonly ClusterPicker _picker;
    private readonly List<GroupEngine> _open = [];

    // Sessions on clusters the router moved away from (statements prepared there may still use them).
    private readonly List<GroupEngine> _retired = [];

    public SessionRouter(ConfigStore configs, RouteRequest request, IEngineProvider engines, ClusterPicker picker)
    {
        _configs = configs;
        Request = request;
        _engines = engines;
        _picker = picker;
    }

    /// <summary>The routes of the current snapshot (compiled once per snapshot, then a cache lookup).</summary>
    public RouteTable Table => RouteTable.For(_configs.Current);

    public RouteRequest Request { get; }

    /// <summary>Engine sessions opened so far, one per group.</summary>
    public IReadOnlyList<GroupEngine> Open => _open;

    /// <summary>Routes one statement; logs rule decisions at debug level (formatted only when debug is on).</summary>
    public RouteDecision Decide(string sql)
    {
        Request.Sql = sql;
        RouteDecision decision = Table.Decide(Request);
        if (Log.IsEnabled(LogLevel.Debug) && !decision.IsFallback)
        {
            Log.Write(LogLevel.Debug, EventId.StatementRouted,
                $"{Request.Protocol} session of '{Request.User}': {decision.Reason} (fingerprint {decision.Fingerprint:x16})");
        }

        return decision;
    }

    /// <summary>The EXPLAIN ROUTE answer for <paramref name="sql"/>, with the session's attributes.</summary>
    public RouteExplanation Explain(string sql)
    {
        Request.Sql = sql;
        return Table.Explain(Request);
    }

    /// <summary>The session's engine on <paramref name="group"/>, opened now if needed (Opened then true).</summary>
    public async ValueTask<(GroupEngine Engine, bool Opened)> GetAsync(GroupConfig group, EngineSessionOptions options, CancellationToken cancellationToken)
    {
        GroupEngine? previous = null;
        foreach (GroupEngine open in _open)
        {
            if (ReferenceEquals(open.Group, group) || open.Group.Name == group.Name)
            {
                if (!_picker.Registry.TryGet(open.Cluster, out ClusterHealth health) || health.IsClosedAndEnabled)
                {
                    return (open, false);
                }

                // Its cluster went unhealthy or draining: new statements (callers keep a transaction where it is) move.
                previous = open;
                break;
            }
        }

        if (previous is not null)
        {
            return await ReplaceAsync(previous, group, options, cancellationToken).ConfigureAwait(false);
        }

        OpenedCluster cluster = await ClusterFailover.OpenAsync(_picker, _engines, group, options, cancellationToken).ConfigureAwait(false);
        var opened = new GroupEngine(group, cluster.Cluster, cluster.Engine, cluster.Session);
        _open.Add(opened);
        return (opened, true);
    }

    /// <summary>
    /// Opens a session on another eligible member in place of <paramref name="previous"/>; the old session stays
    /// open (statements prepared on it still use it) until the router is disposed. Keeps the old one when no other
    /// member can take it, so the statement fails (or succeeds) where it is.
    /// </summary>
    private async ValueTask<(GroupEngine Engine, bool Opened)> ReplaceAsync(GroupEngine previous, GroupConfig group, EngineSessionOptions options, CancellationToken cancellationToken)
    {
        OpenedCluster cluster;
        try
        {
            cluster = await ClusterFailover.OpenAsync(_picker, _engines, group, options, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException)
        {
            return (previous, false);
        }

        Log.Info(EventId.StatementRouted, $"{Request.Protocol} session of '{Request.User}' leaves cluster '{previous.Cluster}' of group '{group.Name}' for '{cluster.Cluster}'");
        return (Replace(previous, cluster), true);
    }

    /// <summary>
    /// Makes <paramref name="cluster"/> (opened on another member of <paramref name="previous"/>'s group) the
    /// group's engine session from now on; the old one stays open until the router is disposed.
    /// <paramref name="previous"/> is one this router handed out and has not replaced yet (callers retry only outside
    /// transactions and batches, where the session's engine is the one <see cref="GetAsync"/> just returned).
    /// </summary>
    public GroupEngine Replace(GroupEngine previous, OpenedCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(previous);
        int index = _open.IndexOf(previous);
        if (index < 0)
        {
            throw new ArgumentException($"the engine session on cluster '{previous.Cluster}' is not an open session of this router", nameof(previous));
        }

        var opened = new GroupEngine(previous.Group, cluster.Cluster, cluster.Engine, cluster.Session);
        _open[index] = opened;
        _retired.Add(previous);
        return opened;
    }

    /// <summary>Takes over an engine session opened at login on <paramref name="group"/> (closed with the router).</summary>
    public GroupEngine Adopt(GroupConfig group, string cluster, IEngine engine, IEngineSession session)
    {
        var adopted = new GroupEngine(group, cluster, engine, session);
        _open.Add(adopted);
        return adopted;
    }

    public async ValueTask DisposeAsync()
    {
        _open.AddRange(_retired);
        _retired.Clear();
        foreach (GroupEngine open in _open)
        {
            try
            {
                await open.Session.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or InvalidOperationException or ObjectDisposedException)
            {
                Log.Warn(EventId.SessionFailed, $"closing the engine session on '{open.Cluster}' failed: {ex.Message}");
            }
        }

        _open.Clear();
    }

    /// <summary>The client's text for a denied statement: the rule and its message.</summary>
    public static string DenyText(RouteDecision decision) =>
        decision.IsFallback ? decision.DenyMessage ?? decision.Reason : $"denied by routing rule '{decision.RuleName}': {decision.DenyMessage}";
}
