using System.Diagnostics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// Trino client to Trino engine: the coordinator's pages pass through (the front door rewrites only their URIs and
/// counts their rows). The query holds its admission slot from the submit until it is released (last page,
/// FAILED, DELETE, or swept when abandoned: <see cref="ReleaseAsync"/>, once), and counts as running work on its
/// cluster for as long. Its cluster's health hears about it like an Arrow-path statement: the submit's latency or
/// failure (which completes a half-open trial either way), and failures of later page fetches.
/// </summary>
internal sealed partial class TrinoQuery
{
    // The passthrough cluster's health (null: none known), for failures of later page fetches.
    private ClusterHealth? _upstreamHealth;

    /// <summary>
    /// Admits the query (a full group is a rejection: a passthrough does not spill) and submits it to the coordinator of
    /// <paramref name="cluster"/> with <paramref name="headers"/> (the client's; in a transaction with the coordinator's
    /// transaction id). <paramref name="trial"/>: the submit is the half-open trial of the cluster's health.
    /// </summary>
    private async Task RunPassthroughAsync(
        GroupConfig group, string cluster, ClusterHealth? health, bool trial, ITrinoHttpEngine upstream, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        bool reported = false;
        try
        {
            AdmissionDecision admitted = await StatementAdmission.AdmitAsync(_services.Admission, group.Name, cluster, SpillPolicy.Reject, cancellationToken).ConfigureAwait(false);
            _lease = admitted.Lease;
            GroupName = group.Name;
            ClusterName = cluster;
            State = TrinoQueryStates.Running;
            _runningSince = Stopwatch.GetTimestamp();
            Upstream = upstream;
            if (health is not null)
            {
                _lease.CountRunning(health);
                _upstreamHealth = health;
            }

            long start = Stopwatch.GetTimestamp();
            try
            {
                FirstUpstreamPage = await upstream.SubmitAsync(new TrinoUpstreamRequest(Sql, headers), cancellationToken).ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                reported = true;
                ClusterFailover.ReportFailure(health, trial, ex);
                throw;
            }

            reported = true;
            health?.ReportSuccess(Stopwatch.GetElapsedTime(start));

            // A QUEUED-only answer is followed at once, while the client's first GET is on its way (TrinoQuery.Prefetch.cs).
            await SkipStatusPageAsync(upstream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Refused by admission or cancelled before the coordinator answered: the trial was never made.
            if (!reported && trial)
            {
                health!.AbandonTrial();
            }
        }
    }

    /// <summary>
    /// The next coordinator page for the client (the caller disposes it): the submit's answer first, then a GET of the
    /// coordinator's nextUri. A fetch failure that says the cluster is sick is reported to its health.
    /// </summary>
    public async ValueTask<TrinoUpstreamPage> NextUpstreamPageAsync(CancellationToken cancellationToken)
    {
        if (FirstUpstreamPage is { } first)
        {
            FirstUpstreamPage = null;
            return first;
        }

        try
        {
            return await Upstream!.FetchAsync(UpstreamNext!, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            ClusterFailover.ReportFailure(_upstreamHealth, trial: false, ex);
            throw;
        }
    }
}
