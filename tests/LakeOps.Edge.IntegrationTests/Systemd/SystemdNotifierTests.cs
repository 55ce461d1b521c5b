using System.Diagnostics;
using System.Globalization;
using LakeOps.Edge.Core.Networking;
using LakeOps.Edge.Systemd;

namespace LakeOps.Edge.IntegrationTests.Systemd;

/// <summary>The sd_notify client (src/LakeOps.Edge/Systemd, compiled into this project) against real unix datagram sockets.</summary>
public sealed class SystemdNotifierTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("@")]
    [InlineData("relative/notify.sock")]
    [InlineData("vsock:2:1234")]
    public void No_notifier_without_a_usable_socket_address(string? value) => Assert.Null(SystemdNotifier.Create(value));

    [Fact]
    public async Task State_changes_arrive_as_datagrams_at_a_socket_path()
    {
        using var socket = NotifySocket.AtPath();
        using SystemdNotifier notifier = SystemdNotifier.Create(socket.Address)!;

        Assert.True(notifier.Ready());
        Assert.True(notifier.Watchdog());
        Assert.True(notifier.Stopping());

        await socket.WaitForAsync(m => m == "STOPPING=1");
        Assert.Equal(["READY=1", "WATCHDOG=1", "STOPPING=1"], socket.Messages);
    }

    [Fact]
    public async Task An_at_sign_addresses_an_abstract_socket()
    {
        using var socket = NotifySocket.Abstract();
        using SystemdNotifier notifier = SystemdNotifier.Create(socket.Address)!;

        Assert.True(notifier.Ready());

        await socket.WaitForAsync(m => m == "READY=1");
        Assert.Equal(["READY=1"], socket.Messages);
    }

    [Fact]
    public async Task Reloading_carries_the_monotonic_clock_in_microseconds()
    {
        using var socket = NotifySocket.Abstract();
        using SystemdNotifier notifier = SystemdNotifier.Create(socket.Address)!;

        // .NET's Stopwatch reads CLOCK_MONOTONIC on Linux: an independent reading of the same clock.
        long before = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
        Assert.True(notifier.Reloading());
        long after = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

        await socket.WaitForAsync(m => m.StartsWith("RELOADING=1", StringComparison.Ordinal));
        string[] lines = socket.Messages[0].Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Equal("RELOADING=1", lines[0]);
        Assert.StartsWith("MONOTONIC_USEC=", lines[1], StringComparison.Ordinal);
        long usec = long.Parse(lines[1]["MONOTONIC_USEC=".Length..], NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(usec, before, after);
    }

    [Fact]
    public void The_reloading_message_is_two_newline_separated_assignments() =>
        Assert.Equal("RELOADING=1\nMONOTONIC_USEC=1234567", SystemdNotifier.ReloadingMessage(1_234_567));

    [Fact]
    public void A_socket_nobody_listens_on_reports_failure_without_throwing()
    {
        string missing = Path.Combine(Path.GetTempPath(), "edge-no-notify-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using SystemdNotifier notifier = SystemdNotifier.Create(missing)!;

        Assert.False(notifier.Ready());
    }

    [Theory]
    [InlineData("2000000", null, 1000)]
    [InlineData("2000000", "", 1000)]
    [InlineData("30000000", "OWN", 15000)]
    [InlineData("1000", null, 0.5)]
    public void The_watchdog_pings_at_half_of_WATCHDOG_USEC(string usec, string? pid, double expectedMilliseconds)
    {
        string? watchdogPid = pid == "OWN" ? Environment.ProcessId.ToString(CultureInfo.InvariantCulture) : pid;

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), SystemdNotifier.WatchdogInterval(usec, watchdogPid, Environment.ProcessId));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", null)]
    [InlineData("-5", null)]
    [InlineData("soon", null)]
    [InlineData("2000000", "OTHER")]
    [InlineData("2000000", "not-a-pid")]
    public void No_watchdog_when_it_is_off_or_meant_for_another_process(string? usec, string? pid)
    {
        string? watchdogPid = pid == "OTHER" ? (Environment.ProcessId + 1).ToString(CultureInfo.InvariantCulture) : pid;

        Assert.Null(SystemdNotifier.WatchdogInterval(usec, watchdogPid, Environment.ProcessId));
    }

    [Fact]
    public async Task The_watchdog_pings_while_the_health_check_passes()
    {
        using var socket = NotifySocket.Abstract();
        using SystemdNotifier notifier = SystemdNotifier.Create(socket.Address)!;
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromMilliseconds(20), _ => Task.FromResult(true));

        watchdog.Start();

        int third = await socket.WaitForAsync(m => m == "WATCHDOG=1", from: 2);
        Assert.All(socket.Messages.Take(third + 1), m => Assert.Equal("WATCHDOG=1", m));
    }

    [Fact]
    public async Task A_stuck_process_stops_pinging()
    {
        using var socket = NotifySocket.Abstract();
        using SystemdNotifier notifier = SystemdNotifier.Create(socket.Address)!;
        int checks = 0;
        bool stuck = false;
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromMilliseconds(20), _ =>
        {
            Interlocked.Increment(ref checks);
            return Task.FromResult(!Volatile.Read(ref stuck));
        });

        watchdog.Start();
        await socket.WaitForAsync(m => m == "WATCHDOG=1");
        Volatile.Write(ref stuck, true);
        int checksWhenStuck = Volatile.Read(ref checks);
        int pingsWhenStuck = socket.Messages.Count;
        await WaitUntilAsync(() => Volatile.Read(ref checks) >= checksWhenStuck + 4);

        // At most the one ping of a check that was already running when the process got stuck.
        Assert.InRange(socket.Messages.Count, pingsWhenStuck, pingsWhenStuck + 1);

        Volatile.Write(ref stuck, false);
        await socket.WaitForAsync(m => m == "WATCHDOG=1", from: socket.Messages.Count);
    }

    [Fact]
    public async Task The_progress_check_passes_when_the_thread_pool_and_an_event_loop_respond()
    {
        using var loop = new SocketEventLoop("watchdog-test-loop");

        Assert.True(await SystemdWatchdog.ProcessMakesProgressAsync([loop], TimeSpan.FromSeconds(5)));
        Assert.True(await SystemdWatchdog.ProcessMakesProgressAsync([loop], TimeSpan.FromSeconds(5)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(5);
        }
    }
}
