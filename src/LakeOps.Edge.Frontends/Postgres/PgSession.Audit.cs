using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// The audit record of each engine statement (Arrow path) and of each passthrough request. Statements the
/// gateway answers itself (its own SET/SHOW, catalog emulation, EXPLAIN ROUTE) reach no engine and are not
/// recorded. Without audit <see cref="_audit"/> stays null and each statement pays one null test.
/// </summary>
internal sealed partial class PgSession
{
    private SessionAudit? _audit;

    /// <summary>The decision that placed the session at login (database name, or the rules when statement-independent).</summary>
    private RouteDecision _loginDecision;

    /// <summary>The decision of the statement being planned (per-statement routing).</summary>
    private RouteDecision _plannedDecision;

    /// <summary>The audit log (from the listener); records are written only while it is enabled.</summary>
    public AuditLog? AuditLog { get; init; }

    private void StartAudit() => _audit = SessionAudit.Start(AuditLog, _route, _transport);

    /// <summary>The passthrough's audit (null when audit is off): one record per client request, rule from the login decision.</summary>
    private PassthroughAudit? PassthroughAudit(PgPassthroughSession passthrough) =>
        _audit is { } audit ? new PassthroughAudit(audit.Log, _route, audit.ClientAddress, _loginDecision, passthrough) : null;

    /// <summary>The decision recorded for a statement being planned now.</summary>
    private RouteDecision PlannedDecision() => _router is null ? _loginDecision : _plannedDecision;

    /// <summary>A rule denied the statement (it never reaches an engine).</summary>
    private void AuditDenied(string sql, in RouteDecision decision, string sqlState)
    {
        if (_audit is { } audit)
        {
            long now = SessionAudit.Now();
            audit.Write(sql, decision, null, null, now, -1, AuditOutcome.Denied, sqlState);
        }
    }

    /// <summary>An engine statement finished with <paramref name="tag"/> (rows from the tag's count).</summary>
    private void AuditCompleted(PgStatement statement, long start, string tag) =>
        AuditEngineStatement(statement, start, RowsOf(tag), AuditOutcome.Ok, null);

    private void AuditFailed(PgStatement statement, long start, string sqlState) =>
        AuditEngineStatement(statement, start, -1, AuditStatements.FailureOf(sqlState), sqlState);

    private void AuditEngineStatement(PgStatement statement, long start, long rows, AuditOutcome outcome, string? sqlState)
    {
        if (_audit is not { } audit || statement.Kind != PgStatementKind.Engine)
        {
            return;
        }

        // A spilled statement is recorded where it ran: the spill group's cluster.
        string group = _spilledTo?.Group.Name ?? (statement.Target ?? _active)?.Group.Name ?? _loginDecision.Group?.Name ?? "";
        audit.Write(statement.Sql, statement.Decision, group, _spilledTo?.Cluster ?? _clusterName, start, rows, outcome, sqlState);
    }

    /// <summary>Extended protocol Execute, recorded when its portal completes (or fails).</summary>
    private ValueTask ExecuteAsync(ExecuteMessage execute, CancellationToken stopping) =>
        _audit is null ? ExecutePortalAsync(execute, stopping) : ExecuteAuditedAsync(execute, stopping);

    private async ValueTask ExecuteAuditedAsync(ExecuteMessage execute, CancellationToken stopping)
    {
        PgPortal? portal = Portals.GetValueOrDefault(execute.PortalName);
        long start = SessionAudit.Now();
        try
        {
            await ExecutePortalAsync(execute, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (portal is not null && RecordFailure(portal.Statement, start, ex))
        {
            // Never taken: the filter records and lets the exception go on to the message loop.
        }

        if (portal is null)
        {
            return;
        }

        if (portal.Cursor is { } cursor)
        {
            if (cursor.Exhausted)
            {
                AuditEngineStatement(portal.Statement, start, cursor.RowsSent, AuditOutcome.Ok, null);
            }
        }
        else if (portal.CompletedTag is { Length: > 0 } tag)
        {
            AuditCompleted(portal.Statement, start, tag);
        }
    }

    private bool RecordFailure(PgStatement statement, long start, Exception exception)
    {
        if (IsStatementError(exception) || exception is PgProtocolException)
        {
            AuditFailed(statement, start, SqlStateOf(exception));
        }

        return false;
    }

    private static string SqlStateOf(Exception exception) => exception switch
    {
        EngineException engine => engine.SqlState,
        PgParameterException parameter => parameter.SqlState,
        PgEncodingException encoding => encoding.SqlState,
        PgProtocolException protocol => protocol.SqlState,
        ArgumentException => SqlStates.ProtocolViolation,
        _ => SqlStates.InternalError,
    };

    /// <summary>The count at the end of a CommandComplete tag ("SELECT 5", "INSERT 0 3"); -1 for tags without one.</summary>
    internal static long RowsOf(string tag)
    {
        int space = tag.LastIndexOf(' ');
        return space >= 0 && long.TryParse(tag.AsSpan(space + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long rows)
            ? rows
            : -1;
    }
}
