using System.Diagnostics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>
/// The transparent retry of an Arrow-path statement on another member of its group: when its cluster failed
/// before the engine returned a result (so no row reached the client), outside an explicit transaction, the
/// statement runs once more elsewhere. Which failures qualify: the cluster could not be reached (connect
/// refused or timed out, pool full for its whole connect timeout: the statement never reached the engine),
/// and for read-only statements also a connection lost while the statement ran (a write may have committed
/// before the connection died, so it is not repeated).
/// </summary>
internal static class StatementRetry
{
    /// <summary>Whether <paramref name="error"/>, raised before any result reached the client, may be retried on another member.</summary>
    public static bool MayRetry(EngineException error, bool inTransaction, bool readOnly)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (inTransaction || ClusterFailover.IsNoCluster(error) || StatementAdmission.IsRefusal(error))
        {
            return false;
        }

        return ClusterFailover.Classify(error) switch
        {
            null => false,
            FailureKind.Connect or FailureKind.Timeout when !IsLostConnection(error) => true,

            // The server went away while the statement ran (lost connection, shutdown, crash).
            _ => readOnly,
        };
    }

    /// <summary>Statements whose repetition changes nothing: plain queries (no data-changing WITH or EXPLAIN ANALYZE).</summary>
    public static bool IsReadOnly(string sql)
    {
        StatementInfo info = StatementClassifier.Classify(sql);
        if (info.Kind is not (StatementKind.Select or StatementKind.Values or StatementKind.Show))
        {
            return false;
        }

        // WITH ... SELECT is classified by its main statement; its CTEs may still write (WITH d AS (DELETE ...)).
        ReadOnlySpan<char> text = sql.AsSpan();
        var lexer = new SqlLexer(text);
        return !lexer.NextSignificant().Text(text).Equals("WITH", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Runs <paramref name="run"/> (one engine operation) on the session's engine, observed by its cluster's health;
    /// when the cluster failed first and <paramref name="scope"/> allows it, once more on another member: the
    /// session moves there and, when <paramref name="lease"/> holds slots, the ones on the failed cluster go and the
    /// statement is admitted again on the new one (<see cref="SpillPolicy.Stay"/>: it may queue there). Owns <paramref name="lease"/> from the call on: returns
    /// the lease the result holds, disposes it when it throws.
    /// </summary>
    public static async ValueTask<(T Result, StatementLease Lease)> ExecuteAsync<TState, T>(
        IRetryingSession session, RetryScope scope, StatementLease lease, TState state, Func<IEngineSession, TState, ValueTask<T>> run)
    {
        ArgumentNullException.ThrowIfNull(session);
        string failed = session.CurrentCluster;
        try
        {
            try
            {
                T result = await StatementObservation.RunAsync(session.Picker, failed, (session.CurrentEngine, state, run), static s => s.run(s.CurrentEngine, s.state)).ConfigureAwait(false);
                return (result, lease);
            }
            catch (EngineException ex) when (scope.Group is not null && scope.Eligible && !session.StatementTimedOut
                && MayRetry(ex, session.InTransaction, scope.Sql is null || IsReadOnly(scope.Sql)))
            {
                GroupConfig group = scope.Group;
                OpenedCluster? other = await OpenOtherAsync(
                    session.Picker, session.Engines, group, failed, session.EngineDialect, session.RetryOptions(group), CancellationToken.None).ConfigureAwait(false);
                if (other is not { } moved)
                {
                    throw;
                }

                Log.Warn(EventId.SessionFailed, $"{session.Describe}: cluster '{failed}' failed before any result ({ex.Message}); retrying on '{moved.Cluster}' of group '{group.Name}'");
                await session.MoveToAsync(moved, group).ConfigureAwait(false);

                // The slot on the failed cluster goes; the statement takes one on the member it runs on now.
                if (lease.IsHeld)
                {
                    lease.Dispose();
                    lease = (await StatementAdmission.AdmitAsync(scope.Gates, scope.AdmissionGroup, moved.Cluster, SpillPolicy.Stay, scope.QueueWait).ConfigureAwait(false)).Lease;
                }

                T retried = await StatementObservation.RunAsync(session.Picker, moved.Cluster, (moved.Session, state, run), static s => s.run(s.Session, s.state)).ConfigureAwait(false);
                return (retried, lease);
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>An engine's "lost the connection" error: the statement may have run.</summary>
    public static bool IsLostConnection(EngineException error) =>
        error is not null && error.SqlState.StartsWith("08", StringComparison.Ordinal) && error.Message.Contains("lost the connection", StringComparison.Ordinal);

    /// <summary>
    /// Opens a session on one other eligible member of <paramref name="group"/> (not <paramref name="failedCluster"/>)
    /// whose engine speaks <paramref name="dialect"/> (the statement's text is already in that dialect), and reports
    /// the outcome to that member's health. Null when no such member is eligible or opening it failed: the
    /// caller then returns the first error.
    /// </summary>
    public static async ValueTask<OpenedCluster?> OpenOtherAsync(
        ClusterPicker picker, IEngineProvider engines, GroupConfig group, string failedCluster, SqlDialect dialect, EngineSessionOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(picker);
        ArgumentNullException.ThrowIfNull(engines);
        ClusterPick pick = picker.Pick(group, failedCluster);
        if (!pick.Found)
        {
            return null;
        }

        ClusterHealth health = pick.Health!;
        if (engines.Find(pick.Cluster!) is not { } engine || engine.Dialect != dialect)
        {
            if (pick.IsTrial)
            {
                health.AbandonTrial();
            }

            return null;
        }

        long start = Stopwatch.GetTimestamp();
        try
        {
            IEngineSession session = await engine.OpenSessionAsync(options, cancellationToken).ConfigureAwait(false);
            if (ClusterFailover.NeedsSuccessReport(health, pick.IsTrial))
            {
                health.ReportSuccess(Stopwatch.GetElapsedTime(start));
            }

            return new OpenedCluster(pick.Cluster!, engine, session);
        }
        catch (EngineException ex)
        {
            ClusterFailover.ReportFailure(health, pick.IsTrial, ex);
            Log.Warn(EventId.SessionFailed, $"retrying a statement on cluster '{pick.Cluster}' of group '{group.Name}' failed too: {ex.Message}");
            return null;
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
