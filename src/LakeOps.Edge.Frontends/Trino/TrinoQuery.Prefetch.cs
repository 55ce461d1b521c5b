using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>The passthrough's first page: the coordinator's answer to the POST, or the page after it.</summary>
internal sealed partial class TrinoQuery
{
    /// <summary>
    /// A coordinator answers a POST with a page that only says QUEUED and where to ask next. The client already had
    /// such a page from the front door, so handing this one over would cost it a round trip that brings nothing.
    /// Instead its nextUri is followed once here, while the client's first GET is still on its way; a slow query's
    /// later progress pages still reach the client. Set first, <see cref="UpstreamNext"/> lets the release cancel
    /// the coordinator's query if this fetch fails or is cancelled.
    /// </summary>
    private async Task SkipStatusPageAsync(ITrinoHttpEngine upstream, CancellationToken cancellationToken)
    {
        if (FirstUpstreamPage is not { IsStatusOnly: true, NextUri: { } next } page || page.Headers.Count > 0)
        {
            return;
        }

        FirstUpstreamPage = null;
        page.Dispose();
        UpstreamNext = next;
        try
        {
            FirstUpstreamPage = await upstream.FetchAsync(next, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            ClusterFailover.ReportFailure(_upstreamHealth, trial: false, ex);
            throw;
        }
    }
}
