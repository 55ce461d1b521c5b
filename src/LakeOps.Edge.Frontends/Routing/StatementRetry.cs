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
