using System.Diagnostics;

namespace LakeOps.Edge.Telemetry.Audit;

/// <summary>How a statement ended, as the audit log spells it.</summary>
public enum AuditOutcome : byte
{
    Ok,
    Error,

    /// <summary>A routing rule refused it; it never reached an engine.</summary>
    Denied,

    /// <summary>Cancelled by the client, a statement timeout or KILL QUERY.</summary>
    Cancelled,
}

/// <summary>
/// One routed statement (or passthrough request): who sent it, where it went and why, and how it ended.
/// A plain struct of references and numbers that sessions fill on their hot path without allocating;
/// times are <see cref="Stopwatch"/> timestamps (the writer turns them into UTC and microseconds).
/// Holds no password, and the statement text only when <c>audit.include_sql</c> is on.
/// </summary>
public readonly struct AuditRecord
{
    /// <summary>Process-unique and increasing, taken when the statement completes (see <see cref="AuditLog.NextQueryId"/>).</summary>
    public long QueryId { get; init; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the request arrived.</summary>
    public long StartTimestamp { get; init; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when its last response was sent.</summary>
    public long EndTimestamp { get; init; }

    /// <summary>Front door: "postgres" or "mysql".</summary>
    public string? Protocol { get; init; }

    public string? Listener { get; init; }

    public string? User { get; init; }

    public string? Database { get; init; }

    /// <summary>PG application_name, MySQL program_name.</summary>
    public string? Application { get; init; }

    /// <summary>The client's address and port.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The group that ran it; null when denied.</summary>
    public string? Group { get; init; }

    /// <summary>The cluster that ran it; null when denied.</summary>
    public string? Cluster { get; init; }

    /// <summary>The routing rule that decided, or "fallback".</summary>
    public string? Rule { get; init; }

    /// <summary>Why (RouteDecision.Reason).</summary>
    public string? Reason { get; init; }

    public ulong Fingerprint { get; init; }

    /// <summary>select, insert, update, delete, merge, ddl or utility.</summary>
    public string? StatementKind { get; init; }

    /// <summary>Rows returned or affected; -1 when unknown.</summary>
    public long Rows { get; init; }

    public AuditOutcome Outcome { get; init; }

    /// <summary>The SQLSTATE sent to the client when the outcome is not ok.</summary>
    public string? SqlState { get; init; }

    /// <summary>The statement text; written only with <c>audit.include_sql</c> (cut to max_sql_length).</summary>
    public string? Sql { get; init; }

    public DateTime StartTimeUtc => AuditClock.ToUtc(StartTimestamp);

    public long DurationMicroseconds => AuditClock.Microseconds(StartTimestamp, EndTimestamp);

    /// <summary>The audit spelling of an outcome.</summary>
    public static string OutcomeName(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Ok => "ok",
        AuditOutcome.Error => "error",
        AuditOutcome.Denied => "denied",
        _ => "cancelled",
    };
}

/// <summary>
/// Turns Stopwatch timestamps into UTC without reading the wall clock per record: one (UTC, timestamp)
/// pair, re-taken now and then by the audit writer so the two clocks cannot drift apart for long.
/// </summary>
public static class AuditClock
{
    private static Anchor s_anchor = new(DateTime.UtcNow, Stopwatch.GetTimestamp());

    public static DateTime ToUtc(long timestamp)
    {
        Anchor anchor = Volatile.Read(ref s_anchor);
        return anchor.Utc + Stopwatch.GetElapsedTime(anchor.Timestamp, timestamp);
    }

    public static long Microseconds(long start, long end) =>
        end <= start ? 0 : (long)((end - start) * (1_000_000.0 / Stopwatch.Frequency));

    /// <summary>Takes a fresh anchor (the writer thread calls this about once a minute).</summary>
    public static void Recalibrate() => Volatile.Write(ref s_anchor, new Anchor(DateTime.UtcNow, Stopwatch.GetTimestamp()));

    private sealed record Anchor(DateTime Utc, long Timestamp);
}
