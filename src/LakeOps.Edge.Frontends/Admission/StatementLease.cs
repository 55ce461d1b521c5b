using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Admission;

/// <summary>
/// The admission slots one statement (or one passthrough transaction) holds: on its group and on its
/// cluster, either may be absent. Move it to its one owner and dispose it there, exactly once.
/// </summary>
internal struct StatementLease : IDisposable
{
    private AdmissionTicket _group;
    private AdmissionTicket _cluster;

    // Running work counted on the cluster's health (least_loaded), ended with the slots.
    private ClusterHealth? _running;

    internal StatementLease(AdmissionTicket group, AdmissionTicket cluster)
    {
        _group = group;
        _cluster = cluster;
    }

    public readonly bool IsHeld => _group.IsHeld || _cluster.IsHeld;

    /// <summary>Counts this work as running on <paramref name="health"/> until the lease is disposed.</summary>
    public void CountRunning(ClusterHealth health)
    {
        health.Begin();
        _running?.End();
        _running = health;
    }

    /// <summary>Frees both slots (and ends the running count); a second call on the same variable does nothing.</summary>
    public void Dispose()
    {
        _cluster.Dispose();
        _group.Dispose();
        if (_running is { } running)
        {
            _running = null;
            running.End();
        }
    }
}
