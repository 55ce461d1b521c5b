using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Networking;

namespace LakeOps.Edge.Systemd;

/// <summary>
/// The health loop behind WatchdogSec: every interval (half of $WATCHDOG_USEC) it checks that the
/// process still makes progress and only then sends WATCHDOG=1. A process whose thread pool or socket
/// event loops are stuck stops pinging, and systemd kills and restarts it (Restart=on-failure). The
/// loop itself runs on the thread pool, so a starved pool also misses its tick.
/// </summary>
internal sealed class SystemdWatchdog : IAsyncDisposable
{
    private readonly SystemdNotifier _notifier;
    private readonly TimeSpan _interval;
    private readonly Func<TimeSpan, Task<bool>> _healthCheck;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private bool _unhealthy;

    /// <summary>A health loop; <paramref name="healthCheck"/> (whether the process made progress within a deadline) defaults to <see cref="ProcessMakesProgressAsync"/>.</summary>
    public SystemdWatchdog(SystemdNotifier notifier, TimeSpan interval, Func<TimeSpan, Task<bool>>? healthCheck = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _notifier = notifier;
        _interval = interval;
        _healthCheck = healthCheck ?? (deadline => ProcessMakesProgressAsync(SocketEventLoop.StartedShared, deadline));
    }

    public void Start() => _loop ??= RunAsync(_stop.Token);

    private async Task RunAsync(CancellationToken stop)
    {
        // Ping at once (systemd counts from READY=1), then every interval.
        using var timer = new PeriodicTimer(_interval);
        do
        {
            // Half the interval for the probes leaves the other half before systemd's deadline.
            bool healthy = await _healthCheck(_interval / 2).ConfigureAwait(false);
            if (healthy)
            {
                _notifier.Watchdog();
                if (_unhealthy)
                {
                    Log.Info(EventId.WatchdogProbeFailed, "watchdog: the process makes progress again; pinging systemd");
                }
            }
            else if (!_unhealthy)
            {
                Log.Error(EventId.WatchdogProbeFailed, $"watchdog: the thread pool or a socket event loop did not respond within {(_interval / 2).TotalMilliseconds:0} ms; not pinging systemd");
            }

            _unhealthy = !healthy;
        }
        while (await WaitForTickAsync(timer, stop).ConfigureAwait(false));
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when a thread-pool work item runs and every given event loop comes back from epoll_wait
    /// (<see cref="SocketEventLoop.PingAsync"/>) within <paramref name="deadline"/>.
    /// </summary>
    public static async Task<bool> ProcessMakesProgressAsync(IReadOnlyList<SocketEventLoop> loops, TimeSpan deadline)
    {
        var probes = new Task[loops.Count + 1];
        probes[0] = Task.Run(static () => { });
        for (int i = 0; i < loops.Count; i++)
        {
            probes[i + 1] = loops[i].PingAsync();
        }

        try
        {
            await Task.WhenAll(probes).WaitAsync(deadline).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
