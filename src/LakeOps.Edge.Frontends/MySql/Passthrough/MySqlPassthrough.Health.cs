using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>
/// Failover in a MySQL passthrough session, as in the PostgreSQL one: the session stays on its cluster while that
/// cluster can take work (checked when a server connection is borrowed, i.e. between transactions: two field
/// reads). When the cluster went unhealthy, draining or disabled, the next borrow moves the session to another
/// eligible MySQL-wire member of its group whose capabilities fit the client (settings, the database and
/// prepared statements follow per server connection, as with any new connection). A borrow that fails to connect
/// (refused, connect or pool timeout) is reported and retried once on another member before anything reaches the
/// client. A half-open member picked for a borrow makes that borrow its trial.
/// </summary>
internal sealed partial class MySqlPassthrough
{
    private ClusterHealth? _health;

    /// <summary>The process's cluster picker (null: the session never moves).</summary>
    public ClusterPicker? Picker { get; init; }

    /// <summary>The running engines, to find the MySQL engine of another member.</summary>
    public IEngineProvider? Engines { get; init; }

    /// <summary>The group the session was routed to (its members are where it may move).</summary>
    public GroupConfig? GroupConfig { get; init; }

    /// <summary>The cluster the session's commands run on now.</summary>
    public string ClusterName => _engine.ClusterName;

    /// <summary>Moves when the session's cluster cannot take work; true when the next borrow is a half-open trial.</summary>
    private bool MoveIfUnavailable()
    {
        if (Picker is null || _health is not { } health || health.IsClosedAndEnabled)
        {
            return false;
        }

        // No other member: stay, the borrow fails (or succeeds) where it is.
        return TryMove(exclude: null, out bool trial) && trial;
    }

    /// <summary>
    /// Picks the member for the next borrow (not <paramref name="exclude"/>) and moves there. False when no member
    /// of the group can take it or the picked one cannot serve this client (another engine kind, capabilities).
    /// </summary>
    private bool TryMove(string? exclude, out bool trial)
    {
        trial = false;
        if (Picker is null || GroupConfig is null)
        {
            return false;
        }

        ClusterPick pick = Picker.Pick(GroupConfig, exclude);
        if (!pick.Found)
        {
            return false;
        }

        string cluster = pick.Cluster!;
        if (!string.Equals(cluster, _engine.ClusterName, StringComparison.Ordinal))
        {
            if (Engines?.Find(cluster) is not MySqlEngine next
                || (next.ServerCapabilities is { } server && (_client.Capabilities & MySqlEngine.FormatFlagMask & ~server) != 0))
            {
                if (pick.IsTrial)
                {
                    pick.Health!.AbandonTrial();
                }

                return false;
            }

            Log.Info(EventId.StatementRouted, $"mysql passthrough of '{_client.User}' moves from cluster '{_engine.ClusterName}' to '{cluster}' of group '{GroupConfig.Name}' ({_health?.ToString() ?? "unavailable"})");
            _engine = next;
            _pool = next.PoolFor(_client.Capabilities & MySqlEngine.FormatFlagMask);
            if (Audit is { } audit)
            {
                audit.Cluster = cluster;
            }
        }

        _health = pick.Health;
        trial = pick.IsTrial;
        return true;
    }
}
