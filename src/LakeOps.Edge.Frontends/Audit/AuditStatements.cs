using System.Buffers;
using System.Diagnostics;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Audit;

/// <summary>What the audit record says about a statement's text: its kind, fingerprint and outcome names.</summary>
internal static class AuditStatements
{
    /// <summary>Statements longer than this (in UTF-8 bytes) are described by their first part only.</summary>
    private const int MaxDescribedBytes = 1024 * 1024;

    public static string CategoryName(StatementCategory category) => category switch
    {
        StatementCategory.Select => "select",
        StatementCategory.Insert => "insert",
        StatementCategory.Update => "update",
        StatementCategory.Delete => "delete",
        StatementCategory.Merge => "merge",
        StatementCategory.Ddl => "ddl",
        _ => "utility",
    };

    /// <summary>The routing vocabulary's kind (select, insert, ..., ddl, utility) for a classified statement.</summary>
    public static string KindName(StatementKind kind) => kind switch
    {
        StatementKind.Select or StatementKind.Values or StatementKind.With or StatementKind.Fetch => "select",
        StatementKind.Insert => "insert",
        StatementKind.Update => "update",
        StatementKind.Delete => "delete",
        StatementKind.Merge => "merge",
        StatementKind.Create or StatementKind.Drop or StatementKind.Alter or StatementKind.Truncate or StatementKind.CreateTableAs
            or StatementKind.Grant or StatementKind.Revoke => "ddl",
        _ => "utility",
    };

    /// <summary>Kind and fingerprint of one statement's text, without allocating.</summary>
    public static (string Kind, ulong Fingerprint) Describe(ReadOnlySpan<char> sql, SqlSyntax syntax) =>
        (KindName(StatementClassifier.Classify(sql).Kind), SqlFingerprint.Compute(sql, syntax));

    /// <summary>
    /// Kind, fingerprint and (when <paramref name="keepText"/>) the text of a UTF-8 statement from the wire.
    /// Decodes into a pooled buffer: only the kept text allocates.
    /// </summary>
    public static (string Kind, ulong Fingerprint, string? Text) Describe(ReadOnlySpan<byte> utf8, SqlSyntax syntax, bool keepText)
    {
        if (utf8.Length > MaxDescribedBytes)
        {
            utf8 = utf8[..MaxDescribedBytes];
        }

        char[] chars = ArrayPool<char>.Shared.Rent(Math.Max(utf8.Length, 16));
        try
        {
            int length = Encoding.UTF8.GetChars(utf8, chars);
            ReadOnlySpan<char> sql = chars.AsSpan(0, length);
            (string kind, ulong fingerprint) = Describe(sql, syntax);
            return (kind, fingerprint, keepText ? new string(sql) : null);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// The record of one finished statement of a session: who (from the route request) and where, then what
    /// happened. A failure (non-null <paramref name="sqlState"/>) reports no rows.
    /// </summary>
    public static AuditRecord Record(
        RouteRequest route, string clientAddress, string? group, string? cluster, in RouteDecision decision,
        long start, string kind, ulong fingerprint, long rows, string? sqlState, string? sql, AuditOutcome? outcome = null) => new()
    {
        QueryId = AuditLog.NextQueryId(),
        StartTimestamp = start,
        EndTimestamp = Stopwatch.GetTimestamp(),
        Protocol = route.Protocol,
        Listener = route.Listener,
        User = route.User,
        Database = route.Database,
        Application = route.Application,
        ClientAddress = clientAddress,
        Group = group,
        Cluster = cluster,
        Rule = decision.RuleName,
        Reason = decision.Reason,
        Fingerprint = fingerprint,
        StatementKind = kind,
        Rows = sqlState is null ? rows : -1,
        Outcome = outcome ?? (sqlState is null ? AuditOutcome.Ok : FailureOf(sqlState)),
        SqlState = sqlState,
        Sql = sql,
    };

    /// <summary>Cancelled (client cancel, statement timeout, KILL QUERY) or a plain error, by SQLSTATE.</summary>
    public static AuditOutcome FailureOf(string? sqlState) =>
        sqlState is SqlStates.QueryCanceled or "70100" ? AuditOutcome.Cancelled : AuditOutcome.Error;
}
