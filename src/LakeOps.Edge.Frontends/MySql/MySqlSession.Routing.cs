using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Postgres;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Routing rules in a MySQL session (see PgSession.Routing.cs for the PostgreSQL twin). Without
/// <c>routes:</c> nothing here runs per statement. With rules, a session whose decision cannot depend
/// on the statement routes once at login and may pass through to a MySQL-wire cluster;
/// otherwise each engine statement is routed and the session holds one engine session per group.
/// </summary>
internal sealed partial class MySqlSession
{
    /// <summary>ER_SPECIFIC_ACCESS_DENIED_ERROR: the closest MySQL error for "this statement is not allowed".</summary>
    private const ushort RouteDeniedCode = 1227;

    private RouteRequest _route = null!;
    private SessionRouter? _router;
    private GroupEngine? _active;

    /// <summary>Set at login when rules exist: switch to per-statement routing unless the passthrough takes the session.</summary>
    private RouteTable? _routeAfterLogin;

    /// <summary>The request with the connection-level attributes; without rules the connection attributes are not kept.</summary>
    private void BuildRouteRequest(MySqlHandshakeResponse response, string? database, bool keepProperties)
    {
        IReadOnlyDictionary<string, string> properties = RouteRequest.NoProperties;
        if (keepProperties)
        {
            Dictionary<string, string> attributes = RouteRequest.NewProperties();
            foreach (KeyValuePair<string, string> attribute in response.ConnectAttributes)
            {
                attributes[attribute.Key] = attribute.Value;
            }

            properties = attributes;
        }

        _route = new RouteRequest
        {
            Protocol = "mysql",
            Listener = _listener.Name,
            User = _user,
            Roles = RouteAttributes.RolesOf(_config, _user),
            Database = database ?? "",
            Schema = database ?? "",
            Application = _applicationName,
            Session = properties,
            Syntax = SqlSyntax.MySql,
        };
    }

    /// <summary>
    /// The login decision when rules exist: the group to open now (statement-independent sessions,
    /// which may then pass through), or null for per-statement routing. An ERR only for an unknown
    /// database that nothing else routes.
    /// </summary>
    private (MySqlError? Error, GroupConfig? Group) RouteAtLogin(RouteTable table)
    {
        // The login database counts as fixed: a passthrough connection follows USE on the server without
        // re-routing, as it does without rules.
        if (!table.IsStatementDependent(_route))
        {
            _route.Sql = "";
            RouteDecision login = table.Decide(_route);
            _loginDecision = login;
            if (login.Group is not null)
            {
                _routeAfterLogin = table;
                return (null, login.Group);
            }

            if (login.IsFallback)
            {
                return (MySqlError.Of(MySqlErrorCode.UnknownDatabase, $"Unknown database '{_route.Database}': {login.Reason}"), null);
            }
        }

        _router = new SessionRouter(_configs, _route, _engines, _picker);
        return (null, null);
    }

    /// <summary>After login, when the passthrough did not take the session: route per statement, keeping the open engine session.</summary>
    private void StartRoutingAfterLogin()
    {
        if (_routeAfterLogin is not { } table)
        {
            return;
        }

        _router = new SessionRouter(_configs, _route, _engines, _picker);
        if (_engine is not null && _engineInstance is not null && _group is not null)
        {
            _active = _router.Adopt(_group, _clusterName, _engineInstance, _engine);
        }
    }

    /// <summary>
    /// Routes one engine statement and makes its group's engine session current. An ERR 1227 naming the
    /// rule when denied. Inside a transaction the statement stays on the transaction's group.
    /// </summary>
    private async ValueTask<MySqlError?> RouteStatementAsync(string sql, bool endsTransaction)
    {
        _plannedDecision = default;
        bool inTransaction = (_status & MySqlServerStatus.InTransaction) != 0 && _active is not null;
        if (inTransaction && endsTransaction)
        {
            return null;
        }

        RouteDecision decision = _router!.Decide(sql);
        _plannedDecision = decision;
        if (decision.IsDenied)
        {
            AuditDenied(sql, decision);
            return decision.IsFallback
                ? MySqlError.Of(MySqlErrorCode.UnknownDatabase, SessionRouter.DenyText(decision))
                : new MySqlError(RouteDeniedCode, "42000", SessionRouter.DenyText(decision));
        }

        if (inTransaction)
        {
            return null;
        }

        try
        {
            (GroupEngine engine, _) = await _router.GetAsync(decision.Group!, new EngineSessionOptions(_user, _database ?? decision.Group!.Name, _applicationName), CancellationToken.None).ConfigureAwait(false);
            Activate(engine);
            return null;
        }
        catch (EngineException ex)
        {
            return MySqlError.Of(MySqlErrorCode.ConnectionHostError, $"group '{decision.Group!.Name}': {ex.Message}");
        }
    }

    /// <summary>Makes <paramref name="target"/> the session's current engine (statements, cancel and timeouts act on it).</summary>
    private void Activate(GroupEngine target)
    {
        _active = target;
        _engine = target.Session;
        _engineInstance = target.Engine;
        _dialect = target.Dialect;
        _clusterName = target.Cluster;
        _group = target.Group;
    }

    /// <summary>A prepared statement runs on its group; inside a transaction on another group that is an error.</summary>
    private MySqlError? ActivateForExecute(GroupEngine? target)
    {
        if (target is null || ReferenceEquals(target, _active))
        {
            return null;
        }

        if ((_status & MySqlServerStatus.InTransaction) != 0 && _active is not null)
        {
            return MySqlError.Of(MySqlErrorCode.UnknownError,
                $"prepared statement was prepared on group '{target.Group.Name}', but the open transaction runs on group '{_active.Group.Name}'; prepare it again inside the transaction");
        }

        Activate(target);
        return null;
    }

    /// <summary>EXPLAIN ROUTE: the decision for the statement as one row, without running it.</summary>
    private InMemoryResult ExplainRoute(string statement)
    {
        RecordBatch batch = ExplainRouteResult.For(_router, _route, _config, statement);
        return new InMemoryResult(batch.Schema, batch);
    }

    /// <summary>USE / COM_INIT_DB with per-statement routing: the request follows; engine sessions stay.</summary>
    private void UseDatabaseRouted(string database)
    {
        _database = database;
        _route.Database = database;
        _route.Schema = database;
    }
}
