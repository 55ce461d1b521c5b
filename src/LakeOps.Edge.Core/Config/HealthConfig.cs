namespace LakeOps.Edge.Core.Config;

/// <summary><c>groups.X.balancing</c>: how a query picks among the group's eligible clusters.</summary>
public enum BalancingStrategy
{
    /// <summary>Each eligible cluster in turn.</summary>
    RoundRobin,

    /// <summary>Smooth weighted round robin by <see cref="GroupConfig.Weights"/>; weight 0 is never picked.</summary>
    Weighted,

    /// <summary>Fewest running queries; ties in turn.</summary>
    LeastLoaded,

    /// <summary>Lowest recent latency (EWMA), with a little random exploration.</summary>
    LatencyAware,

    /// <summary>The first eligible cluster in the order of <see cref="GroupConfig.Clusters"/>.</summary>
    Failover,
}

/// <summary><c>clusters.X.state</c>: the operator's say over a cluster, whatever its health.</summary>
public enum ClusterAdminState
{
    Enabled,

    /// <summary>Running queries and sessions finish; new ones go to other members.</summary>
    Draining,

    /// <summary>Never picked.</summary>
    Disabled,
}

/// <summary>
/// <c>clusters.X.health</c>: active probes and the circuit breaker of one cluster.
/// </summary>
public sealed record HealthOptions
{
    /// <summary>Most outcomes <see cref="Window"/> can hold (they are kept as bits of one 64-bit word).</summary>
    public const int MaxWindow = 50;

    /// <summary>Time between active probes; zero disables probing (passive signals only).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A probe that takes longer counts as a failure (timeout).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive failures that open the breaker.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>First open period; doubles on each failed half-open trial.</summary>
    public TimeSpan OpenBase { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest open period.</summary>
    public TimeSpan OpenMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Share of failures among the last <see cref="Window"/> outcomes (at least <see cref="MinSamples"/>)
    /// that opens the breaker; 0 disables error-rate opening.
    /// </summary>
    public double ErrorRateThreshold { get; init; } = 0.5;

    /// <summary>Recent outcomes the error rate is computed over (1 to <see cref="MaxWindow"/>).</summary>
    public int Window { get; init; } = 20;

    /// <summary>Outcomes needed before the error rate counts.</summary>
    public int MinSamples { get; init; } = 10;
}
