using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// The audit record of each engine statement (Arrow path: COM_QUERY statements and COM_STMT_EXECUTE) and,
/// through <see cref="MySqlPassthroughAudit"/>, of each passthrough COM_QUERY / COM_STMT_EXECUTE. Statements
/// the gateway answers itself are not recorded. Without audit <see cref="_audit"/> stays null.
/// </summary>
internal sealed partial class MySqlSession
{
    /// <summary>The SQLSTATE of every routing denial (ER_SPECIFIC_ACCESS_DENIED_ERROR and ER_BAD_DB_ERROR both use it).</summary>
    private const string DeniedSqlState = "42000";

    private SessionAudit? _audit;
    private RouteDecision _loginDecision;
    private RouteDecision _plannedDecision;

    // What the last response said: rows sent or affected, and the SQLSTATE of an ERR.
    private long _auditRows;
    private string? _auditSqlState;

    /// <summary>The audit log (from the listener); records are written only while it is enabled.</summary>
    public AuditLog? AuditLog { get; init; }

    private void StartAudit() => _audit = SessionAudit.Start(AuditLog, _route, _transport);

    /// <summary>The decision recorded for a statement routed (or not) just now.</summary>
    private RouteDecision PlannedDecision() => _router is null ? _loginDecision : _plannedDecision;

    /// <summary>Login without a database: the default group.</summary>
    private void NoteDefaultGroupLogin(GroupConfig group)
    {
        if (_audit is not null)
        {
            _loginDecision = new RouteDecision(group, $"no database given; routing.default_group '{group.Name}'");
        }
    }

    private void AuditDenied(string sql, in RouteDecision decision)
    {
        if (_audit is { } audit)
        {
            long now = SessionAudit.Now();
            audit.Write(sql, decision, null, null, now, -1, AuditOutcome.Denied, DeniedSqlState);
        }
    }

    /// <summary>Clears what the previous response left, before an engine statement runs.</summary>
    private long BeginAudit()
    {
        _auditRows = -1;
        _auditSqlState = null;
        return SessionAudit.Now();
    }

    /// <summary>An engine statement's response was written: ok (rows from it) or the ERR it ended with.</summary>
    /// <summary>One engine statement's record; <paramref name="spilled"/> is where it ran when its group was full.</summary>
    private void AuditEngineStatement(string sql, in RouteDecision decision, long start, bool succeeded, GroupEngine? spilled = null)
    {
        if (_audit is not { } audit)
        {
            return;
        }

        AuditOutcome outcome = succeeded ? AuditOutcome.Ok : AuditStatements.FailureOf(_auditSqlState);
        audit.Write(sql, decision, spilled?.Group.Name ?? _group?.Name, spilled?.Cluster ?? _clusterName, start, succeeded ? _auditRows : -1, outcome, _auditSqlState);
    }

    /// <summary>The passthrough's audit (null when audit is off): one record per COM_QUERY / COM_STMT_EXECUTE.</summary>
    private MySqlPassthroughAudit? PassthroughAudit() =>
        _audit is null || AuditLog is null
            ? null
            : new MySqlPassthroughAudit(AuditLog, _route, _audit.ClientAddress, _loginDecision, _group?.Name, _clusterName);
}
