namespace LakeOps.Edge.Routing.Health;

/// <summary>What operators and pickers see of a cluster.</summary>
public enum ClusterState
{
    /// <summary>Breaker closed, recent outcomes fine.</summary>
    Healthy,

    /// <summary>Breaker closed, but recent failures or the error rate are above half of what opens it. Still picked.</summary>
    Degraded,

    /// <summary>Breaker open or half-open: not picked (except for the single half-open trial).</summary>
    Unhealthy,

    /// <summary>Set by config: running work finishes, nothing new is sent.</summary>
    Draining,

    /// <summary>Set by config: never picked.</summary>
    Disabled,
}

/// <summary>The circuit breaker of one cluster.</summary>
public enum BreakerState
{
    /// <summary>Traffic flows; failures are counted.</summary>
    Closed,

    /// <summary>No traffic until the backoff has passed.</summary>
    Open,

    /// <summary>Backoff over: one trial (a probe or a query) decides between closed and open again.</summary>
    HalfOpen,
}

/// <summary>Why a request to a cluster failed; every kind counts as a failure of the engine.</summary>
public enum FailureKind
{
    /// <summary>Could not connect (refused, reset, TLS or login failed, pool could not open a connection).</summary>
    Connect,

    /// <summary>No answer in time (probe timeout, connect timeout).</summary>
    Timeout,

    /// <summary>The engine answered with an error that says it is sick (shutting down, out of resources, crashed backend).</summary>
    Server,
}

/// <summary>Whether a cluster can take a query right now (a picker's view; no side effects).</summary>
internal enum Availability
{
    Available,

    /// <summary>Breaker waiting for its half-open trial: the first caller of <see cref="ClusterHealth.TryBeginTrial"/> gets it.</summary>
    TrialReady,

    Unavailable,
}
