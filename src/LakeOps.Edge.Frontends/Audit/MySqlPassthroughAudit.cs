using System.Diagnostics;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Audit;

/// <summary>
/// Audit records of one MySQL passthrough session: one per COM_QUERY or COM_STMT_EXECUTE, from the command
/// to its final OK/ERR. The session was routed once at login, so rule and group are fixed; the cluster changes
/// when the session moves to another member (<see cref="Cluster"/>).
/// Exists only when audit was on at login. Not thread-safe (the passthrough serves one command at a time).
/// </summary>
internal sealed class MySqlPassthroughAudit(AuditLog log, RouteRequest route, string clientAddress, RouteDecision decision, string? group, string? cluster)
{
    /// <summary>The cluster the session's commands run on now.</summary>
    public string? Cluster { get; set; } = cluster;

    public bool IncludeSql => log.IncludeSql;

    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>Kind, fingerprint and (with include_sql) text of a statement from the wire.</summary>
    public (string Kind, ulong Fingerprint, string? Text) Describe(ReadOnlySpan<byte> sql) =>
        AuditStatements.Describe(sql, SqlSyntax.MySql, log.IncludeSql);

    /// <summary>Kind and fingerprint of a prepared statement's text (computed once per statement by the caller).</summary>
    public static (string Kind, ulong Fingerprint) Describe(string sql) => AuditStatements.Describe(sql, SqlSyntax.MySql);

    /// <summary>One finished command; <paramref name="sqlState"/> non-null means it ended with an ERR.</summary>
    public void Write(string kind, ulong fingerprint, string? sql, long start, long rows, string? sqlState)
    {
        log.TryWrite(AuditStatements.Record(route, clientAddress, group, Cluster, decision, start, kind, fingerprint, rows, sqlState, log.IncludeSql ? sql : null));
    }
}
