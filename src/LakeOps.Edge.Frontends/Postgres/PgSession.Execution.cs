using System.Globalization;
using Apache.Arrow;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Postgres.Catalog;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// What simple and extended queries share: deciding who answers a statement, running it,
/// the transaction status, statement timeouts and cancellation, and error mapping.
/// </summary>
internal sealed partial class PgSession
{
    private bool _timedOut;
    private Func<string, string?>? _gatewaySetting;
    private PgEmulationContext? _emulationContext;

    /// <summary>
    /// Classifies a statement and decides whether the gateway or the engine answers it; with
    /// per-statement routing, engine statements are routed here (a denied one throws).
    /// </summary>
    private async ValueTask<PgStatement> PlanAsync(string sql)
    {
        StatementInfo info = StatementClassifier.Classify(sql);
        if (_router is not null && info.Kind is StatementKind.Set or StatementKind.Reset or StatementKind.Discard)
        {
            TrackSearchPath(info, sql);
        }

        switch (info.Kind)
        {
            case StatementKind.Explain when RouteAttributes.TryParseExplainRoute(sql, out string routed):
                return ExplainRoute(sql, routed, info);
            case StatementKind.Empty:
                return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.Empty };
            case StatementKind.Set when StatementClassifier.TryParseSet(sql, out string name, out string? value, out _) && _parameters.Owns(name):
                return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.SetParameter, ParameterName = name, ParameterValue = value };
            case StatementKind.Show when StatementClassifier.TryParseShow(sql, out string shown) && (_parameters.Owns(shown) || shown == "all"):
                return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.ShowParameter, ParameterName = shown, ResultSchema = ShowSchema(shown) };
            case StatementKind.Reset when TryParseReset(sql, out string reset) && (reset == "all" || _parameters.Owns(reset)):
                return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.ResetParameter, ParameterName = reset };
            case StatementKind.Discard when sql.AsSpan().Trim().TrimEnd(';').ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var what] && what.Equals("ALL", StringComparison.OrdinalIgnoreCase):
                return new PgStatement { Sql = sql, Info = new StatementInfo(StatementKind.Discard, "DISCARD ALL"), Kind = PgStatementKind.DiscardAll };
        }

        EmulatedResult? emulated = PgCatalogEmulator.TryAnswer(sql, _emulationContext ??= new PgEmulationContext(_config.Server.PostgresServerVersion, _router is null ? _clusterName : "chosen per statement by routing rules"));
        if (emulated is not null)
        {
            return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.Emulated, Emulated = emulated, ResultSchema = emulated.Schema };
        }

        _plannedDecision = default;
        GroupEngine? target = _router is null ? null : await RouteStatementAsync(sql, info.Kind).ConfigureAwait(false);
        string engineSql = SessionSettingInliner.Inline(sql, _gatewaySetting ??= name => _parameters.TryGet(name, out string value) ? value : null);
        if ((target?.Dialect ?? _engineDialect) == SqlDialect.DuckDb)
        {
            // DuckDB takes no isolation or access modes; its transactions are snapshot-isolated.
            engineSql = info.Kind == StatementKind.Begin ? "BEGIN TRANSACTION" : PgToDuckDbTranslator.Translate(engineSql);
        }

        return new PgStatement { Sql = sql, Info = info, Kind = PgStatementKind.Engine, EngineSql = engineSql, Target = target, Decision = PlannedDecision() };
    }

    private static bool TryParseReset(string sql, out string name)
    {
        string[] words = sql.AsSpan().Trim().TrimEnd(';').ToString().Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        name = words.Length >= 2 ? words[1].Trim('"').ToLowerInvariant() : "";
        if (name == "time" && words.Length == 3 && words[2].Equals("zone", StringComparison.OrdinalIgnoreCase))
        {
            name = "timezone";
        }

        return words.Length == 2 || name == "timezone";
    }

    private static Schema ShowSchema(string name) => name == "all"
        ? new Schema([new Field("name", Apache.Arrow.Types.StringType.Default, true), new Field("setting", Apache.Arrow.Types.StringType.Default, true), new Field("description", Apache.Arrow.Types.StringType.Default, true)], null)
        : new Schema([new Field(name, Apache.Arrow.Types.StringType.Default, true)], null);

    /// <summary>In a failed transaction block only statements that end it (or roll back to a savepoint) may run.</summary>
    private void ThrowIfTransactionFailed(StatementKind kind)
    {
        if (_transactionStatus == PgTransactionStatus.Failed && kind is not (StatementKind.Commit or StatementKind.Rollback or StatementKind.RollbackToSavepoint))
        {
            throw new EngineException("current transaction is aborted, commands ignored until end of transaction block", SqlStates.InFailedSqlTransaction);
        }
    }

    /// <summary>
    /// Transaction-state rules the gateway enforces itself, as PostgreSQL does: in a failed
    /// transaction only COMMIT/ROLLBACK run; BEGIN inside a transaction and COMMIT/ROLLBACK outside
    /// one are warnings, not engine errors. Returns the tag when the statement is fully handled here.
    /// </summary>
    private string? ApplyTransactionRules(PgStatement statement)
    {
        StatementKind kind = statement.Info.Kind;
        ThrowIfTransactionFailed(kind);

        if (kind == StatementKind.Begin && _transactionStatus != PgTransactionStatus.Idle)
        {
            PgBackendWriter.WriteNoticeResponse(Output, new PgError("WARNING", SqlStates.ActiveSqlTransaction, "there is already a transaction in progress"));
            return statement.Info.CommandTag;
        }

        if (kind is StatementKind.Commit or StatementKind.Rollback && _transactionStatus == PgTransactionStatus.Idle)
        {
            PgBackendWriter.WriteNoticeResponse(Output, new PgError("WARNING", SqlStates.NoActiveSqlTransaction, "there is no transaction in progress"));
            return statement.Info.CommandTag;
        }

        if (statement.Kind == PgStatementKind.DiscardAll && _transactionStatus != PgTransactionStatus.Idle)
        {
            throw new EngineException("DISCARD ALL cannot run inside a transaction block", SqlStates.ActiveSqlTransaction);
        }

        return null;
    }

    /// <summary>
    /// Runs a statement. Returns an open result for row-returning statements (the caller streams
    /// and disposes it), otherwise the CommandComplete tag.
    /// </summary>
    private async ValueTask<(IQueryResult? Result, string? Tag)> RunAsync(PgStatement statement, ParameterValue[] parameters, CancellationToken cancellationToken)
    {
        _spilledTo = null;
        string? handled = ApplyTransactionRules(statement);
        if (handled is not null)
        {
            return (null, handled);
        }

        switch (statement.Kind)
        {
            case PgStatementKind.Emulated:
                EmulatedResult emulated = statement.Emulated!;
                return (new InMemoryResult(emulated.Schema, emulated.Batch), null);
            case PgStatementKind.SetParameter:
                string canonical = _parameters.CanonicalName(statement.ParameterName);
                string previous = _parameters.TryGet(canonical, out string current) ? current : "";
                string? error = _parameters.Set(statement.ParameterName, statement.ParameterValue, out string sqlState);
                if (error is not null)
                {
                    throw new EngineException(error, sqlState);
                }

                if (canonical == "TimeZone" && !await TryForwardTimeZoneAsync(cancellationToken).ConfigureAwait(false))
                {
                    _parameters.Set(canonical, previous, out _);
                    throw new EngineException($"the engine of cluster '{_clusterName}' does not accept time zone \"{statement.ParameterValue}\"", SqlStates.InvalidParameterValue);
                }

                OnParameterChanged(canonical);
                if (PgSessionParameters.IsReported(canonical))
                {
                    PgBackendWriter.WriteParameterStatus(Output, canonical, _parameters[canonical]);
                }

                return (null, "SET");
            case PgStatementKind.ShowParameter:
                return (ShowResult(statement), null);
            case PgStatementKind.ResetParameter:
                if (statement.ParameterName == "all")
                {
                    _parameters.ResetAll();
                }
                else
                {
                    _parameters.Set(statement.ParameterName, null, out _);
                }

                OnParametersReset();

                await TryForwardTimeZoneAsync(cancellationToken).ConfigureAwait(false);
                return (null, "RESET");
            case PgStatementKind.DiscardAll:
                await CloseAllStatementsAsync().ConfigureAwait(false);
                _parameters.ResetAll();
                OnParametersReset();
                await TryForwardTimeZoneAsync(cancellationToken).ConfigureAwait(false);
                return (null, "DISCARD ALL");
        }

        return await RunEngineAsync(statement, parameters, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An engine statement, with its outcome reported to the health of the cluster it ran on: success with the
    /// time until the result was ready, failures that say the cluster is sick (see
    /// <see cref="ClusterFailover.Classify"/>), and the statement counted as running meanwhile (least_loaded).
    /// With admission the observation starts once a slot is held, on the cluster admission chose (a spilled
    /// statement reports on the spill group's cluster), so a queue wait is neither latency nor load.
    /// </summary>
    private async ValueTask<(IQueryResult? Result, string? Tag)> RunEngineAsync(PgStatement statement, ParameterValue[] parameters, CancellationToken cancellationToken)
    {
        if (Admission is { IsActive: true } && IsAdmitted(statement.Info.Kind))
        {
            return await RunAdmittedAsync(statement, parameters, cancellationToken).ConfigureAwait(false);
        }

        // COMMIT of a failed transaction rolls back, as in PostgreSQL.
        bool commitOfFailed = statement.Info.Kind == StatementKind.Commit && _transactionStatus == PgTransactionStatus.Failed;
        IQueryResult result;
        if (!commitOfFailed && statement.Prepared is null)
        {
            // Observed per attempt, on the cluster each attempt ran on.
            (result, _) = await ExecuteWithRetryAsync(statement, default, "", default, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            result = await StatementObservation.RunAsync(
                _picker,
                _clusterName,
                (Engine: _engine!, statement.Prepared, parameters, commitOfFailed, cancellationToken),
                static s => s.commitOfFailed ? s.Engine.ExecuteAsync("ROLLBACK", s.cancellationToken) : s.Prepared!.ExecuteAsync(s.parameters, s.cancellationToken)).ConfigureAwait(false);
        }

        if (result.ReturnsRows)
        {
            return (result, null);
        }

        await using (result.ConfigureAwait(false))
        {
            // Drain (a no-op for commands) so RowsAffected is final.
            while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
            }

            return (null, commitOfFailed ? "ROLLBACK" : CommandTag(statement.Info, result.RowsAffected));
        }
    }

    /// <summary>
    /// Keeps the engine's TimeZone equal to the session's, so timestamptz arithmetic and casts in
    /// SQL agree with what the front door prints. False when the engine refuses the zone.
    /// </summary>
    private async ValueTask<bool> TryForwardTimeZoneAsync(CancellationToken cancellationToken)
    {
        if (_router is not null)
        {
            // Every engine session the routed session holds follows the zone.
            bool all = true;
            foreach (GroupEngine open in _router.Open)
            {
                if (open.Dialect == SqlDialect.DuckDb)
                {
                    all &= await ForwardTimeZoneAsync(open.Session, cancellationToken).ConfigureAwait(false);
                }
            }

            return all;
        }

        if (_engineDialect != SqlDialect.DuckDb || _engine is null)
        {
            return true;
        }

        return await ForwardTimeZoneAsync(_engine, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<bool> ForwardTimeZoneAsync(IEngineSession engine, CancellationToken cancellationToken)
    {
        string zone = _parameters["TimeZone"].Replace("'", "''", StringComparison.Ordinal);
        try
        {
            IQueryResult result = await engine.ExecuteAsync($"SET TimeZone = '{zone}'", cancellationToken).ConfigureAwait(false);
            await result.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (EngineException)
        {
            return false;
        }
    }

    private InMemoryResult ShowResult(PgStatement statement)
    {
        if (statement.ParameterName != "all")
        {
            _parameters.TryGet(statement.ParameterName, out string value);
            return new InMemoryResult(statement.ResultSchema!, new RecordBatch(statement.ResultSchema!, [new StringArray.Builder().Append(value).Build()], 1));
        }

        var names = new StringArray.Builder();
        var settings = new StringArray.Builder();
        var descriptions = new StringArray.Builder();
        int count = 0;
        foreach (string name in PgSessionParameters.ReportedNames)
        {
            names.Append(name);
            settings.Append(_parameters[name]);
            descriptions.Append("LakeOps Edge session parameter");
            count++;
        }

        return new InMemoryResult(statement.ResultSchema!, new RecordBatch(statement.ResultSchema!, [names.Build(), settings.Build(), descriptions.Build()], count));
    }

    /// <summary>The CommandComplete tag PostgreSQL would send.</summary>
    private static string CommandTag(StatementInfo info, long rows)
    {
        long count = Math.Max(rows, 0);
        return info.Kind switch
        {
            StatementKind.Insert => string.Create(CultureInfo.InvariantCulture, $"INSERT 0 {count}"),
            StatementKind.Update => string.Create(CultureInfo.InvariantCulture, $"UPDATE {count}"),
            StatementKind.Delete => string.Create(CultureInfo.InvariantCulture, $"DELETE {count}"),
            StatementKind.Select or StatementKind.With or StatementKind.Values or StatementKind.CreateTableAs => string.Create(CultureInfo.InvariantCulture, $"SELECT {count}"),
            StatementKind.Merge or StatementKind.Copy or StatementKind.Fetch or StatementKind.Move => string.Create(CultureInfo.InvariantCulture, $"{info.CommandTag} {count}"),
            _ => info.CommandTag,
        };
    }

    /// <summary>Tag after streaming rows: SELECT n for queries, the statement's own tag otherwise (SHOW, EXPLAIN).</summary>
    private static string RowsTag(StatementInfo info, long rows) => info.Kind switch
    {
        StatementKind.Show => "SHOW",
        StatementKind.Explain => "EXPLAIN",
        StatementKind.Insert or StatementKind.Update or StatementKind.Delete => CommandTag(info, rows),
        _ => string.Create(CultureInfo.InvariantCulture, $"SELECT {rows}"),
    };

    /// <summary>Moves the transaction status after a statement finished.</summary>
    private void AfterStatement(PgStatement statement, bool succeeded)
    {
        if (!succeeded)
        {
            if (_transactionStatus == PgTransactionStatus.InTransaction)
            {
                _transactionStatus = PgTransactionStatus.Failed;
            }

            return;
        }

        switch (statement.Info.Kind)
        {
            case StatementKind.Begin:
                _transactionStatus = PgTransactionStatus.InTransaction;
                break;
            case StatementKind.Commit:
            case StatementKind.Rollback:
                _transactionStatus = PgTransactionStatus.Idle;
                break;
            case StatementKind.RollbackToSavepoint when _transactionStatus == PgTransactionStatus.Failed:
                _transactionStatus = PgTransactionStatus.InTransaction;
                break;
        }
    }

    /// <summary>Starts the statement timer (statement_timeout / cluster query_timeout) and marks a statement as running.</summary>
    private StatementTimer BeginStatement()
    {
        _timedOut = false;
        _statementRunning = true;
        // The session's SET statement_timeout, the group's statement_timeout and the cluster's query_timeout: the tightest wins.
        TimeSpan sessionLimit = TimeSpan.FromMilliseconds(_parameters.StatementTimeoutMilliseconds);
        TimeSpan clusterLimit = _config.Clusters.TryGetValue(_clusterName, out var cluster) ? cluster.Limits.QueryTimeout : TimeSpan.Zero;
        return new StatementTimer(this, StatementLimits.Tightest(StatementLimits.Tightest(sessionLimit, _groupStatementTimeout), clusterLimit));
    }

    private void EndStatement() => _statementRunning = false;

    private void OnStatementTimeout()
    {
        if (_statementRunning)
        {
            _timedOut = true;
            _engine?.Cancel();
            CancelAdmittedWork();
        }
    }

    /// <summary>Maps any failure of a statement to the ErrorResponse the client sees.</summary>
    private PgError ToError(Exception exception)
    {
        switch (exception)
        {
            case EngineException engine when StatementAdmission.IsRefusal(engine):
                // The gate's own text: which group was full, how long it waited.
                return new PgError("ERROR", engine.SqlState, engine.Message);
            case EngineException engine when engine.SqlState == SqlStates.QueryCanceled:
                return new PgError("ERROR", SqlStates.QueryCanceled, _timedOut ? "canceling statement due to statement timeout" : "canceling statement due to user request");
            case EngineException engine:
                return new PgError("ERROR", engine.SqlState, engine.Message);
            case PgParameterException parameter:
                return new PgError("ERROR", parameter.SqlState, parameter.Message);
            case PgEncodingException encoding:
                return new PgError("ERROR", encoding.SqlState, encoding.Message);
            case PgProtocolException protocol:
                return new PgError("ERROR", protocol.SqlState, protocol.Message);
            case ArgumentException argument:
                return new PgError("ERROR", SqlStates.ProtocolViolation, argument.Message);
            default:
                Log.Error(EventId.SessionFailed, $"internal error in session of '{_user}': {exception}");
                return new PgError("ERROR", SqlStates.InternalError, $"internal error: {exception.Message}");
        }
    }

    /// <summary>True for exceptions a statement may raise that leave the session usable.</summary>
    private static bool IsStatementError(Exception exception) =>
        exception is EngineException or PgParameterException or PgEncodingException or ArgumentException or InvalidOperationException or NotSupportedException or FormatException or OverflowException;

    private async ValueTask CloseAllStatementsAsync()
    {
        if (_portalsByName is { } portals)
        {
            foreach (PgPortal portal in portals.Values)
            {
                await portal.DisposeAsync().ConfigureAwait(false);
            }

            portals.Clear();
        }

        if (_statementsByName is { } statements)
        {
            foreach (PgStatement statement in statements.Values)
            {
                statement.Dispose();
            }

            statements.Clear();
        }
    }

    /// <summary>Cancels the running statement when its time limit passes.</summary>
    private readonly struct StatementTimer : IDisposable
    {
        private readonly PgSession _session;
        private readonly Timer? _timer;

        public StatementTimer(PgSession session, TimeSpan limit)
        {
            _session = session;
            _timer = limit > TimeSpan.Zero ? new Timer(static s => ((PgSession)s!).OnStatementTimeout(), session, limit, Timeout.InfiniteTimeSpan) : null;
        }

        public void Dispose()
        {
            _timer?.Dispose();
            _session.EndStatement();
        }
    }
}
