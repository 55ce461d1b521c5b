using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// Health and failover in a passthrough session. The session stays on its cluster while that cluster can take
/// work (checked when the session borrows a server connection: two field reads). When the cluster went
/// unhealthy or draining, the next transaction moves the session to another eligible member of its group (as a
/// routing change does: settings and prepared statements follow per connection). A borrow that fails to
/// connect (refused, pool or connect timeout) is reported and retried once on another member before anything
/// reaches the client; a server lost mid-transaction is reported and the client gets 08006.
/// </summary>
/// <remarks>
/// Outcomes reach <see cref="ClusterHealth"/> without a lock or a shared write in steady state: a successful
/// borrow is reported only while the cluster's recent outcomes are not a full window of successes (see
/// <see cref="ClusterFailover.NeedsSuccessReport"/>). With <c>least_loaded</c> the borrow counts as running work
/// until the connection goes back to its pool (it rides on the admission lease).
/// </remarks>
internal sealed partial class PgPassthroughSession
{
    // Null without a picker (unit tests): no health checks at all.
    private ClusterPicker? _picker;
    private IEngineProvider? _engines;

    // The health of _engine's cluster, resolved on first use and after each move.
    private ClusterHealth? _health;

    /// <summary>The process's cluster picker (null: the session never moves for health).</summary>
    public ClusterPicker? Picker
    {
        get => _picker;
        init => _picker = value;
    }

    /// <summary>The running engines, to find the PostgreSQL engine of another member.</summary>
    public IEngineProvider? Engines
    {
        get => _engines;
        init => _engines = value;
    }

    /// <summary>Whether the session's cluster can take a new transaction (the caller checked <see cref="_picker"/>).</summary>
    private bool IsClusterEligible() => (_health ??= _picker!.Registry.Get(ClusterName)).IsClosedAndEnabled;

    /// <summary>
    /// Picks the member of the session's group for the next transaction (not <paramref name="exclude"/>) and moves
    /// the session there. False with the client's error text when no member can take it.
    /// </summary>
    private bool ChooseCluster(string? exclude, out bool trial, out string? failure)
    {
        trial = false;
        failure = null;
        GroupConfig group = _group;
        ClusterPick pick = _picker!.Pick(group, exclude);
        if (!pick.Found)
        {
            failure = pick.Reason;
            return false;
        }

        string cluster = pick.Cluster!;
        if (!string.Equals(cluster, ClusterName, StringComparison.Ordinal))
        {
            if (_engines?.Find(cluster) is not PostgresEngine engine)
            {
                if (pick.IsTrial)
                {
                    pick.Health!.AbandonTrial();
                }

                failure = $"cluster '{cluster}' of group '{group.Name}' is not a running PostgreSQL cluster; a passthrough session cannot move there";
                return false;
            }

            Log.Info(EventId.StatementRouted, $"passthrough session of '{_user}' moves from cluster '{ClusterName}' to '{cluster}' of group '{group.Name}' ({_health?.ToString() ?? "unavailable"})");
            MoveTo(engine);
        }

        _health = pick.Health;
        trial = pick.IsTrial;
        return true;
    }

    /// <summary>Serves the next transactions from <paramref name="engine"/> (between transactions only).</summary>
    private void MoveTo(PostgresEngine engine)
    {
        PostgresEngine previous = _engine;
        if (ReferenceEquals(previous, engine))
        {
            return;
        }

        PostgresEngine[]? movedFrom = _movedFrom;
        if (movedFrom is null || Array.IndexOf(movedFrom, previous) < 0)
        {
            _movedFrom = movedFrom is null ? [previous] : [.. movedFrom, previous];
        }

        _engine = engine;
        _client.ClusterName = engine.ClusterName;
        _health = null;
    }

    /// <summary>A borrow succeeded: reports it while the cluster's outcomes need it; counts running work for least_loaded.</summary>
    private void OnBorrowed(bool trial, long start, ref StatementLease lease) =>
        ClusterFailover.OnBorrowed(_health, trial, start, _group.Balancing == BalancingStrategy.LeastLoaded, ref lease);

    /// <summary>The attached connection failed: a server-side failure of its cluster.</summary>
    private void ReportServerLost(PgServerConnection server, string reason)
    {
        if (_picker is not null && _picker.Registry.TryGet(server.ClusterName, out ClusterHealth health))
        {
            health.ReportFailure(FailureKind.Server, reason);
        }
    }
}
