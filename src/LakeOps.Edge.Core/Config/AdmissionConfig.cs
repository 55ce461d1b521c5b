namespace LakeOps.Edge.Core.Config;

/// <summary>What happens to a query that finds its group (or cluster) at max_running.</summary>
public enum AdmissionOverflow
{
    /// <summary>Wait in FIFO order, up to max_queued waiters and queue_timeout each; beyond max_queued: rejected.</summary>
    Queue,

    /// <summary>Rejected at once (PG 53300, MySQL 1040).</summary>
    Reject,

    /// <summary>
    /// Run on <see cref="AdmissionConfig.SpillGroup"/> instead (groups only). One hop: the target group's own
    /// admission applies, except that its own spill is not followed (a query spills at most once, so spill
    /// cycles such as a -> b -> a are harmless: the second hop is a rejection).
    /// </summary>
    Spill,
}

/// <summary>
/// <c>admission:</c> of a group or a cluster. Absent means no limit: callers skip admission entirely.
/// </summary>
public sealed record AdmissionConfig
{
    public const int DefaultMaxQueued = 100;

    public static readonly TimeSpan DefaultQueueTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Most queries running at once (1 to 1,000,000).</summary>
    public required int MaxRunning { get; init; }

    /// <summary>Most queries waiting at once (overflow queue, and spill for statements that may not spill).</summary>
    public int MaxQueued { get; init; } = DefaultMaxQueued;

    /// <summary>Longest a query waits in the queue before it fails (PG 57014).</summary>
    public TimeSpan QueueTimeout { get; init; } = DefaultQueueTimeout;

    public AdmissionOverflow Overflow { get; init; } = AdmissionOverflow.Queue;

    /// <summary>The group to run on when full; set exactly when <see cref="Overflow"/> is <see cref="AdmissionOverflow.Spill"/>.</summary>
    public string? SpillGroup { get; init; }

    /// <summary>
    /// Waiters the admission gate allows: none with overflow reject; max_queued otherwise (with spill, the
    /// statements that may not spill, e.g. inside an open transaction, wait there).
    /// </summary>
    public int EffectiveMaxQueued => Overflow == AdmissionOverflow.Reject ? 0 : MaxQueued;
}
