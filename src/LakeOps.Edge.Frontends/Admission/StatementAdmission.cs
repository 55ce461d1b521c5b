using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Frontends.Admission;

/// <summary>How a statement may react when its group is full with overflow <c>spill</c>.</summary>
internal enum SpillPolicy
{
    /// <summary>Try the group, else tell the caller to run on the spill group.</summary>
    MaySpill,

    /// <summary>Must stay on its group (inside an open transaction): wait in the group's queue instead.</summary>
    Stay,

    /// <summary>Cannot switch engines (passthrough, or already spilled once): a full group is a rejection.</summary>
    Reject,
}

/// <summary>What admission decided: slots held (possibly none), or run on <see cref="SpillGroup"/> instead (nothing held).</summary>
internal struct AdmissionDecision
{
    public StatementLease Lease;

    public string? SpillGroup;
}

/// <summary>
/// Admission for one statement, the same for every front door: the group's gate first, then the cluster's
/// (the group slot is given back when the cluster refuses). Overflow <c>queue</c> waits in FIFO order
/// (<see cref="AdmissionGate.AdmitAsync"/>), <c>reject</c> never waits, <c>spill</c> never waits and sends the
/// caller to the spill group, whose own gate then applies with its spill turned into a rejection.
/// Refusals throw <see cref="EngineException"/> 53300 (full) or 57014 (queue timeout, cancelled) with the
/// gate's text; <see cref="MySqlErrorCode"/> gives the MySQL code.
/// </summary>
internal static class StatementAdmission
{
    /// <summary>Admits on <paramref name="group"/> and <paramref name="cluster"/>; nothing to do (no lease) while no admission is configured.</summary>
    public static ValueTask<AdmissionDecision> AdmitAsync(AdmissionGates? gates, string group, string cluster, SpillPolicy spill, CancellationToken cancellationToken)
    {
        if (gates is null || !gates.IsActive)
        {
            return default;
        }

        return AdmitSlowAsync(gates, group, cluster, spill, cancellationToken);
    }

    /// <summary>The spill target's own admission: its overflow queue waits, anything else rejects (a statement spills once).</summary>
    public static async ValueTask<StatementLease> AdmitSpilledAsync(AdmissionGates gates, string group, string cluster, CancellationToken cancellationToken)
    {
        AdmissionDecision decision = await AdmitSlowAsync(gates, group, cluster, SpillPolicy.Reject, cancellationToken).ConfigureAwait(false);
        return decision.Lease;
    }

    /// <summary>MySQL's code for an admission refusal (1040 full, 1317 queue timeout / cancelled); 0 for other errors.</summary>
    public static int MySqlErrorCode(EngineException exception) =>
        exception?.InnerException is AdmissionRefusedException refused ? refused.MySqlErrorCode : 0;

    /// <summary>True when <paramref name="exception"/> is an admission refusal (its text is the client's message as is).</summary>
    public static bool IsRefusal(Exception exception) =>
        exception is EngineException { InnerException: AdmissionRefusedException };

    private static async ValueTask<AdmissionDecision> AdmitSlowAsync(AdmissionGates gates, string group, string cluster, SpillPolicy spill, CancellationToken cancellationToken)
    {
        AdmissionTicket groupTicket = default;
        if (gates.GroupConfig(group) is { } config && gates.ForGroup(group) is { } gate)
        {
            bool wait = config.Overflow == AdmissionOverflow.Queue || (config.Overflow == AdmissionOverflow.Spill && spill == SpillPolicy.Stay);
            AdmissionResult result = wait
                ? await gate.AdmitAsync(cancellationToken).ConfigureAwait(false)
                : AdmissionGates.TryAdmitNow(gate);
            if (!result.IsAdmitted)
            {
                if (config.Overflow == AdmissionOverflow.Spill && spill == SpillPolicy.MaySpill && config.SpillGroup is { } target)
                {
                    return new AdmissionDecision { SpillGroup = target };
                }

                throw Refused(result);
            }

            groupTicket = result.Ticket;
        }

        AdmissionTicket clusterTicket = default;
        if (gates.ForCluster(cluster) is { } clusterGate)
        {
            AdmissionResult result;
            try
            {
                result = ClusterWaits(gates, cluster)
                    ? await clusterGate.AdmitAsync(cancellationToken).ConfigureAwait(false)
                    : AdmissionGates.TryAdmitNow(clusterGate);
            }
            catch
            {
                groupTicket.Dispose();
                throw;
            }

            if (!result.IsAdmitted)
            {
                groupTicket.Dispose();
                throw Refused(result);
            }

            clusterTicket = result.Ticket;
        }

        return new AdmissionDecision { Lease = new StatementLease(groupTicket, clusterTicket) };
    }

    private static bool ClusterWaits(AdmissionGates gates, string cluster) =>
        gates.ClusterConfig(cluster) is { Overflow: AdmissionOverflow.Queue };

    private static EngineException Refused(AdmissionResult result)
    {
        string message = result.ErrorMessage();
        Log.Write(result.Outcome == AdmissionOutcome.Cancelled ? LogLevel.Information : LogLevel.Warning, EventId.AdmissionRefused, message);
        return new EngineException(message, result.SqlState, new AdmissionRefusedException(message, result.MySqlErrorCode));
    }
}

/// <summary>Marks an <see cref="EngineException"/> as an admission refusal (its inner exception) and carries the MySQL code.</summary>
internal sealed class AdmissionRefusedException : Exception
{
    public AdmissionRefusedException(string message, int mySqlErrorCode)
        : base(message) => MySqlErrorCode = mySqlErrorCode;

    public AdmissionRefusedException()
    {
    }

    public AdmissionRefusedException(string message)
        : base(message)
    {
    }

    public AdmissionRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public int MySqlErrorCode { get; }
}
