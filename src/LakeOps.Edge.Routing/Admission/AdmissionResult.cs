using System.Globalization;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Routing.Admission;

/// <summary>What an <see cref="AdmissionGate"/> limits (used in messages).</summary>
public enum AdmissionScope
{
    Group,
    Cluster,
}

public enum AdmissionOutcome
{
    /// <summary>The query may run; release the ticket when it is done.</summary>
    Admitted,

    /// <summary>No room to run and the queue was full (or the gate does not queue).</summary>
    Rejected,

    /// <summary>Waited the whole queue timeout without getting a slot; it left the queue.</summary>
    TimedOut,

    /// <summary>The caller's token was cancelled while it waited; it left the queue.</summary>
    Cancelled,
}

/// <summary>
/// The answer of <see cref="AdmissionGate.AdmitAsync"/>: an outcome, how long it waited, and for refusals
/// the figures the client's error names (<see cref="ErrorMessage"/>, <see cref="SqlState"/>).
/// </summary>
public readonly struct AdmissionResult
{
    internal AdmissionResult(AdmissionGate gate, AdmissionOutcome outcome, TimeSpan waited, int running, int queued, long sequence = 0, long handOff = 0)
    {
        Gate = gate;
        Outcome = outcome;
        Waited = waited;
        Running = running;
        Queued = queued;
        Sequence = sequence;
        HandOff = handOff;
    }

    public AdmissionGate Gate { get; }

    public AdmissionOutcome Outcome { get; }

    public bool IsAdmitted => Outcome == AdmissionOutcome.Admitted;

    /// <summary>Time spent in the queue (zero when admitted or rejected at once).</summary>
    public TimeSpan Waited { get; }

    /// <summary>Running count when the gate refused (0 when admitted).</summary>
    public int Running { get; }

    /// <summary>Queue length when the gate refused (0 when admitted).</summary>
    public int Queued { get; }

    /// <summary>
    /// The slot to release when the query is done; only when <see cref="IsAdmitted"/>. Take it once: every
    /// copy of a ticket releases the slot when disposed.
    /// </summary>
    public AdmissionTicket Ticket => IsAdmitted ? new AdmissionTicket(Gate) : default;

    /// <summary>PostgreSQL SQLSTATE for a refusal: 53300 when full, 57014 when timed out or cancelled.</summary>
    public string SqlState => Outcome == AdmissionOutcome.Rejected ? SqlStates.TooManyConnections : SqlStates.QueryCanceled;

    /// <summary>MySQL error code for a refusal: 1040 (ER_CON_COUNT_ERROR, "too many connections") when full, 1317 (ER_QUERY_INTERRUPTED) otherwise.</summary>
    public int MySqlErrorCode => Outcome == AdmissionOutcome.Rejected ? 1040 : 1317;

    // Queue order bookkeeping for tests: order of queueing and order of hand-off (0 = not queued / not handed off).
    internal long Sequence { get; }

    internal long HandOff { get; }

    /// <summary>
    /// Client-facing text: "group 'dash' is full: 8 running, 20 queued",
    /// "waited 5.0 s in the queue of group 'dash'", "cancelled after waiting 1.2 s in the queue of group 'dash'".
    /// </summary>
    public string ErrorMessage() => Outcome switch
    {
        AdmissionOutcome.Rejected => string.Create(CultureInfo.InvariantCulture, $"{ScopeName(Gate.Scope)} '{Gate.Name}' is full: {Running} running, {Queued} queued"),
        AdmissionOutcome.TimedOut => string.Create(CultureInfo.InvariantCulture, $"waited {Waited.TotalSeconds:0.0} s in the queue of {ScopeName(Gate.Scope)} '{Gate.Name}'"),
        AdmissionOutcome.Cancelled => string.Create(CultureInfo.InvariantCulture, $"cancelled after waiting {Waited.TotalSeconds:0.0} s in the queue of {ScopeName(Gate.Scope)} '{Gate.Name}'"),
        _ => string.Empty,
    };

    public override string ToString() => IsAdmitted
        ? string.Create(CultureInfo.InvariantCulture, $"admitted to {ScopeName(Gate.Scope)} '{Gate.Name}' after {Waited.TotalSeconds:0.000} s")
        : ErrorMessage();

    internal static string ScopeName(AdmissionScope scope) => scope == AdmissionScope.Cluster ? "cluster" : "group";
}

/// <summary>
/// One admitted query's slot. <see cref="Dispose"/> frees it and clears this copy, so disposing the same
/// variable twice frees one slot; copies of a ticket are not tracked (release through one of them only).
/// A release with no slot taken throws instead of letting an extra query run.
/// </summary>
public struct AdmissionTicket : IDisposable
{
    private AdmissionGate? _gate;

    internal AdmissionTicket(AdmissionGate gate) => _gate = gate;

    /// <summary>True until disposed (false for the default ticket).</summary>
    public readonly bool IsHeld => _gate is not null;

    public void Dispose()
    {
        AdmissionGate? gate = _gate;
        _gate = null;
        gate?.Release();
    }
}
