using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Balancing;

/// <summary>
/// The answer of <see cref="ClusterPicker.Pick"/>: a cluster, or none with the reason (every member's state).
/// </summary>
public readonly struct ClusterPick
{
    private ClusterPick(string? cluster, ClusterHealth? health, bool isTrial, string? reason)
    {
        Cluster = cluster;
        Health = health;
        IsTrial = isTrial;
        Reason = reason;
    }

    /// <summary>False when no member can take the query; see <see cref="Reason"/>.</summary>
    public bool Found => Cluster is not null;

    /// <summary>The chosen cluster's name (null when none).</summary>
    public string? Cluster { get; }

    /// <summary>Where to report the outcome (<see cref="ClusterHealth.ReportSuccess"/> / <see cref="ClusterHealth.ReportFailure"/>) and count running work.</summary>
    public ClusterHealth? Health { get; }

    /// <summary>
    /// This request is the breaker's single half-open trial: its outcome decides whether the cluster comes
    /// back. The caller must report it, or call <see cref="ClusterHealth.AbandonTrial"/> if it sends nothing.
    /// </summary>
    public bool IsTrial { get; }

    /// <summary>When none: "no cluster of group 'g' can take the query: pg1 unhealthy (...), pg2 draining".</summary>
    public string? Reason { get; }

    internal static ClusterPick Of(string cluster, ClusterHealth health, bool isTrial) => new(cluster, health, isTrial, null);

    internal static ClusterPick None(string reason) => new(null, null, false, reason);
}
