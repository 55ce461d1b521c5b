using System.Diagnostics;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Audit;

/// <summary>
/// Audit records for one Arrow-path session (PostgreSQL or MySQL front door). Exists only while audit
/// was on when the session logged in, so a session without it pays one null test per statement. The
/// session's attributes come from its <see cref="RouteRequest"/> (kept current by the session: USE,
/// SET application_name), the client address is formatted once.
/// </summary>
internal sealed class SessionAudit
{
    private readonly AuditLog _log;
    private readonly RouteRequest _route;
    private readonly string _clientAddress;

    private SessionAudit(AuditLog log, RouteRequest route, string clientAddress)
    {
        _log = log;
        _route = route;
        _clientAddress = clientAddress;
    }

    public AuditLog Log => _log;

    /// <summary>The client's address, formatted once per session.</summary>
    public string ClientAddress => _clientAddress;

    /// <summary>The session's audit, or null when the log is off (then nothing is formatted).</summary>
    public static SessionAudit? Start(AuditLog? log, RouteRequest route, ClientTransport transport) =>
        log is { Enabled: true } ? new SessionAudit(log, route, transport.RemoteEndPoint) : null;

    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>
    /// One statement: where it went (<paramref name="group"/>/<paramref name="cluster"/>, null when denied),
    /// the decision that sent it there, and how it ended.
    /// </summary>
    public void Write(string sql, in RouteDecision decision, string? group, string? cluster, long start, long rows, AuditOutcome outcome, string? sqlState)
    {
        string kind;
        ulong fingerprint;
        if (_route.IsAnalyzed && ReferenceEquals(_route.Sql, sql))
        {
            // Rules already analysed this text: reuse it.
            kind = AuditStatements.CategoryName(_route.Analysis.Kind);
            fingerprint = _route.Analysis.Fingerprint;
        }
        else
        {
            (kind, fingerprint) = AuditStatements.Describe(sql, _route.Syntax);
        }

        _log.TryWrite(AuditStatements.Record(
            _route, _clientAddress, group, cluster, decision, start, kind, fingerprint, rows,
            outcome == AuditOutcome.Ok ? null : sqlState, _log.IncludeSql ? sql : null, outcome));
    }
}
