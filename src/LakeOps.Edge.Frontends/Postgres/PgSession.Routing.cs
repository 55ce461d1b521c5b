using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Frontends.Postgres.Catalog;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// Routing rules in a PostgreSQL session. Without <c>routes:</c> the session routes once at login by
/// database name (the <see cref="_router"/> stays null and nothing here runs per statement). With rules,
/// a session whose decision cannot depend on the statement routes once at login (and may pass through
/// to a PostgreSQL cluster); every other session routes each engine statement and holds one engine
/// session per group it used. Transactions stay on the group of their BEGIN; prepared statements on
/// the group they were prepared on.
/// </summary>
internal sealed partial class PgSession
{
    private RouteRequest _route = null!;
    private SessionRouter? _router;
    private GroupEngine? _active;

    /// <summary>Set while the statements of one multi-statement Query are planned: they all go where the first went.</summary>
    private GroupEngine? _batchTarget;

    // The startup values of the attributes SET can change (RESET goes back to them).
    private string _startupApplication = "";
    private string? _startupTags;
    private string? _startupSearchPath;

    /// <summary>
    /// The request with the connection-level attributes from the startup packet. Without rules the
    /// session properties are not kept (nothing tests them; thousands of idle sessions would carry
    /// them). Returns the startup edge.tags value, if any.
    /// </summary>
    private string? BuildRouteRequest(StartupPacket packet, string applicationName, bool keepProperties)
    {
        Dictionary<string, string> properties = RouteRequest.NewProperties();
        foreach (KeyValuePair<string, string> parameter in packet.Parameters)
        {
            if (parameter.Key == "options")
            {
                foreach (KeyValuePair<string, string> setting in RouteAttributes.ParsePgOptions(parameter.Value))
                {
                    properties[setting.Key] = setting.Value;
                }
            }
            else
            {
                properties[parameter.Key] = parameter.Value;
            }
        }

        string? edgeTags = properties.GetValueOrDefault("edge.tags");
        _startupApplication = applicationName;
        _startupTags = edgeTags;
        _startupSearchPath = properties.GetValueOrDefault("search_path");
        _route = new RouteRequest
        {
            Protocol = "postgres",
            Listener = _listener.Name,
            User = _user,
            Roles = RouteAttributes.RolesOf(_config, _user),
            Database = _database,
            Schema = RouteAttributes.FirstSchema(_startupSearchPath),
            Application = applicationName,
            Tags = edgeTags is null ? [] : RouteAttributes.SplitTags(edgeTags),
            Session = keepProperties ? properties : RouteRequest.NoProperties,
            Syntax = SqlSyntax.Postgres,
        };
        return edgeTags;
    }

    /// <summary>
    /// The login decision when rules exist. Returns the group to route once to (statement-independent
    /// sessions), or null for per-statement routing (then <see cref="_router"/> is set). Fails the login
    /// (FATAL) only for a database that names no group when nothing else applies.
    /// </summary>
    private async ValueTask<(bool Ok, GroupConfig? Group)> RouteAtLoginAsync(RouteTable table)
    {
        if (!table.IsStatementDependent(_route))
        {
            _route.Sql = "";
            RouteDecision login = table.Decide(_route);
            _loginDecision = login;
            if (login.Group is not null)
            {
                return (true, login.Group);
            }

            if (login.IsFallback)
            {
                await TrySendFatalAsync(SqlStates.InvalidCatalogName, login.Reason).ConfigureAwait(false);
                return (false, null);
            }

            // Denied by a rule: the client still connects; each statement gets the rule's error.
        }

        _router = new SessionRouter(_configs, _route, _engines, _picker);
        return (true, null);
    }


    /// <summary>
    /// Routes one engine statement: the target engine session (opened on first use), or an
    /// <see cref="EngineException"/> 42501 naming the rule when denied.
    /// </summary>
    private async ValueTask<GroupEngine> RouteStatementAsync(string sql, StatementKind kind)
    {
        bool inTransaction = _transactionStatus != PgTransactionStatus.Idle && _active is not null;
        if (inTransaction && kind is StatementKind.Commit or StatementKind.Rollback or StatementKind.RollbackToSavepoint or StatementKind.Savepoint or StatementKind.Release)
        {
            // Ending the transaction is never denied nor sent elsewhere.
            return _active!;
        }

        RouteDecision decision = _router!.Decide(sql);
        _plannedDecision = decision;
        if (decision.IsDenied)
        {
            AuditDenied(sql, decision, decision.IsFallback ? SqlStates.InvalidCatalogName : SqlStates.InsufficientPrivilege);
            throw new EngineException(SessionRouter.DenyText(decision), decision.IsFallback ? SqlStates.InvalidCatalogName : SqlStates.InsufficientPrivilege);
        }

        if (_batchTarget is not null)
        {
            return _batchTarget;
        }

        if (inTransaction)
        {
            // Documented: a transaction stays on its group, whatever later statements route to.
            return _active!;
        }

        (GroupEngine engine, bool opened) = await _router.GetAsync(decision.Group!, new EngineSessionOptions(_user, _database, _parameters["application_name"]), CancellationToken.None).ConfigureAwait(false);
        if (opened && engine.Dialect == SqlDialect.DuckDb && _parameters.OutputZone is not null)
        {
            await ForwardTimeZoneAsync(engine.Session, CancellationToken.None).ConfigureAwait(false);
        }

        return engine;
    }

    /// <summary>Makes the statement's engine the session's current one (cancel and timeouts act on it).</summary>
    private void Activate(PgStatement statement)
    {
        if (statement.Target is not { } target || ReferenceEquals(target, _active))
        {
            return;
        }

        if (_active is not null && _transactionStatus != PgTransactionStatus.Idle)
        {
            throw new EngineException(
                $"prepared statement was prepared on group '{target.Group.Name}', but the open transaction runs on group '{_active.Group.Name}'; prepare it again inside the transaction",
                SqlStates.InvalidTransactionState);
        }

        _active = target;
        _engine = target.Session;
        _engineDialect = target.Dialect;
        _clusterName = target.Cluster;
        _groupStatementTimeout = target.Group.StatementTimeout;
    }

    /// <summary>Keeps the request in step with gateway parameters that rules can test.</summary>
    private void OnParameterChanged(string canonical)
    {
        if (canonical == "application_name")
        {
            _route.Application = _parameters["application_name"];
        }
        else if (canonical == "edge.tags")
        {
            _route.Tags = RouteAttributes.SplitTags(_parameters["edge.tags"]);
        }
    }

    private void OnParametersReset()
    {
        OnParameterChanged("application_name");
        OnParameterChanged("edge.tags");
    }

    /// <summary>
    /// search_path is the engine's parameter, not the gateway's: SET/RESET search_path and DISCARD ALL
    /// move the schema that routing qualifies bare table names with (first element; the startup value on reset).
    /// </summary>
    private void TrackSearchPath(StatementInfo info, string sql)
    {
        if (info.Kind == StatementKind.Set)
        {
            if (StatementClassifier.TryParseSet(sql, out string name, out string? value, out bool isLocal) && name == "search_path" && !isLocal)
            {
                _route.Schema = RouteAttributes.FirstSchema(value ?? _startupSearchPath);
            }
        }
        else if (info.CommandTag == "DISCARD ALL" || (info.Kind == StatementKind.Reset && TryParseReset(sql, out string reset) && reset is "search_path" or "all"))
        {
            _route.Schema = RouteAttributes.FirstSchema(_startupSearchPath);
        }
    }

    /// <summary>
    /// A passthrough session's application_name, edge.tags or search_path changed (a SET took effect): the
    /// decision is made again, at the transaction boundary where the passthrough calls this. The session
    /// follows a new PostgreSQL group; anything a passthrough cannot serve (a non-PostgreSQL group, a deny,
    /// per-statement routing) becomes an error for its statements until the settings route it back.
    /// </summary>
    private PassthroughRoute RerouteFromPassthrough(SessionSettings settings, string currentGroup)
    {
        _route.Application = settings.RoutedValue("application_name") ?? _startupApplication;
        _route.Tags = RouteAttributes.SplitTags(settings.RoutedValue("edge.tags") ?? _startupTags);
        _route.Schema = RouteAttributes.FirstSchema(settings.RoutedValue("search_path") ?? _startupSearchPath);
        RouteTable table = RouteTable.For(_configs.Current);
        if (table.IsStatementDependent(_route))
        {
            return PassthroughRoute.Fail(SqlStates.FeatureNotSupported,
                $"with these settings this session's route depends on each statement, which a session passed through to group '{currentGroup}' cannot follow; set them back, or reconnect with them in the startup packet (e.g. options=-c application_name=...)");
        }

        _route.Sql = "";
        RouteDecision decision = table.Decide(_route);
        if (decision.Group is not { } group)
        {
            return PassthroughRoute.Fail(decision.IsFallback ? SqlStates.InvalidCatalogName : SqlStates.InsufficientPrivilege, SessionRouter.DenyText(decision));
        }

        if (_passthrough?.Audit is { } audit)
        {
            audit.Decision = decision;
        }

        if (group.Name == currentGroup)
        {
            return default;
        }

        ClusterPick pick = _picker.Pick(group);
        if (!pick.Found)
        {
            return PassthroughRoute.Fail(SqlStates.ConnectionFailure, pick.Reason!);
        }

        string cluster = pick.Cluster!;
        if (pick.IsTrial)
        {
            // The passthrough's next borrow checks the cluster again and reports its outcome.
            pick.Health!.AbandonTrial();
        }

        if (_engines.Find(cluster) is PostgresEngine postgres)
        {
            Log.Info(EventId.StatementRouted, $"passthrough session of '{_user}' moves to group '{group.Name}' (cluster '{cluster}'): {decision.Reason}");
            return new PassthroughRoute(postgres, group, null);
        }

        return PassthroughRoute.Fail(SqlStates.FeatureNotSupported,
            $"with these settings this session routes to group '{group.Name}' ({decision.Reason}), whose cluster '{cluster}' is not PostgreSQL; a session passed through to group '{currentGroup}' cannot switch engines: set them back, or reconnect with them in the startup packet");
    }

    /// <summary>EXPLAIN ROUTE in a passthrough session: the SELECT the server runs in its place (null for other text).</summary>
    private string? ExplainRouteAsSelect(string sql) =>
        RouteAttributes.TryParseExplainRoute(sql, out string statement)
            ? ExplainRouteResult.AsSelect(ExplainRouteResult.For(null, _route, _config, statement))
            : null;

    /// <summary>EXPLAIN ROUTE: the decision for the statement, as one row, without running it.</summary>
    private PgStatement ExplainRoute(string sql, string statement, StatementInfo info)
    {
        RecordBatch batch = ExplainRouteResult.For(_router, _route, _config, statement);
        var emulated = new EmulatedResult(batch.Schema, batch, "EXPLAIN");
        return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.Emulated, Emulated = emulated, ResultSchema = batch.Schema };
    }
}
