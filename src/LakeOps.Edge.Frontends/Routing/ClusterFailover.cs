using System.Diagnostics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>An engine session opened on one cluster of a group.</summary>
internal readonly record struct OpenedCluster(string Cluster, IEngine Engine, IEngineSession Session);

/// <summary>
/// Health signals and failover shared by every front door: which engine errors say a cluster is sick (and
/// may be retried elsewhere because nothing reached the client yet), the client's error when no member is
/// eligible, and opening an engine session with one retry on another eligible member.
/// </summary>
internal static class ClusterFailover
{
    /// <summary>
    /// The health failure an engine error stands for, or null for errors that say nothing about the
    /// cluster's health (bad SQL, permissions, admission refusals): class 08 (connect refused, reset,
    /// connect timeout) and a pool that stayed full for its whole connect timeout (53300 from the pool).
    /// </summary>
    public static FailureKind? Classify(EngineException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string state = exception.SqlState;
        if (state.StartsWith("08", StringComparison.Ordinal))
        {
            return exception.Message.Contains("timed out", StringComparison.Ordinal) ? FailureKind.Timeout : FailureKind.Connect;
        }

        if (state == SqlStates.TooManyConnections && exception.Message.Contains("server connections are busy", StringComparison.Ordinal))
        {
            return FailureKind.Timeout;
        }

        return state switch
        {
            // "the database system is starting up / shutting down" at connect.
            SqlStates.CannotConnectNow => FailureKind.Connect,

            // The server ended the session: shut down, crashed (57P02), or terminated by an administrator.
            SqlStates.AdminShutdown or "57P02" => FailureKind.Server,
            _ => null,
        };
    }

    /// <summary>The client's error when no member of the group can take work: 08006 with every member's state.</summary>
    public static EngineException NoCluster(in ClusterPick pick)
    {
        string reason = pick.Reason ?? "no cluster can take the query";
        return new EngineException(reason, SqlStates.ConnectionFailure, new NoEligibleClusterException(reason));
    }

    /// <summary>True for the error of <see cref="NoCluster"/> (its text is the client's message as is).</summary>
    public static bool IsNoCluster(EngineException exception) => exception?.InnerException is NoEligibleClusterException;

    /// <summary>
    /// Reports a failed open/borrow/statement on <paramref name="health"/> when the error is a health failure;
    /// a trial whose error says nothing about health is given back. Returns whether another member may be
    /// tried (connect failures and timeouts: nothing reached the engine, so nothing reached the client).
    /// </summary>
    public static bool ReportFailure(ClusterHealth? health, bool trial, EngineException exception)
    {
        FailureKind? kind = Classify(exception);
        if (health is not null)
        {
            if (kind is { } failure)
            {
                health.ReportFailure(failure, exception.Message);
            }
            else if (trial)
            {
                health.AbandonTrial();
            }
        }

        return kind is FailureKind.Connect or FailureKind.Timeout;
    }

    /// <summary>
    /// Whether a success is worth reporting: always for a trial; otherwise only while the cluster's recent
    /// outcomes hold a failure or are not yet a full window. In steady state this writes nothing shared, so
    /// per-transaction callers (the passthrough) pay a few reads.
    /// </summary>
    public static bool NeedsSuccessReport(ClusterHealth health, bool trial)
    {
        if (trial)
        {
            return true;
        }

        (int failures, int samples) = health.RecentOutcomes;
        return failures != 0 || samples < health.Options.Window || health.ConsecutiveFailures != 0;
    }

    /// <summary>
    /// A passthrough borrow of a server connection (started at <paramref name="start"/>) succeeded: reported to
    /// <paramref name="health"/> while its outcomes need it, and counted as running work on it until
    /// <paramref name="lease"/> ends when <paramref name="countRunning"/> (least_loaded). Null health: nothing.
    /// </summary>
    public static void OnBorrowed(ClusterHealth? health, bool trial, long start, bool countRunning, ref StatementLease lease)
    {
        if (health is null)
        {
            return;
        }

        if (NeedsSuccessReport(health, trial))
        {
            health.ReportSuccess(Stopwatch.GetElapsedTime(start));
        }

        if (countRunning)
        {
            lease.CountRunning(health);
        }
    }

    /// <summary>
    /// Opens an engine session on <paramref name="group"/>: on the member <paramref name="picker"/> chooses,
    /// and when that fails with a health failure (connect refused, pool or connect timeout), once more on
    /// another eligible member. Throws 08006 with the pick's reason when no member is eligible. A first pick the
    /// caller made already (to look at the engine first) comes in <c>picked</c>.
    /// </summary>
    public static async ValueTask<OpenedCluster> OpenAsync(
        ClusterPicker picker, IEngineProvider engines, GroupConfig group, EngineSessionOptions options, CancellationToken cancellationToken, ClusterPick? picked = null)
    {
        ArgumentNullException.ThrowIfNull(picker);
        ArgumentNullException.ThrowIfNull(engines);
        EngineException? first = null;
        string? exclude = null;
        while (true)
        {
            ClusterPick pick = picked ?? picker.Pick(group, exclude);
            picked = null;
            if (!pick.Found)
            {
                throw first is null
                    ? NoCluster(pick)
                    : new EngineException($"{first.Message} (no other cluster to retry on: {pick.Reason})", first.SqlState, first);
            }

            string cluster = pick.Cluster!;
            ClusterHealth health = pick.Health!;
            IEngine? engine = engines.Find(cluster);
            if (engine is null)
            {
                if (pick.IsTrial)
                {
                    health.AbandonTrial();
                }

                throw new EngineException($"cluster '{cluster}' of group '{group.Name}' is not running", SqlStates.CannotConnectNow);
            }

            long start = Stopwatch.GetTimestamp();
            try
            {
                IEngineSession session = await engine.OpenSessionAsync(options, cancellationToken).ConfigureAwait(false);
                if (NeedsSuccessReport(health, pick.IsTrial))
                {
                    health.ReportSuccess(Stopwatch.GetElapsedTime(start));
                }

                return new OpenedCluster(cluster, engine, session);
            }
            catch (EngineException ex)
            {
                bool retry = ReportFailure(health, pick.IsTrial, ex);
                if (!retry || first is not null)
                {
                    throw;
                }

                Log.Warn(EventId.SessionFailed, $"opening a session on cluster '{cluster}' of group '{group.Name}' failed, trying another member: {ex.Message}");
                first = ex;
                exclude = cluster;
            }
            catch (OperationCanceledException)
            {
                if (pick.IsTrial)
                {
                    health.AbandonTrial();
                }

                throw;
            }
        }
    }
}

/// <summary>Marks the <see cref="EngineException"/> of <see cref="ClusterFailover.NoCluster"/>.</summary>
internal sealed class NoEligibleClusterException : Exception
{
    public NoEligibleClusterException()
    {
    }

    public NoEligibleClusterException(string message)
        : base(message)
    {
    }

    public NoEligibleClusterException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
