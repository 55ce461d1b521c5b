using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>The session-specific parts of <see cref="StatementRetry.ExecuteAsync"/>: where it runs now, and how it moves.</summary>
internal interface IRetryingSession
{
    ClusterPicker Picker { get; }

    IEngineProvider Engines { get; }

    /// <summary>The dialect of the statement texts the session sends (another member must speak it).</summary>
    SqlDialect EngineDialect { get; }

    /// <summary>The session's engine session now, and its cluster.</summary>
    IEngineSession CurrentEngine { get; }

    string CurrentCluster { get; }

    /// <summary>The statement timeout fired: the failure is the timeout's, not the cluster's to retry.</summary>
    bool StatementTimedOut { get; }

    /// <summary>Inside a transaction the statement is never retried (its earlier statements ran on the failed cluster).</summary>
    bool InTransaction { get; }

    /// <summary>Who the session is, for the log ("postgres session of 'bob'").</summary>
    string Describe { get; }

    /// <summary>The options an engine session on another member of <paramref name="group"/> opens with.</summary>
    EngineSessionOptions RetryOptions(GroupConfig group);

    /// <summary>Makes <paramref name="moved"/> the session's engine for <paramref name="group"/> from now on.</summary>
    ValueTask MoveToAsync(OpenedCluster moved, GroupConfig group);
}

/// <summary>
/// One statement as <see cref="StatementRetry.ExecuteAsync"/> sees it: the group whose members may take it (null:
/// no retry), whether the statement kind may be retried at all, its SQL (to tell reads from writes; null: a
/// read-only operation such as preparing), and its admission (group name and queue-wait token) to admit it again on
/// the member it moves to (only when it held slots before).
/// </summary>
internal readonly record struct RetryScope(
    GroupConfig? Group, bool Eligible, string? Sql, AdmissionGates? Gates = null, string AdmissionGroup = "", CancellationToken QueueWait = default);
