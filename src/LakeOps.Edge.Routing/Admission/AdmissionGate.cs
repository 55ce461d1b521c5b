using System.Diagnostics;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing.Admission;

/// <summary>
/// Limits how many queries of one group (or cluster) run at once, with a bounded FIFO queue of waiters.
/// </summary>
/// <remarks>
/// <para>
/// State is one int: the running count plus a flag that is set exactly while the queue is not empty.
/// Admitting while there is room and nobody waits is one CAS on it; releasing while nobody waits is one
/// CAS. Everything that touches the queue (enqueue, hand-off, cancel, timeout, resize) takes a lock.
/// </para>
/// <para>
/// No barging: while the flag is set the fast path refuses, so a newcomer goes to the lock and queues
/// behind the waiters; a release that sees the flag hands its slot to the oldest waiter.
/// The flag is set with a CAS that also sees the running count at its limit, so a release that happens
/// after a waiter queued always sees the flag (no lost wake-up).
/// </para>
/// <para>
/// Every <see cref="AdmissionOutcome.Admitted"/> result must be released exactly once
/// (<see cref="AdmissionTicket.Dispose"/>). Waiting results must be awaited: the waiter object is
/// pooled and recycled when its result is read.
/// </para>
/// </remarks>
public sealed class AdmissionGate
{
    /// <summary>Largest accepted max_running / max_queued (the count shares an int with the waiters flag).</summary>
    public const int MaxLimit = 1_000_000;

    private const int WaitersFlag = 1 << 30;
    private const int CountMask = WaitersFlag - 1;

    // Waiter objects kept for reuse; beyond this many, finished waiters are dropped.
    private const int MaxPooledWaiters = 1024;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    // Running count | WaitersFlag. Changed only with interlocked operations.
    private int _state;
    private volatile int _maxRunning;

    // Guarded by _lock.
    private int _maxQueued;
    private TimeSpan _queueTimeout;
    private AdmissionWaiter? _head;
    private AdmissionWaiter? _tail;
    private int _queued;
    private AdmissionWaiter? _pool;
    private int _pooled;
    private long _enqueued;
    private long _handedOff;

    public AdmissionGate(AdmissionScope scope, string name, int maxRunning, int maxQueued, TimeSpan queueTimeout, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        CheckLimits(maxRunning, maxQueued, queueTimeout);
        Scope = scope;
        Name = name;
        _maxRunning = maxRunning;
        _maxQueued = maxQueued;
        _queueTimeout = queueTimeout;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A gate for a configured <c>admission:</c> section (no waiters with overflow reject).</summary>
    public static AdmissionGate Create(AdmissionScope scope, string name, AdmissionConfig config, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new AdmissionGate(scope, name, config.MaxRunning, config.EffectiveMaxQueued, config.QueueTimeout, time);
    }

    public AdmissionScope Scope { get; }

    /// <summary>The group or cluster name (for messages).</summary>
    public string Name { get; }

    public int MaxRunning => _maxRunning;

    public int MaxQueued
    {
        get
        {
            lock (_lock)
            {
                return _maxQueued;
            }
        }
    }

    public TimeSpan QueueTimeout
    {
        get
        {
            lock (_lock)
            {
                return _queueTimeout;
            }
        }
    }

    /// <summary>Admitted and not yet released (may exceed <see cref="MaxRunning"/> for a while after it was lowered).</summary>
    public int Running => Volatile.Read(ref _state) & CountMask;

    /// <summary>Waiters in the queue now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    internal TimeProvider Time => _time;

    /// <summary>
    /// Admits at once if there is room and nobody waits; never waits and never queues.
    /// For overflow <c>reject</c> and <c>spill</c>, and for callers that can do something else when full.
    /// </summary>
    public bool TryAdmit(out AdmissionTicket ticket)
    {
        if (TryAcquireFast() || TryAcquireWhenNobodyWaits())
        {
            ticket = new AdmissionTicket(this);
            return true;
        }

        ticket = default;
        return false;
    }

    /// <summary>
    /// Admits at once when there is room, else waits in FIFO order for up to <see cref="QueueTimeout"/>.
    /// The result is <see cref="AdmissionOutcome.Admitted"/>, or <see cref="AdmissionOutcome.Rejected"/>
    /// (queue full), <see cref="AdmissionOutcome.TimedOut"/> or <see cref="AdmissionOutcome.Cancelled"/>;
    /// it never throws for these. Await the result exactly once.
    /// </summary>
    public ValueTask<AdmissionResult> AdmitAsync(CancellationToken cancellationToken = default)
    {
        if (TryAcquireFast())
        {
            return new ValueTask<AdmissionResult>(new AdmissionResult(this, AdmissionOutcome.Admitted, TimeSpan.Zero, 0, 0));
        }

        return AdmitSlow(cancellationToken);
    }

    /// <summary>
    /// Changes the limits (config reload) without dropping anyone: raising max_running admits waiters at
    /// once; lowering it lets running queries finish (new ones wait until the count is under the new
    /// limit); lowering max_queued keeps the waiters already queued and rejects newcomers until the
    /// queue is shorter. A new queue timeout applies to waiters that queue from now on.
    /// </summary>
    public void Resize(int maxRunning, int maxQueued, TimeSpan queueTimeout)
    {
        CheckLimits(maxRunning, maxQueued, queueTimeout);
        lock (_lock)
        {
            _maxRunning = maxRunning;
            _maxQueued = maxQueued;
            _queueTimeout = queueTimeout;
        }

        Pump();
    }

    /// <summary><see cref="Resize(int, int, TimeSpan)"/> from a reloaded <c>admission:</c> section.</summary>
    public void Resize(AdmissionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Resize(config.MaxRunning, config.EffectiveMaxQueued, config.QueueTimeout);
    }

    public override string ToString() =>
        $"{AdmissionResult.ScopeName(Scope)} '{Name}': {Running}/{MaxRunning} running, {Queued} queued";

    /// <summary>Frees one slot; called once per admission through <see cref="AdmissionTicket"/>.</summary>
    internal void Release()
    {
        int state;
        do
        {
            state = Volatile.Read(ref _state);
            if ((state & CountMask) == 0)
            {
                // A ticket was released twice (or a default ticket forged); freeing a slot that was never
                // taken would let one more query run than the limit.
                throw new InvalidOperationException($"{AdmissionResult.ScopeName(Scope)} '{Name}': admission released more often than admitted");
            }
        }
        while (Interlocked.CompareExchange(ref _state, state - 1, state) != state);

        if ((state & WaitersFlag) != 0)
        {
            BeforeHandOff?.Invoke();
            Pump();
        }
    }

    /// <summary>Tests: runs in a release between freeing the slot and handing it to a waiter (the barging window).</summary>
    internal Action? BeforeHandOff { get; set; }

    /// <summary>Cancellation or queue timeout of a waiter: it leaves the queue at once (its place is free now).</summary>
    internal void Abandon(AdmissionWaiter waiter, AdmissionOutcome outcome)
    {
        AdmissionResult result;
        lock (_lock)
        {
            // A timer or cancellation that lost the race against a hand-off finds the waiter no longer queued.
            if (!waiter.Queued)
            {
                return;
            }

            // A timer callback left over from an earlier use of this pooled waiter, or a timer that fired a
            // little early (timers tick in milliseconds): not due yet, so wait for the rest of the time.
            long now = _time.GetTimestamp();
            if (outcome == AdmissionOutcome.TimedOut && now < waiter.DeadlineTimestamp)
            {
                waiter.Rearm(_time.GetElapsedTime(now, waiter.DeadlineTimestamp));
                return;
            }

            Unlink(waiter);
            result = new AdmissionResult(this, outcome, _time.GetElapsedTime(waiter.StartTimestamp), Running, _queued, waiter.Sequence, 0);
        }

        waiter.Complete(result);
    }

    /// <summary>A waiter whose result was read comes back for reuse.</summary>
    internal void Recycle(AdmissionWaiter waiter)
    {
        lock (_lock)
        {
            if (_pooled < MaxPooledWaiters)
            {
                waiter.Next = _pool;
                _pool = waiter;
                _pooled++;
                return;
            }
        }

        waiter.DisposeTimer();
    }

    private ValueTask<AdmissionResult> AdmitSlow(CancellationToken cancellationToken)
    {
        AdmissionWaiter waiter;
        TimeSpan timeout;
        lock (_lock)
        {
            while (_head is null)
            {
                // Nobody waits: take a slot if there is one, else publish "waiters present" with a CAS that
                // also proves the count is still at the limit, so no release can slip by unseen.
                int state = Volatile.Read(ref _state);
                if ((state & CountMask) < _maxRunning)
                {
                    if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
                    {
                        return new ValueTask<AdmissionResult>(new AdmissionResult(this, AdmissionOutcome.Admitted, TimeSpan.Zero, 0, 0));
                    }

                    continue;
                }

                if (_maxQueued == 0 || cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (Interlocked.CompareExchange(ref _state, state | WaitersFlag, state) == state)
                {
                    break;
                }
            }

            if (_queued >= _maxQueued)
            {
                return new ValueTask<AdmissionResult>(new AdmissionResult(this, AdmissionOutcome.Rejected, TimeSpan.Zero, Running, _queued));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return new ValueTask<AdmissionResult>(new AdmissionResult(this, AdmissionOutcome.Cancelled, TimeSpan.Zero, Running, _queued));
            }

            waiter = RentWaiter();
            long now = _time.GetTimestamp();
            timeout = _queueTimeout;
            waiter.StartTimestamp = now;
            waiter.DeadlineTimestamp = now + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
            waiter.Sequence = ++_enqueued;
            Link(waiter);
        }

        // Outside the lock: an already cancelled token runs its callback right here, and that takes the lock.
        short version = waiter.Arm(timeout, cancellationToken);
        return new ValueTask<AdmissionResult>(waiter, version);
    }

    private bool TryAcquireFast()
    {
        int state = Volatile.Read(ref _state);
        return state < _maxRunning // flag clear (it is above any limit) and room
            && Interlocked.CompareExchange(ref _state, state + 1, state) == state;
    }

    // The fast path lost a CAS race, or the state changed under it: retry without queueing.
    private bool TryAcquireWhenNobodyWaits()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state >= _maxRunning)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                return true;
            }
        }
    }

    /// <summary>Hands free slots to the oldest waiters; completes them outside the lock.</summary>
    private void Pump()
    {
        AdmissionWaiter? first = null;
        AdmissionWaiter? last = null;
        lock (_lock)
        {
            while (_head is { } waiter)
            {
                int state = Volatile.Read(ref _state);
                if ((state & CountMask) >= _maxRunning)
                {
                    break;
                }

                // Only releases change the state concurrently here (the flag keeps fast admits out).
                if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
                {
                    continue;
                }

                Unlink(waiter);
                waiter.PendingResult = new AdmissionResult(this, AdmissionOutcome.Admitted, _time.GetElapsedTime(waiter.StartTimestamp), 0, 0, waiter.Sequence, ++_handedOff);
                if (last is null)
                {
                    first = waiter;
                }
                else
                {
                    last.Next = waiter;
                }

                last = waiter;
            }
        }

        while (first is not null)
        {
            AdmissionWaiter waiter = first;
            first = waiter.Next;
            waiter.Next = null;
            waiter.Complete(waiter.PendingResult);
        }
    }

    private AdmissionWaiter RentWaiter()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (_pool is { } waiter)
        {
            _pool = waiter.Next;
            waiter.Next = null;
            _pooled--;
            return waiter;
        }

        return new AdmissionWaiter(this);
    }

    private void Link(AdmissionWaiter waiter)
    {
        Debug.Assert((Volatile.Read(ref _state) & WaitersFlag) != 0, "the flag is set before the first waiter queues");
        waiter.Previous = _tail;
        waiter.Next = null;
        if (_tail is null)
        {
            _head = waiter;
        }
        else
        {
            _tail.Next = waiter;
        }

        _tail = waiter;
        waiter.Queued = true;
        Volatile.Write(ref _queued, _queued + 1);
    }

    private void Unlink(AdmissionWaiter waiter)
    {
        if (waiter.Previous is null)
        {
            _head = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _tail = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Previous = null;
        waiter.Next = null;
        waiter.Queued = false;
        Volatile.Write(ref _queued, _queued - 1);
        if (_head is null)
        {
            // Last waiter gone: the fast path may admit again.
            Interlocked.And(ref _state, CountMask);
        }
    }

    private static void CheckLimits(int maxRunning, int maxQueued, TimeSpan queueTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRunning, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRunning, MaxLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxQueued, MaxLimit);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(queueTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(queueTimeout, TimeSpan.FromDays(24));
    }
}
