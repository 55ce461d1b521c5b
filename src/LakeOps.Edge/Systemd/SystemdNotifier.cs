using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Systemd;

/// <summary>
/// sd_notify(3) without libsystemd: each state change is one datagram of NEWLINE-separated
/// KEY=VALUE pairs sent to the unix socket named by $NOTIFY_SOCKET (a path, or an abstract socket
/// when it starts with '@'). Without $NOTIFY_SOCKET (not started by systemd) there is no notifier.
/// A failed send is logged and otherwise ignored: systemd's view is never worth stopping the gateway.
/// </summary>
internal sealed partial class SystemdNotifier : IDisposable
{
    private const int ClockMonotonic = 1;

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endpoint;
    private int _failuresLogged;

    private SystemdNotifier(string address)
    {
        Address = address;

        // '@' stands for the leading NUL of a Linux abstract socket name (no file, no permissions).
        _endpoint = new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>The $NOTIFY_SOCKET value this notifier sends to.</summary>
    public string Address { get; }

    /// <summary>The notifier for $NOTIFY_SOCKET, or null when systemd did not ask for notifications.</summary>
    public static SystemdNotifier? FromEnvironment() => Create(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>A notifier for a $NOTIFY_SOCKET value; null when it is unset or not a socket address systemd would use.</summary>
    public static SystemdNotifier? Create(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket) || notifySocket.Length < 2 || notifySocket[0] is not ('/' or '@'))
        {
            return null;
        }

        return new SystemdNotifier(notifySocket);
    }

    /// <summary>The listeners are bound and the gateway serves (Type=notify: the unit becomes active).</summary>
    public bool Ready() => Send("READY=1");

    /// <summary>A reload starts; systemd waits for the next READY=1 before `systemctl reload` returns.</summary>
    public bool Reloading() => Send(ReloadingMessage(MonotonicMicroseconds()));

    /// <summary>The drain started.</summary>
    public bool Stopping() => Send("STOPPING=1");

    /// <summary>The health loop found the process making progress.</summary>
    public bool Watchdog() => Send("WATCHDOG=1");

    /// <summary>
    /// RELOADING=1 with the CLOCK_MONOTONIC time the reload started (systemd 253+ uses it to tell this
    /// reload's READY=1 from an older one; Type=notify-reload requires it, Type=notify accepts it).
    /// </summary>
    public static string ReloadingMessage(long monotonicMicroseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"RELOADING=1\nMONOTONIC_USEC={monotonicMicroseconds}");

    /// <summary>Sends one datagram; false (and a warning, logged a few times at most) when it could not be sent.</summary>
    public bool Send(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endpoint);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            if (Interlocked.Increment(ref _failuresLogged) <= 3)
            {
                Log.Warn(EventId.SystemdNotifyFailed, $"systemd notify to {Address} failed ({FirstLine(state)}): {ex.Message}");
            }

            return false;
        }
    }

    /// <summary>
    /// How often to send WATCHDOG=1: half of $WATCHDOG_USEC (systemd's advice), only when the watchdog is
    /// meant for this process ($WATCHDOG_PID unset or ours); null when there is no watchdog.
    /// </summary>
    public static TimeSpan? WatchdogInterval(string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(watchdogPid)
            && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != processId))
        {
            return null;
        }

        // TimeSpan ticks are 100 ns: usec * 10 / 2.
        return TimeSpan.FromTicks((long)Math.Min(usec, long.MaxValue / 10UL) * 5);
    }

    /// <summary>The watchdog interval systemd asked this process for (see <see cref="WatchdogInterval(string?, string?, int)"/>).</summary>
    public static TimeSpan? WatchdogIntervalFromEnvironment() =>
        WatchdogInterval(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);

    /// <summary>CLOCK_MONOTONIC in microseconds, the clock systemd compares MONOTONIC_USEC with.</summary>
    public static long MonotonicMicroseconds()
    {
        if (clock_gettime(ClockMonotonic, out Timespec now) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_MONOTONIC) failed");
        }

        return (now.Seconds * 1_000_000) + (now.Nanoseconds / 1_000);
    }

    public void Dispose() => _socket.Dispose();

    private static string FirstLine(string state)
    {
        int newline = state.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? state : state[..newline];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clockId, out Timespec time);
}
