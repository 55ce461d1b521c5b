using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>
/// Admission in a MySQL passthrough session: a slot on the group (and cluster) is taken when a server connection
/// is borrowed from the pool and given back when it goes back (after an autocommit statement, at the end of a
/// transaction, or when the session ends). The session cannot switch engines, so overflow spill acts as reject.
/// Without admission config the cost per borrow is a null check and <see cref="AdmissionGates.IsActive"/>.
/// </summary>
internal sealed partial class MySqlPassthrough
{
    private StatementLease _lease;

    // Cancelled by KILL QUERY while a command waits for an admission slot.
    private readonly QueueWait _queueWait = new();

    /// <summary>The process's admission gates (null: none).</summary>
    public AdmissionGates? Admission { get; init; }

    /// <summary>The group the session was routed to (admission is per group name).</summary>
    public string Group { get; init; } = "";

    /// <summary>The group balances least_loaded: each borrow counts as running work on <see cref="Health"/> until it goes back.</summary>
    public bool CountsRunning { get; init; }

    /// <summary>The health of the engine's cluster (null: not reported): failed borrows and recovery are reported there.</summary>
    public ClusterHealth? Health
    {
        get => _health;
        init => _health = value;
    }

    /// <summary>Takes the slots for a borrow; throws the refusal (EngineException 53300 / 57014).</summary>
    private async ValueTask AdmitAsync(CancellationToken cancellationToken)
    {
        // KILL QUERY from another connection ends the wait at once (ERR 1317), as it would end the statement.
        CancellationToken wait = _queueWait.Next(cancellationToken);
        AdmissionDecision decision = await StatementAdmission.AdmitAsync(Admission, Group, _engine.ClusterName, SpillPolicy.Reject, wait).ConfigureAwait(false);
        _lease = decision.Lease;
    }

    /// <summary>KILL QUERY: a command waiting for a slot stops waiting.</summary>
    private void CancelQueueWait() => _queueWait.Cancel();

    /// <summary>Every connection goes back through here: the pool gets it first, then the slots are freed.</summary>
    private void ReturnToPool(MySqlServerConnection connection)
    {
        _engine.Return(connection);
        _lease.Dispose();
    }
}
