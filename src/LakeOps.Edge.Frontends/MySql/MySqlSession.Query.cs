using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Postgres;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Types;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>COM_QUERY: one or more statements (CLIENT_MULTI_STATEMENTS), one result per statement, text rows.</summary>
internal sealed partial class MySqlSession
{
    /// <summary>UTF-8 that throws on invalid bytes: statements are text, garbage is refused rather than mangled.</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private async ValueTask HandleQueryAsync(ReadOnlyMemory<byte> payload)
    {
        string sql;
        try
        {
            sql = StrictUtf8.GetString(MySqlCommandPackets.ParseQuery(payload.Span, _capabilities));
        }
        catch (DecoderFallbackException)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.TruncatedWrongValue, "Invalid utf8mb4 character string in the query"));
            return;
        }

        IReadOnlyList<string> statements = (_capabilities & MySqlCapabilities.MultiStatements) == 0
            ? (string.IsNullOrWhiteSpace(sql) ? [] : [sql])
            : _dialect == SqlDialect.MySql || _router is not null ? MySqlLexer.Split(sql) : SqlSplitter.Split(sql);
        if (statements.Count == 0)
        {
            WriteError(MySqlError.Of(MySqlErrorCode.EmptyQuery, "Query was empty"));
            return;
        }

        for (int i = 0; i < statements.Count; i++)
        {
            bool last = i == statements.Count - 1;
            if (!await RunStatementAsync(statements[i], last ? MySqlServerStatus.None : MySqlServerStatus.MoreResultsExist).ConfigureAwait(false))
            {
                // An ERR ends the response: later statements do not run.
                return;
            }
        }
    }

    /// <summary>Runs one statement of a COM_QUERY and writes its result (text protocol). False after an ERR.</summary>
    private async ValueTask<bool> RunStatementAsync(string sql, MySqlServerStatus more)
    {
        if (RouteAttributes.TryParseExplainRoute(sql, out string explained))
        {
            await using InMemoryResult explanation = ExplainRoute(explained);
            return await WriteResultAsync(explanation, more, binary: false).ConfigureAwait(false);
        }

        if (RouteAttributes.TryParseEdgeTagsSet(sql, out string? tags))
        {
            _route.Tags = RouteAttributes.SplitTags(tags);
            WriteOk(0, more);
            return true;
        }

        MySqlGatewayStatement? gateway = Classify(sql);
        if (gateway is not null && gateway.Kind != MySqlGatewayKind.Transaction)
        {
            return await RunGatewayAsync(gateway, more, binary: false).ConfigureAwait(false);
        }

        if (_router is not null && await RouteStatementAsync(sql, gateway is { Transaction: not MySqlTransactionKind.Begin }).ConfigureAwait(false) is { } denied)
        {
            WriteError(denied);
            return false;
        }

        string engineSql = gateway is null ? sql : TransactionSql(sql, gateway.Transaction);
        StatementLease lease = default;
        IEngineSession engine = _engine!;
        GroupEngine? spilled = null;
        if (gateway is null && Admission is not null)
        {
            bool admitted;
            (admitted, lease, spilled) = await AdmitStatementAsync(sql).ConfigureAwait(false);
            if (!admitted)
            {
                return false;
            }

            if (spilled is not null)
            {
                engine = spilled.Session;
                _spilledEngine = engine;
            }
        }

        long auditStart = _audit is null ? 0 : BeginAudit();
        using StatementTimer timer = BeginStatement();
        IQueryResult? result = null;
        try
        {
            if (spilled is not null)
            {
                result = await StatementObservation.RunAsync(_picker, spilled.Cluster, (engine, engineSql), static s => s.engine.ExecuteAsync(s.engineSql, CancellationToken.None)).ConfigureAwait(false);
            }
            else
            {
                // The retry owns the lease from here: it moves the slots to the member it retries on.
                StatementLease held = lease;
                lease = default;
                (result, lease) = await ExecuteWithRetryAsync(sql, engineSql, mayRetry: gateway is null, held, AdmissionGroup()).ConfigureAwait(false);
            }

            bool ok = await WriteResultAsync(result, more, binary: false).ConfigureAwait(false);
            if (ok && gateway is not null)
            {
                ApplyTransaction(gateway.Transaction);
            }

            AuditEngineStatement(sql, PlannedDecision(), auditStart, ok, spilled);
            return ok;
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
            AuditEngineStatement(sql, PlannedDecision(), auditStart, succeeded: false, spilled);

            return false;
        }
        finally
        {
            if (result is not null)
            {
                await result.DisposeAsync().ConfigureAwait(false);
            }

            _spilledEngine = null;
            lease.Dispose();
        }
    }

    /// <summary>A gateway statement, or null for the engine; MySQL-dialect engines run DO themselves.</summary>
    private MySqlGatewayStatement? Classify(string sql)
    {
        MySqlGatewayStatement? statement = MySqlGatewayStatement.Classify(sql, _variables);
        return statement is { Kind: MySqlGatewayKind.Do } && _dialect == SqlDialect.MySql ? null : statement;
    }

    /// <summary>
    /// Streams a result: for row results the column count, definitions, rows (text or binary) and the end
    /// marker; otherwise an OK with the affected rows. An error half-way becomes an ERR in place of the rest.
    /// False when an ERR was written.
    /// </summary>
    private async ValueTask<bool> WriteResultAsync(IQueryResult result, MySqlServerStatus more, bool binary)
    {
        if (!result.ReturnsRows || result.Schema.FieldsList.Count == 0)
        {
            try
            {
                while (await result.ReadBatchAsync(CancellationToken.None).ConfigureAwait(false) is not null)
                {
                }
            }
            catch (EngineException ex)
            {
                WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
                return false;
            }

            WriteOk((ulong)Math.Max(result.RowsAffected, 0), more);
            return true;
        }

        MySqlRowEncoder encoder;
        try
        {
            encoder = MySqlRowEncoder.Create(result.Schema, _textCharset);
        }
        catch (MySqlEncodingException ex)
        {
            WriteError(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message));
            return false;
        }

        _auditRows = 0;
        WriteColumnCount(encoder.Columns.Count);
        encoder.WriteColumnDefinitions(_writer);
        MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status, afterColumns: true);
        try
        {
            while (await result.ReadBatchAsync(CancellationToken.None).ConfigureAwait(false) is { } batch)
            {
                encoder.Bind(batch);
                int rows = batch.Length;
                _auditRows += rows;
                for (int row = 0; row < rows; row++)
                {
                    if (binary)
                    {
                        encoder.WriteBinaryRow(row, _writer);
                    }
                    else
                    {
                        encoder.WriteTextRow(row, _writer);
                    }

                    if (Output.UnflushedBytes > FlushThresholdBytes)
                    {
                        System.IO.Pipelines.FlushResult flush = await Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        if (flush.IsCanceled || flush.IsCompleted)
                        {
                            throw new IOException("the client stopped reading");
                        }
                    }
                }
            }
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
            return false;
        }
        catch (MySqlEncodingException ex)
        {
            WriteError(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message));
            return false;
        }

        MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status | more, afterColumns: false);
        return true;
    }

    private void WriteColumnCount(int count)
    {
        MySqlPayloadWriter payload = _writer.BeginPacket(MySqlPayloadWriter.LengthEncodedIntegerSize((ulong)count));
        payload.WriteLengthEncodedInteger((ulong)count);
        _writer.EndPacket(payload);
    }

    /// <summary>Answers a gateway statement (SELECT @@..., SET NAMES, SHOW DATABASES, USE, KILL).</summary>
    private async ValueTask<bool> RunGatewayAsync(MySqlGatewayStatement statement, MySqlServerStatus more, bool binary)
    {
        switch (statement.Kind)
        {
            case MySqlGatewayKind.Set:
                {
                    MySqlError? error = await ApplySetAsync(statement).ConfigureAwait(false);
                    if (error is { } e)
                    {
                        WriteError(e);
                        return false;
                    }

                    WriteOk(0, more);
                    return true;
                }

            case MySqlGatewayKind.Use:
                {
                    MySqlError? error = await UseDatabaseAsync(statement.Database).ConfigureAwait(false);
                    if (error is { } e)
                    {
                        WriteError(e);
                        return false;
                    }

                    WriteOk(0, more);
                    return true;
                }

            case MySqlGatewayKind.Kill:
                WriteKillResult(statement.KillId, statement.KillConnection, more);
                return true;
            case MySqlGatewayKind.Do:
                if (!await SleepAsync(statement.SleepSeconds).ConfigureAwait(false))
                {
                    WriteError(_timedOut
                        ? MySqlError.Of(MySqlErrorCode.QueryTimeout, MySqlErrorMapping.TimeoutMessage)
                        : MySqlError.Of(MySqlErrorCode.QueryInterrupted, MySqlErrorMapping.InterruptedMessage));
                    return false;
                }

                WriteOk(0, more);
                return true;
        }

        InMemoryResult result;
        try
        {
            result = GatewayResult(statement);
        }
        catch (GatewayException ex)
        {
            WriteError(ex.Error);
            return false;
        }

        return await WriteResultAsync(result, more, binary).ConfigureAwait(false);
    }

    /// <summary>DO SLEEP(n): waits, interruptible by KILL QUERY and the statement timeout. False when interrupted.</summary>
    private async ValueTask<bool> SleepAsync(double seconds)
    {
        if (seconds <= 0)
        {
            return true;
        }

        using var wait = new CancellationTokenSource();
        _gatewayWait = wait;
        using StatementTimer timer = BeginStatement();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue / 1000.0)), wait.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            _gatewayWait = null;
        }
    }

    /// <summary>SET of gateway-owned variables: recorded here, and also run by MySQL-dialect engines (they act on them).</summary>
    private async ValueTask<MySqlError?> ApplySetAsync(MySqlGatewayStatement statement)
    {
        if (_dialect == SqlDialect.MySql && statement.SourceSql is { Length: > 0 } sql)
        {
            try
            {
                IQueryResult result = await _engine!.ExecuteAsync(sql, CancellationToken.None).ConfigureAwait(false);
                await result.DisposeAsync().ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                return MySqlErrorMapping.FromEngine(ex, timedOut: false);
            }
        }

        if (statement.Names is { } names)
        {
            _variables.SetNames(names, statement.Collation);
        }

        foreach (MySqlAssignment assignment in statement.Assignments)
        {
            _variables.Set(assignment.Name, assignment.Value, assignment.IsDefault);
        }

        return null;
    }

    /// <summary>The rows of a gateway SELECT or SHOW, computed here.</summary>
    private InMemoryResult GatewayResult(MySqlGatewayStatement statement)
    {
        switch (statement.Kind)
        {
            case MySqlGatewayKind.Select:
                return SelectItemsResult(statement);
            case MySqlGatewayKind.ShowDatabases:
                {
                    var names = new List<string>();
                    foreach (string group in _config.Groups.Keys)
                    {
                        if (statement.Like is null || MySqlLike.Matches(group, statement.Like))
                        {
                            names.Add(group);
                        }
                    }

                    names.Sort(StringComparer.Ordinal);
                    var column = new StringArray.Builder();
                    foreach (string name in names)
                    {
                        column.Append(name);
                    }

                    var schema = new Schema([new Field(statement.Like is null ? "Database" : $"Database ({statement.Like})", StringType.Default, false)], null);
                    return new InMemoryResult(schema, new RecordBatch(schema, [column.Build()], names.Count));
                }

            case MySqlGatewayKind.ShowVariables:
                {
                    var names = new StringArray.Builder();
                    var values = new StringArray.Builder();
                    int count = 0;
                    foreach (KeyValuePair<string, object?> variable in _variables.All())
                    {
                        if (statement.Like is null || MySqlLike.Matches(variable.Key, statement.Like))
                        {
                            names.Append(variable.Key);
                            values.Append(MySqlSessionVariables.Display(variable.Value) ?? "");
                            count++;
                        }
                    }

                    var schema = new Schema([new Field("Variable_name", StringType.Default, false), new Field("Value", StringType.Default, true)], null);
                    return new InMemoryResult(schema, new RecordBatch(schema, [names.Build(), values.Build()], count));
                }

            default:
                {
                    var schema = new Schema(
                        [new Field("Level", StringType.Default, false), new Field("Code", UInt32Type.Default, false), new Field("Message", StringType.Default, false)], null);
                    return new InMemoryResult(schema, new RecordBatch(schema, [new StringArray.Builder().Build(), new UInt32Array.Builder().Build(), new StringArray.Builder().Build()], 0));
                }
        }
    }

    private InMemoryResult SelectItemsResult(MySqlGatewayStatement statement)
    {
        var fields = new List<Field>();
        var arrays = new List<IArrowArray>();
        int rows = statement.Limit == 0 ? 0 : 1;
        foreach (MySqlSelectItem item in statement.Items)
        {
            object? value = item.IsFunction ? FunctionValue(item.Name) : VariableValue(item);
            if (value is long number)
            {
                fields.Add(new Field(item.ColumnName, Int64Type.Default, false));
                var builder = new Int64Array.Builder();
                if (rows > 0)
                {
                    builder.Append(number);
                }

                arrays.Add(builder.Build());
            }
            else
            {
                fields.Add(new Field(item.ColumnName, StringType.Default, true));
                var builder = new StringArray.Builder();
                if (rows > 0)
                {
                    if (value is null)
                    {
                        builder.AppendNull();
                    }
                    else
                    {
                        builder.Append((string)value);
                    }
                }

                arrays.Add(builder.Build());
            }
        }

        var schema = new Schema(fields, null);
        return new InMemoryResult(schema, new RecordBatch(schema, arrays, rows));
    }

    private object? VariableValue(MySqlSelectItem item)
    {
        if (!_variables.TryGet(item.Name, out object? value))
        {
            throw new GatewayException(MySqlError.Of(MySqlErrorCode.UnknownSystemVariable, $"Unknown system variable '{item.Name}'"));
        }

        return value;
    }

    private object? FunctionValue(string name) => name switch
    {
        "DATABASE" or "SCHEMA" => _database,
        "VERSION" => _config.Server.MySqlServerVersion,
        "USER" or "SESSION_USER" or "SYSTEM_USER" => $"{_user}@{ClientHost()}",
        "CURRENT_USER" => $"{_user}@%",
        "CONNECTION_ID" => (long)ConnectionId,
        _ => 0L,
    };

    /// <summary>BEGIN/START TRANSACTION/COMMIT/ROLLBACK for the engine: DuckDB knows only BEGIN TRANSACTION.</summary>
    private string TransactionSql(string sql, MySqlTransactionKind kind) => _dialect switch
    {
        SqlDialect.DuckDb => kind switch
        {
            MySqlTransactionKind.Begin => "BEGIN TRANSACTION",
            MySqlTransactionKind.Commit => "COMMIT",
            _ => "ROLLBACK",
        },
        _ => sql,
    };

    private void ApplyTransaction(MySqlTransactionKind kind)
    {
        if (kind == MySqlTransactionKind.Begin)
        {
            _status |= MySqlServerStatus.InTransaction;
        }
        else
        {
            _status &= ~MySqlServerStatus.InTransaction;
        }
    }

    /// <summary>COM_FIELD_LIST: the columns of a table, from <c>SELECT * FROM t LIMIT 0</c> on the engine.</summary>
    private async ValueTask HandleFieldListAsync(ReadOnlyMemory<byte> payload)
    {
        string table = Encoding.UTF8.GetString(MySqlCommandPackets.ParseFieldList(payload.Span, out _));
        string quoted = _dialect == SqlDialect.MySql
            ? "`" + table.Replace("`", "``", StringComparison.Ordinal) + "`"
            : "\"" + table.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        if (_router is not null && await RouteStatementAsync($"SELECT * FROM {quoted} LIMIT 0", endsTransaction: false).ConfigureAwait(false) is { } denied)
        {
            WriteError(denied);
            return;
        }

        using StatementTimer timer = BeginStatement();
        try
        {
            IQueryResult result = await _engine!.ExecuteAsync($"SELECT * FROM {quoted} LIMIT 0", CancellationToken.None).ConfigureAwait(false);
            await using (result.ConfigureAwait(false))
            {
                MySqlRowEncoder encoder = MySqlRowEncoder.Create(result.Schema, _textCharset);
                foreach (MySqlColumnDefinition column in encoder.Columns)
                {
                    (column with { Table = table, OriginalTable = table, Schema = _database ?? "" }).Write(_writer, withFieldListDefault: true);
                }

                MySqlEofPacket.WriteEndMarker(_writer, _capabilities, _status, afterColumns: false);
            }
        }
        catch (EngineException ex)
        {
            WriteError(MySqlErrorMapping.FromEngine(ex, _timedOut));
        }
        catch (MySqlEncodingException ex)
        {
            WriteError(new MySqlError(ex.ErrorCode, ex.SqlState, ex.Message));
        }
    }

    /// <summary>A gateway statement that fails with a MySQL error.</summary>
    private sealed class GatewayException(MySqlError error) : Exception(error.Message)
    {
        public MySqlError Error { get; } = error;
    }
}

/// <summary>SQL LIKE with % and _ (and \ escapes), case-insensitive, for SHOW ... LIKE.</summary>
internal static class MySqlLike
{
    public static bool Matches(string text, string pattern) => Match(text.AsSpan(), pattern.AsSpan());

    private static bool Match(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        while (!pattern.IsEmpty)
        {
            char p = pattern[0];
            if (p == '%')
            {
                pattern = pattern[1..];
                for (int i = 0; i <= text.Length; i++)
                {
                    if (Match(text[i..], pattern))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (text.IsEmpty)
            {
                return false;
            }

            if (p == '\\' && pattern.Length > 1)
            {
                pattern = pattern[1..];
                p = pattern[0];
            }
            else if (p == '_')
            {
                text = text[1..];
                pattern = pattern[1..];
                continue;
            }

            if (char.ToLowerInvariant(p) != char.ToLowerInvariant(text[0]))
            {
                return false;
            }

            text = text[1..];
            pattern = pattern[1..];
        }

        return text.IsEmpty;
    }
}
