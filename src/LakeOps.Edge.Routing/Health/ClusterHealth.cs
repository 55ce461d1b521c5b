using System.Globalization;
using System.Numerics;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Routing.Health;

/// <summary>
/// Health of one cluster: its circuit breaker, recent outcomes, running count and latency average.
/// One instance per cluster name lives across config reloads (see <see cref="ClusterHealthRegistry"/>).
/// </summary>
/// <remarks>
/// <para>
/// Breaker: closed -> open after <see cref="HealthOptions.FailureThreshold"/> consecutive failures, or when
/// the error rate over the last <see cref="HealthOptions.Window"/> outcomes (at least
/// <see cref="HealthOptions.MinSamples"/>) reaches <see cref="HealthOptions.ErrorRateThreshold"/>.
/// Open -> half-open once the backoff has passed (checked lazily by whoever asks). Half-open lets exactly
/// one trial through (<see cref="TryBeginTrial"/>: a probe or a query); a success closes, a failure opens
/// again with twice the backoff, up to <see cref="HealthOptions.OpenMax"/>.
/// </para>
/// <para>
/// Thread-safe. A success in the closed state takes no lock: one CAS on the latency average and, only
/// when the outcome window is not already all successes, one CAS on the window. Failures and breaker
/// transitions take a small lock. Transitions are logged outside the lock.
/// </para>
/// <para>
/// Reports that arrive while the breaker is open (queries that started before it opened) change no
/// state: only the half-open trial, or any report made while half-open, decides.
/// </para>
/// </remarks>
public sealed class ClusterHealth
{
    /// <summary>Weight of a new latency sample in the average (about the last 10 samples matter).</summary>
    public const double LatencySmoothing = 0.2;

    // _window: outcome bits (1 = failure, newest in bit 0) in the low 56 bits, sample count in the high 8.
    private const int CountShift = 56;
    private const ulong BitsMask = (1UL << CountShift) - 1;

    // No latency sample yet (any negative value).
    private static readonly long NoLatency = BitConverter.DoubleToInt64Bits(-1);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    private volatile HealthOptions _options;
    private volatile ClusterAdminState _admin;
    private volatile BreakerState _breaker;

    // Timestamps (TimeProvider units). Written under _lock, read anywhere.
    private long _openUntil;
    private long _trialUntil;

    // Opens since the breaker was last closed (backoff exponent). Guarded by _lock.
    private int _opens;

    private int _consecutiveFailures;
    private long _window;
    private long _latencyBits = NoLatency;
    private int _running;
    private int _loggedState;
    private volatile string? _lastFailure;
    private long _successes;
    private long _failures;

    public ClusterHealth(string name, HealthOptions? options = null, ClusterAdminState admin = ClusterAdminState.Enabled, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _options = options ?? new HealthOptions();
        _admin = admin;
        _time = time ?? TimeProvider.System;
        _loggedState = (int)State;
    }

    public string Name { get; }

    public HealthOptions Options => _options;

    public ClusterAdminState AdminState => _admin;

    /// <summary>The breaker as last changed; an open breaker whose backoff passed stays Open until someone asks for a trial.</summary>
    public BreakerState Breaker => _breaker;

    public ClusterState State => _admin switch
    {
        ClusterAdminState.Disabled => ClusterState.Disabled,
        ClusterAdminState.Draining => ClusterState.Draining,
        _ when _breaker != BreakerState.Closed => ClusterState.Unhealthy,
        _ when IsDegraded(_options) => ClusterState.Degraded,
        _ => ClusterState.Healthy,
    };

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Work in progress on this cluster (<see cref="Begin"/> minus <see cref="End"/>), for least_loaded.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Exponentially weighted average of reported latencies; null before the first success.</summary>
    public TimeSpan? AverageLatency => LatencyMilliseconds is var ms and >= 0 ? TimeSpan.FromMilliseconds(ms) : null;

    /// <summary>Failures and samples in the current window.</summary>
    public (int Failures, int Samples) RecentOutcomes => Split((ulong)Volatile.Read(ref _window));

    /// <summary>The window word: failure bits below, the sample count above.</summary>
    private static (int Failures, int Samples) Split(ulong window) => (BitOperations.PopCount(window & BitsMask), (int)(window >> CountShift));

    /// <summary>Totals since start (for diagnostics).</summary>
    public long Successes => Interlocked.Read(ref _successes);

    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The text of the last reported failure, if any.</summary>
    public string? LastFailure => _lastFailure;

    /// <summary>Time left until an open breaker allows its trial (zero when not open or already due).</summary>
    public TimeSpan OpenRemaining
    {
        get
        {
            if (_breaker != BreakerState.Open)
            {
                return TimeSpan.Zero;
            }

            long now = _time.GetTimestamp();
            long until = Volatile.Read(ref _openUntil);
            return until <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, until);
        }
    }

    // Negative: no sample yet.
    internal double LatencyMilliseconds => BitConverter.Int64BitsToDouble(Volatile.Read(ref _latencyBits));

    /// <summary>Applies a reload: new thresholds take effect from the next report; the breaker keeps its state.</summary>
    public void Configure(HealthOptions options, ClusterAdminState admin)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        ClusterAdminState before = _admin;
        _admin = admin;
        if (before != admin)
        {
            Log.Info(EventId.ClusterAdminStateChanged, $"cluster '{Name}' is now {Describe(admin)} (was {Describe(before)})");
        }

        NoteState();
    }

    public void Begin() => Interlocked.Increment(ref _running);

    public void End() => Interlocked.Decrement(ref _running);

    /// <summary>A request (query, connect or probe) succeeded and took <paramref name="latency"/>.</summary>
    public void ReportSuccess(TimeSpan latency)
    {
        UpdateLatency(latency.Ticks / (double)TimeSpan.TicksPerMillisecond);
        Interlocked.Increment(ref _successes);
        HealthOptions options = _options;
        Record(failed: false, options.Window);
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }

        if (_breaker == BreakerState.HalfOpen)
        {
            CloseAfterTrial();
        }

        NoteState();
    }

    /// <summary>A request failed in a way that says the engine is sick (not a user error such as bad SQL).</summary>
    public void ReportFailure(FailureKind kind, string? detail = null)
    {
        Interlocked.Increment(ref _failures);
        _lastFailure = detail is null ? KindText(kind) : $"{KindText(kind)}: {detail}";
        HealthOptions options = _options;
        ulong window = Record(failed: true, options.Window);
        int consecutive = Interlocked.Increment(ref _consecutiveFailures);
        BreakerState breaker = _breaker;
        if (breaker == BreakerState.HalfOpen || (breaker == BreakerState.Closed && ShouldOpen(options, consecutive, window)))
        {
            OpenAfterFailure(options);
        }

        NoteState();
    }

    /// <summary>
    /// Claims the single half-open trial: true for exactly one caller once an open breaker's backoff has
    /// passed. The caller must report the outcome (<see cref="ReportSuccess"/> / <see cref="ReportFailure"/>).
    /// A trial whose outcome never arrives is given up after <see cref="HealthOptions.OpenMax"/> (at least
    /// the probe timeout), and the next caller gets a new one.
    /// </summary>
    public bool TryBeginTrial()
    {
        if (_breaker == BreakerState.Closed)
        {
            return false;
        }

        long now = _time.GetTimestamp();
        bool halfOpened = false;
        lock (_lock)
        {
            HealthOptions options = _options;
            if (_breaker == BreakerState.Open && now >= _openUntil)
            {
                _breaker = BreakerState.HalfOpen;
                halfOpened = true;
            }
            else if (_breaker != BreakerState.HalfOpen || now < _trialUntil)
            {
                return false;
            }

            TimeSpan lease = options.OpenMax > options.ProbeTimeout ? options.OpenMax : options.ProbeTimeout;
            Volatile.Write(ref _trialUntil, now + ToTimestamp(lease));
        }

        if (halfOpened)
        {
            Log.Info(EventId.ClusterBreakerHalfOpen, $"cluster '{Name}': breaker half-open, one trial request decides");
        }

        NoteState();
        return true;
    }

    /// <summary>
    /// Gives back a trial claimed with <see cref="TryBeginTrial"/> when no request was made after all
    /// (cancelled before it started): the next caller may take the trial at once.
    /// </summary>
    public void AbandonTrial()
    {
        lock (_lock)
        {
            if (_breaker == BreakerState.HalfOpen)
            {
                Volatile.Write(ref _trialUntil, 0);
            }
        }
    }

    /// <summary>
    /// The common case of <see cref="GetAvailability"/>, without reading the clock: pickers would choose this
    /// cluster now. Callers that hold on to a cluster (a passthrough session) check it per transaction.
    /// </summary>
    public bool IsClosedAndEnabled => _breaker == BreakerState.Closed && _admin == ClusterAdminState.Enabled;

    /// <summary>Whether a picker may send a new query here now (no side effects).</summary>
    internal Availability GetAvailability(long now)
    {
        if (_admin != ClusterAdminState.Enabled)
        {
            return Availability.Unavailable;
        }

        return _breaker switch
        {
            BreakerState.Closed => Availability.Available,
            BreakerState.Open => now >= Volatile.Read(ref _openUntil) ? Availability.TrialReady : Availability.Unavailable,
            _ => now >= Volatile.Read(ref _trialUntil) ? Availability.TrialReady : Availability.Unavailable,
        };
    }

    /// <summary>"unhealthy (breaker open, trial in 2.5 s; 3 consecutive failures, last: connect: ...)" and the like.</summary>
    internal void AppendStatus(StringBuilder text)
    {
        ClusterState state = State;
        text.Append(Describe(state));
        BreakerState breaker = _breaker;
        string? last = _lastFailure;
        if (breaker == BreakerState.Open)
        {
            TimeSpan remaining = OpenRemaining;
            text.Append(CultureInfo.InvariantCulture, $" (breaker open, next trial in {remaining.TotalSeconds:0.0} s");
        }
        else if (breaker == BreakerState.HalfOpen)
        {
            text.Append(" (breaker half-open, a trial request is running");
        }
        else if (state == ClusterState.Degraded)
        {
            text.Append(" (");
        }
        else
        {
            return;
        }

        if (state == ClusterState.Degraded || breaker != BreakerState.Closed)
        {
            (int failures, int samples) = RecentOutcomes;
            if (breaker == BreakerState.Closed)
            {
                text.Append(CultureInfo.InvariantCulture, $"{failures} of the last {samples} requests failed");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"; {ConsecutiveFailures} consecutive failures");
            }

            if (last is not null)
            {
                text.Append("; last: ").Append(last);
            }

            text.Append(')');
        }
    }

    public override string ToString()
    {
        var text = new StringBuilder(Name).Append(' ');
        AppendStatus(text);
        return text.ToString();
    }

    internal static string Describe(ClusterState state) => state switch
    {
        ClusterState.Healthy => "healthy",
        ClusterState.Degraded => "degraded",
        ClusterState.Unhealthy => "unhealthy",
        ClusterState.Draining => "draining",
        _ => "disabled",
    };

    private static string Describe(ClusterAdminState state) => state switch
    {
        ClusterAdminState.Enabled => "enabled",
        ClusterAdminState.Draining => "draining",
        _ => "disabled",
    };

    private static string KindText(FailureKind kind) => kind switch
    {
        FailureKind.Connect => "connect",
        FailureKind.Timeout => "timeout",
        _ => "server error",
    };

    private void UpdateLatency(double milliseconds)
    {
        long current;
        long next;
        do
        {
            current = Volatile.Read(ref _latencyBits);
            double average = BitConverter.Int64BitsToDouble(current);
            double updated = average < 0 ? milliseconds : average + (LatencySmoothing * (milliseconds - average));
            next = BitConverter.DoubleToInt64Bits(updated);
        }
        while (Interlocked.CompareExchange(ref _latencyBits, next, current) != current);
    }

    /// <summary>Shifts one outcome into the window; returns the new window.</summary>
    private ulong Record(bool failed, int size)
    {
        ulong sizeMask = size >= CountShift ? BitsMask : (1UL << size) - 1;
        ulong full = (ulong)size << CountShift;
        long current;
        ulong next;
        do
        {
            current = Volatile.Read(ref _window);
            if (!failed && (ulong)current == full)
            {
                // Full window of successes stays as it is: the common case writes nothing.
                return full;
            }

            ulong bits = ((((ulong)current & BitsMask) << 1) | (failed ? 1UL : 0UL)) & sizeMask;
            ulong count = Math.Min(((ulong)current >> CountShift) + 1, (ulong)size);
            next = bits | (count << CountShift);
        }
        while (Interlocked.CompareExchange(ref _window, (long)next, current) != current);

        return next;
    }

    private static bool ShouldOpen(HealthOptions options, int consecutive, ulong window)
    {
        if (consecutive >= options.FailureThreshold)
        {
            return true;
        }

        (int failures, int samples) = Split(window);
        return options.ErrorRateThreshold > 0 && samples >= options.MinSamples && failures >= options.ErrorRateThreshold * samples;
    }

    /// <summary>Half of what opens the breaker: consecutive failures, or the error rate over enough samples.</summary>
    private bool IsDegraded(HealthOptions options)
    {
        int consecutive = Volatile.Read(ref _consecutiveFailures);
        if (consecutive > 0 && consecutive * 2 >= options.FailureThreshold)
        {
            return true;
        }

        (int failures, int samples) = RecentOutcomes;
        return failures > 0 && options.ErrorRateThreshold > 0 && samples >= options.MinSamples && failures * 2 >= options.ErrorRateThreshold * samples;
    }

    private void OpenAfterFailure(HealthOptions options)
    {
        TimeSpan backoff;
        int consecutive;
        (int failures, int samples) window;
        lock (_lock)
        {
            // Re-checked under the lock: a concurrent failure may have opened it already.
            if (_breaker == BreakerState.Open)
            {
                return;
            }

            if (_breaker == BreakerState.Closed)
            {
                _opens = 0;
            }

            _opens++;
            double factor = Math.Pow(2, Math.Min(_opens - 1, 40));
            backoff = TimeSpan.FromTicks((long)Math.Min(options.OpenBase.Ticks * factor, options.OpenMax.Ticks));
            Volatile.Write(ref _openUntil, _time.GetTimestamp() + ToTimestamp(backoff));
            Volatile.Write(ref _trialUntil, 0);
            _breaker = BreakerState.Open;
            consecutive = Volatile.Read(ref _consecutiveFailures);
            window = RecentOutcomes;
        }

        Log.Warn(
            EventId.ClusterBreakerOpened,
            string.Create(
                CultureInfo.InvariantCulture,
                $"cluster '{Name}': breaker open for {backoff.TotalSeconds:0.###} s after {consecutive} consecutive failures ({window.failures} of the last {window.samples} requests failed); last: {_lastFailure}"));
    }

    private void CloseAfterTrial()
    {
        lock (_lock)
        {
            if (_breaker != BreakerState.HalfOpen)
            {
                return;
            }

            _breaker = BreakerState.Closed;
            _opens = 0;
            Volatile.Write(ref _trialUntil, 0);
            Volatile.Write(ref _window, 0);
            Volatile.Write(ref _consecutiveFailures, 0);
        }

        Log.Info(EventId.ClusterBreakerClosed, $"cluster '{Name}': breaker closed, the trial request succeeded");
    }

    /// <summary>Logs healthy/degraded changes once each (breaker and admin changes log where they happen).</summary>
    private void NoteState()
    {
        int state = (int)State;
        int logged = Volatile.Read(ref _loggedState);
        if (state == logged || Interlocked.CompareExchange(ref _loggedState, state, logged) != logged)
        {
            return;
        }

        if (state == (int)ClusterState.Degraded)
        {
            (int failures, int samples) = RecentOutcomes;
            Log.Warn(EventId.ClusterDegraded, $"cluster '{Name}' is degraded: {ConsecutiveFailures} consecutive failures, {failures} of the last {samples} requests failed; last: {_lastFailure}");
        }
        else if (state == (int)ClusterState.Healthy && logged == (int)ClusterState.Degraded)
        {
            Log.Info(EventId.ClusterRecovered, $"cluster '{Name}' is healthy");
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
