using System.Globalization;

namespace LakeOps.Edge.Core.Diagnostics;

public enum LogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// A deliberately small logger: one line per event on stderr (systemd's journal adds its own
/// timestamp and unit), with a stable event id so operators can grep and alert on ids.
/// Never log credentials or query parameters.
/// </summary>
public static class Log
{
    private static readonly Lock Gate = new();

    public static LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    /// <summary>Where lines go; tests and tools may redirect.</summary>
    public static TextWriter Output { get; set; } = Console.Error;

    public static bool IsEnabled(LogLevel level) => level >= MinimumLevel;

    public static void Write(LogLevel level, EventId id, string message)
    {
        if (!IsEnabled(level))
        {
            return;
        }

        string line = Format(level, id, message, DateTime.UtcNow, JournalFormat);
        lock (Gate)
        {
            Output.WriteLine(line);
        }
    }

    /// <summary>
    /// True when stderr is systemd's journal: lines then start with a syslog priority ("&lt;6&gt;" info,
    /// "&lt;4&gt;" warn, "&lt;3&gt;" error, "&lt;7&gt;" debug) that journald turns into the entry's PRIORITY
    /// (journalctl -p warning works), and carry no timestamp (the journal stamps every entry).
    /// </summary>
    public static bool JournalFormat { get; set; } = StderrIsJournal();

    /// <summary>One log line (without the newline).</summary>
    public static string Format(LogLevel level, EventId id, string message, DateTime utcNow, bool journal) => journal
        ? string.Create(CultureInfo.InvariantCulture, $"<{SyslogPriority(level)}>{LevelName(level)} [{(int)id} {id}] {message}")
        : string.Create(CultureInfo.InvariantCulture, $"{utcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {LevelName(level)} [{(int)id} {id}] {message}");

    /// <summary>
    /// systemd sets $JOURNAL_STREAM to "DEVICE:INODE" of the stream socket it connected stdout/stderr to.
    /// It is inherited by children whose stderr may point elsewhere, so the inode must match what fd 2
    /// is now (/proc/self/fd/2 reads "socket:[INODE]").
    /// </summary>
    public static bool IsJournalStream(string? journalStream, string? stderrTarget)
    {
        if (string.IsNullOrEmpty(journalStream) || string.IsNullOrEmpty(stderrTarget))
        {
            return false;
        }

        int colon = journalStream.IndexOf(':', StringComparison.Ordinal);
        int open = stderrTarget.IndexOf(":[", StringComparison.Ordinal);
        if (colon <= 0 || open <= 0 || !stderrTarget.EndsWith(']'))
        {
            return false;
        }

        ReadOnlySpan<char> inode = journalStream.AsSpan(colon + 1);
        return inode.Length > 0 && inode.SequenceEqual(stderrTarget.AsSpan(open + 2, stderrTarget.Length - open - 3));
    }

    private static bool StderrIsJournal()
    {
        string? journalStream = Environment.GetEnvironmentVariable("JOURNAL_STREAM");
        if (string.IsNullOrEmpty(journalStream))
        {
            return false;
        }

        try
        {
            return IsJournalStream(journalStream, new FileInfo("/proc/self/fd/2").LinkTarget);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int SyslogPriority(LogLevel level) => level switch
    {
        LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        _ => 3,
    };

    public static void Info(EventId id, string message) => Write(LogLevel.Information, id, message);

    public static void Warn(EventId id, string message) => Write(LogLevel.Warning, id, message);

    public static void Error(EventId id, string message) => Write(LogLevel.Error, id, message);

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "fail",
    };
}

/// <summary>Central event ids; keep numbers stable once released.</summary>
public enum EventId
{
    Starting = 1000,
    Listening = 1001,
    Stopping = 1002,
    Stopped = 1003,
    ShutdownForced = 1004,
    ConfigInvalid = 1010,
    ConfigReloaded = 1011,
    ConfigReloadFailed = 1012,
    EngineStarted = 1020,
    EngineFailed = 1021,
    MemoryTrimmed = 1030,

    // 1100-1199: systemd integration (sd_notify, watchdog).
    SystemdNotifyFailed = 1100,
    WatchdogProbeFailed = 1101,

    // 1200-1299: what a reload changed live (listeners, clusters, log level).
    ListenerChanged = 1200,
    ClusterChanged = 1201,
    ClusterDrained = 1202,
    LogLevelChanged = 1203,
    SessionProtocolError = 2000,
    SessionAuthFailed = 2001,
    SessionRejected = 2002,
    SessionFailed = 2003,
    SessionTimeout = 2004,
    CancelRequested = 2010,
    TlsFailed = 2020,

    // 2100-2199: MySQL front door sessions; 2200-2299: same-protocol passthrough; 2300-2399: routing in sessions.
    StatementRouted = 2300,

    // 3000-3099: server connection pools and network engines.
    PoolConnectFailed = 3000,
    PoolConnectionDropped = 3001,
    PoolWarmUpFailed = 3002,

    // 3100-3199: the socket event loops.
    EventLoopFailed = 3100,

    // 3200-3299: cluster health (circuit breakers, active probes, operator state).
    ClusterBreakerOpened = 3200,
    ClusterBreakerHalfOpen = 3201,
    ClusterBreakerClosed = 3202,
    ClusterDegraded = 3203,
    ClusterRecovered = 3204,
    ClusterAdminStateChanged = 3205,
    ClusterProbeFailed = 3206,
    HealthMonitorFailed = 3207,

    // 3300-3399: admission (group and cluster limits).
    AdmissionRefused = 3300,

    // 4000-4099: telemetry (audit log).
    AuditFailed = 4000,
    AuditDropped = 4001,
}
