using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests.Systemd;

/// <summary>
/// The AOT binary started the way systemd starts a Type=notify unit with WatchdogSec: $NOTIFY_SOCKET
/// names a datagram socket this test binds, $WATCHDOG_USEC asks for pings.
/// </summary>
public sealed class SystemdServiceTests
{
    [Fact]
    public async Task Notifies_ready_reloading_watchdog_and_stopping_over_the_lifecycle()
    {
        using var notify = NotifySocket.Abstract();
        EdgeProcess edge = await EdgeProcess.StartAsync(Configs.Trust, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["WATCHDOG_USEC"] = "300000",
        });
        await using (edge)
        {
            // READY=1 arrives, and by then the port accepts connections.
            int ready = await notify.WaitForAsync(m => m == "READY=1");
            Assert.Equal(0, ready);
            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, edge.Port));
            }

            // Pings at half of WATCHDOG_USEC (150 ms): wait for three of them.
            int thirdPing = await notify.WaitForAsync(m => m == "WATCHDOG=1", from: ready + 3);
            Assert.All(notify.Messages.Skip(1).Take(thirdPing), m => Assert.Equal("WATCHDOG=1", m));

            // SIGHUP: RELOADING=1 with the monotonic time the reload started, then READY=1 again.
            long before = MonotonicMicroseconds();
            int seen = notify.Messages.Count;
            await edge.ReloadAsync(Configs.Trust);
            int reloading = await notify.WaitForAsync(m => m.StartsWith("RELOADING=1\n", StringComparison.Ordinal), from: seen);
            long after = MonotonicMicroseconds();
            string[] lines = notify.Messages[reloading].Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("MONOTONIC_USEC=", lines[1], StringComparison.Ordinal);
            Assert.InRange(long.Parse(lines[1]["MONOTONIC_USEC=".Length..], CultureInfo.InvariantCulture), before, after);
            await notify.WaitForAsync(m => m == "READY=1", from: reloading + 1);

            // A reload of a broken file still ends with READY=1 (the old config keeps serving).
            seen = notify.Messages.Count;
            await File.WriteAllTextAsync(Path.Combine(edge.Directory, "edge.yaml"), "listeners: [oops");
            edge.SendSignal(1);
            int failed = await notify.WaitForAsync(m => m.StartsWith("RELOADING=1\n", StringComparison.Ordinal), from: seen);
            await notify.WaitForAsync(m => m == "READY=1", from: failed + 1);

            // SIGTERM: STOPPING=1 and a clean exit.
            edge.SendSignal(15);
            await notify.WaitForAsync(m => m == "STOPPING=1");
            Assert.Equal(0, await edge.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.DoesNotContain("systemd notify", edge.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task No_watchdog_pings_when_WATCHDOG_PID_names_another_process()
    {
        using var notify = NotifySocket.AtPath();
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.Trust, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Address,
            ["WATCHDOG_USEC"] = "100000",
            ["WATCHDOG_PID"] = "1",
        });

        await notify.WaitForAsync(m => m == "READY=1");

        // A watchdog would ping at once and then every 50 ms: three reload round trips leave it ample time.
        for (int i = 0; i < 3; i++)
        {
            int seen = notify.Messages.Count;
            await edge.ReloadAsync(Configs.Trust);
            await notify.WaitForAsync(m => m == "READY=1", from: seen);
        }

        Assert.DoesNotContain("WATCHDOG=1", notify.Messages);
        Assert.Equal(4, notify.Messages.Count(m => m == "READY=1"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Log_lines_carry_a_syslog_priority_only_when_stderr_is_the_journal_stream(bool journal)
    {
        // A port that is taken makes Edge log its start (info) and the failure (error), then exit.
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        string directory = Path.Combine(Path.GetTempPath(), "edge-journal-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            string config = Path.Combine(directory, "edge.yaml");
            await File.WriteAllTextAsync(config, Configs.Trust.Replace("{PORT}", ((IPEndPoint)taken.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

            // systemd sets JOURNAL_STREAM to the device:inode of the socket behind stdout/stderr; here the stream is a pipe.
            string stream = journal ? "$(stat -L -c %d:%i /proc/self/fd/2)" : "0:1";
            Tools.Result result = await Tools.RunAsync("bash", ["-c", $"JOURNAL_STREAM={stream} exec \"$0\" run --config \"$1\"", EdgeProcess.BinaryPath, config]);

            Assert.Equal(1, result.ExitCode);
            string[] lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string started = Assert.Single(lines, l => l.Contains("[1000 Starting]", StringComparison.Ordinal) && l.Contains("starting with", StringComparison.Ordinal));
            string failed = Assert.Single(lines, l => l.Contains("cannot start listener", StringComparison.Ordinal));
            if (journal)
            {
                Assert.StartsWith("<6>info [1000 Starting] ", started, StringComparison.Ordinal);
                Assert.StartsWith("<3>fail [1002 Stopping] ", failed, StringComparison.Ordinal);
            }
            else
            {
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info \[1000 Starting\] ", started);
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z fail \[1002 Stopping\] ", failed);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static long MonotonicMicroseconds() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
}
