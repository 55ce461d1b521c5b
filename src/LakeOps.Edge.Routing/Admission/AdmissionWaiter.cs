using System.Threading.Tasks.Sources;

namespace LakeOps.Edge.Routing.Admission;

/// <summary>
/// One queued admission: a node of the gate's FIFO list and the source of the caller's ValueTask.
/// Pooled by its gate, so waiting allocates nothing in steady state (the timer is created once per node).
/// </summary>
internal sealed class AdmissionWaiter : IValueTaskSource<AdmissionResult>
{
    private readonly AdmissionGate _gate;

    // Continuations run on the thread pool: completion happens inside Release(), which must not run
    // another query's code on the releasing thread.
    private ManualResetValueTaskSourceCore<AdmissionResult> _core = new() { RunContinuationsAsynchronously = true };
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;

    public AdmissionWaiter(AdmissionGate gate) => _gate = gate;

    // Queue links and bookkeeping; guarded by the gate's lock.
    internal AdmissionWaiter? Previous { get; set; }

    internal AdmissionWaiter? Next { get; set; }

    internal bool Queued { get; set; }

    internal long Sequence { get; set; }

    internal long StartTimestamp { get; set; }

    internal long DeadlineTimestamp { get; set; }

    internal AdmissionResult PendingResult { get; set; }

    /// <summary>Starts the queue timeout and watches the token; returns the ValueTask token.</summary>
    internal short Arm(TimeSpan timeout, CancellationToken cancellationToken)
    {
        short version = _core.Version;
        _timer ??= CreateTimer();
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static state => ((AdmissionWaiter)state!).OnCancelled(), this);
        }

        return version;
    }

    internal void Rearm(TimeSpan remaining) => _timer?.Change(remaining, Timeout.InfiniteTimeSpan);

    internal void Complete(AdmissionResult result) => _core.SetResult(result);

    internal void DisposeTimer() => _timer?.Dispose();

    public AdmissionResult GetResult(short token)
    {
        AdmissionResult result = _core.GetResult(token);

        // Dispose waits for a cancellation callback in flight, so none can touch the next use of this node.
        // A late timer callback is harmless: it checks the deadline of the current use.
        _registration.Dispose();
        _registration = default;
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _core.Reset();
        _gate.Recycle(this);
        return result;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void OnCancelled() => _gate.Abandon(this, AdmissionOutcome.Cancelled);

    private void OnTimer() => _gate.Abandon(this, AdmissionOutcome.TimedOut);

    private ITimer CreateTimer()
    {
        // The timer lives as long as the pooled node: do not let it capture the first caller's context.
        bool suppressed = ExecutionContext.IsFlowSuppressed();
        if (!suppressed)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            return _gate.Time.CreateTimer(static state => ((AdmissionWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (!suppressed)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }
}
