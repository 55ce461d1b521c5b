namespace LakeOps.Edge.Routing.Tests;

/// <summary>
/// A TimeProvider that moves only in <see cref="Advance"/>; one-shot timers that become due fire there,
/// synchronously, outside the clock's lock (Task.Delay and Task.WaitAsync use such timers).
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ClockTimer> _timers = [];
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Timers fire this much before they are due (real timers tick in milliseconds and may fire early).</summary>
    public TimeSpan FireEarly { get; set; }

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => new(GetTimestamp(), TimeSpan.Zero);

    /// <summary>Timers waiting to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_lock)
            {
                int pending = 0;
                foreach (ClockTimer timer in _timers)
                {
                    pending += timer.DueTicks is null ? 0 : 1;
                }

                return pending;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ClockTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        var due = new List<ClockTimer>();
        lock (_lock)
        {
            _ticks += by.Ticks;
            foreach (ClockTimer timer in _timers)
            {
                if (timer.DueTicks is { } at && at <= _ticks)
                {
                    timer.DueTicks = null;
                    due.Add(timer);
                }
            }
        }

        foreach (ClockTimer timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class ClockTimer(ManualClock owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueTicks { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan && period != TimeSpan.Zero)
            {
                throw new NotSupportedException("periodic timers are not needed by these tests");
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
