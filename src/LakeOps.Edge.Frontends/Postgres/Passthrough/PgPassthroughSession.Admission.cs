using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// Admission in a passthrough session: a slot on the group (and cluster) is taken when the session borrows a
/// server connection (a transaction, or a pinned session's whole life) and given back when the connection
/// goes back to its pool, on every path (done, server lost, client gone). A passthrough session cannot switch
/// engines, so overflow spill acts as reject here. Without admission config the cost per attach is a null check and
/// <see cref="AdmissionGates.IsActive"/> (a reference compare of the current snapshot and a bool).
/// </summary>
internal sealed partial class PgPassthroughSession
{
    // Null when the process has no gates (unit tests): AttachAsync then skips admission.
    private AdmissionGates? _admission;

    // The slots of the attached connection, under _gate: moved out (exactly once) where _attached is cleared.
    private StatementLease _lease;

    // Pump-owned: the slots of a connection the pump is returning, released right after the pool has it back.
    private StatementLease _returning;

    // Cancelled by a CancelRequest while the client waits in a queue (made at the first wait: idle sessions are many).
    private QueueWait? _queueWait;

    /// <summary>The process's admission gates (null: none).</summary>
    public AdmissionGates? Admission
    {
        get => _admission;
        init => _admission = value;
    }

    /// <summary>Takes the group/cluster slots for a new borrow; false (the client got the error) when refused.</summary>
    private async ValueTask<(bool Admitted, StatementLease Lease)> AdmitAsync(byte type)
    {
        CancellationToken wait = (_queueWait ??= new()).Next();
        try
        {
            AdmissionDecision decision = await StatementAdmission.AdmitAsync(_admission, _group.Name, ClusterName, SpillPolicy.Reject, wait).ConfigureAwait(false);
            return (true, decision.Lease);
        }
        catch (EngineException ex) when (StatementAdmission.IsRefusal(ex))
        {
            _client.Reject(type, ClientMessageForwarder.ErrorFrame(ex.SqlState, ex.Message));
            return (false, default);
        }
    }

    /// <summary>A CancelRequest while the client waits for a slot ends the wait (57014).</summary>
    private void CancelQueueWait() => _queueWait?.Cancel();

    /// <summary>The caller holds <see cref="_gate"/> and has just cleared <see cref="_attached"/>: the slots leave with it.</summary>
    private StatementLease TakeLeaseLocked()
    {
        StatementLease lease = _lease;
        _lease = default;
        return lease;
    }

}
