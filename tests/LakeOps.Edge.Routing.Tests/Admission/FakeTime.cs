namespace LakeOps.Edge.Routing.Tests.Admission;

/// <summary>
/// A clock that moves only when told; timers due by then fire synchronously inside <see cref="Advance"/>.
/// </summary>
internal sealed class FakeTime : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<FakeTimer> _timers = [];
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Timers fire this much before they are due (real timers tick in milliseconds).</summary>
    public TimeSpan FireEarly { get; set; }

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => new(GetTimestamp(), TimeSpan.Zero);

    public int ActiveTimers
    {
        get
        {
            lock (_lock)
            {
                int active = 0;
                foreach (FakeTimer timer in _timers)
                {
                    active += timer.DueTicks is null ? 0 : 1;
                }

                return active;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock and runs, outside the lock, every timer that became due.</summary>
    public void Advance(TimeSpan by)
    {
        var due = new List<FakeTimer>();
        lock (_lock)
        {
            _ticks += by.Ticks;
            foreach (FakeTimer timer in _timers)
            {
                if (timer.DueTicks is { } at && at <= _ticks)
                {
                    timer.DueTicks = null;
                    due.Add(timer);
                }
            }
        }

        foreach (FakeTimer timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class FakeTimer(FakeTime owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueTicks { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan)
            {
                throw new NotSupportedException("periodic fake timers are not needed here");
            }

            lock (owner._lock)
            {
                DueTicks = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + dueTime.Ticks - owner.FireEarly.Ticks;
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                DueTicks = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
