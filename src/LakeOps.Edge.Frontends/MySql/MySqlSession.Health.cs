using System.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Arrow-path statement outcomes for the health of the session's cluster: a success with the time until the
/// result was ready (latency_aware's average), a failure when the error says the cluster is sick.
/// </summary>
internal sealed partial class MySqlSession
{
    private void ReportStatementSuccess(long started)
    {
        if (_picker.Registry.TryGet(_clusterName, out ClusterHealth health))
        {
            health.ReportSuccess(Stopwatch.GetElapsedTime(started));
        }
    }

    private void ReportStatementFailure(EngineException exception)
    {
        if (_picker.Registry.TryGet(_clusterName, out ClusterHealth health))
        {
            ClusterFailover.ReportFailure(health, trial: false, exception);
        }
    }
}
