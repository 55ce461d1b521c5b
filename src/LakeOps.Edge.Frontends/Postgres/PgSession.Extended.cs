using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// The extended query protocol: Parse, Bind, Describe, Execute (with row limits), Close, Sync,
/// Flush. After an error every message up to the next Sync is skipped, as PostgreSQL does.
/// </summary>
internal sealed partial class PgSession
{
    // Created with the first extended-protocol message: a session that only idles (or only uses simple
    // queries) carries neither.
    private Dictionary<string, PgStatement>? _statementsByName;
    private Dictionary<string, PgPortal>? _portalsByName;

    private Dictionary<string, PgStatement> Statements => _statementsByName ??= new(StringComparer.Ordinal);

    private Dictionary<string, PgPortal> Portals => _portalsByName ??= new(StringComparer.Ordinal);
    private bool _skipUntilSync;

    private async ValueTask<bool> HandleExtendedAsync(FrontendMessage message, CancellationToken stopping)
    {
        if (message.Type == PgMessageTypes.Sync)
        {
            await SyncAsync(stopping).ConfigureAwait(false);
            return true;
        }

        if (message.Type == PgMessageTypes.Flush)
        {
            await Output.FlushAsync(stopping).ConfigureAwait(false);
            return true;
        }

        if (_skipUntilSync)
        {
            return true;
        }

        try
        {
            switch (message.Type)
            {
                case PgMessageTypes.Parse:
                    await ParseAsync((ParseMessage)message.Payload!, stopping).ConfigureAwait(false);
                    break;
                case PgMessageTypes.Bind:
                    await BindAsync((BindMessage)message.Payload!).ConfigureAwait(false);
                    break;
                case PgMessageTypes.DescribeMessage:
                    await DescribeAsync((DescribeMessage)message.Payload!, stopping).ConfigureAwait(false);
                    break;
                case PgMessageTypes.Execute:
                    await ExecuteAsync((ExecuteMessage)message.Payload!, stopping).ConfigureAwait(false);
                    break;
                case PgMessageTypes.Close:
                    await CloseAsync((CloseMessage)message.Payload!).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
            MarkFailed();
            _skipUntilSync = true;
        }

        return true;
    }

    private async ValueTask SyncAsync(CancellationToken stopping)
    {
        _skipUntilSync = false;
        if (_transactionStatus == PgTransactionStatus.Idle)
        {
            // Portals live until the end of the transaction; outside a transaction block that is now.
            await ClosePortalsAsync().ConfigureAwait(false);
        }

        PgBackendWriter.WriteReadyForQuery(Output, _transactionStatus);
        await Output.FlushAsync(stopping).ConfigureAwait(false);
    }

    private async ValueTask ParseAsync(ParseMessage parse, CancellationToken stopping)
    {
        string name = parse.StatementName;
        if (name.Length > 0 && Statements.ContainsKey(name))
        {
            throw new EngineException($"prepared statement \"{name}\" already exists", SqlStates.DuplicatePreparedStatement);
        }

        // Drivers re-send the same unnamed statement over and over (pgbench -M extended): reuse it.
        if (name.Length == 0 && _router is null && Statements.TryGetValue("", out PgStatement? previous)
            && previous.Sql == parse.Query && SameDeclaredTypes(previous, parse.ParameterTypeOids))
        {
            PgBackendWriter.WriteParseComplete(Output);
            return;
        }

        PgStatement planned = await PlanAsync(parse.Query).ConfigureAwait(false);
        PgStatement statement = planned;
        if (planned.Kind == PgStatementKind.Engine)
        {
            ThrowIfTransactionFailed(planned.Info.Kind);

            // A routed statement is prepared (and later runs) on the engine session of its group.
            SqlDialect dialect = planned.Target?.Dialect ?? _engineDialect;
            string engineSql = dialect == SqlDialect.DuckDb ? DuckDbParameterTypes.Apply(planned.EngineSql, parse.ParameterTypeOids) : planned.EngineSql;
            IPreparedStatement prepared = await PrepareWithRetryAsync(planned, engineSql, stopping).ConfigureAwait(false);
            statement = planned with
            {
                EngineSql = engineSql,
                Prepared = prepared,
                ParameterOids = ParameterOids(parse.ParameterTypeOids, prepared),
                ResultSchema = prepared.ReturnsRows ? prepared.ResultSchema : null,
            };
        }
        else if (parse.ParameterTypeOids.Length > 0)
        {
            throw new EngineException($"statement \"{Shorten(parse.Query)}\" takes no parameters", SqlStates.ProtocolViolation);
        }

        if (Statements.Remove(name, out PgStatement? replaced))
        {
            replaced.Dispose();
        }

        Statements[name] = statement;
        PgBackendWriter.WriteParseComplete(Output);
    }

    private static bool SameDeclaredTypes(PgStatement previous, int[] declared)
    {
        if (declared.Length > previous.ParameterOids.Length)
        {
            return false;
        }

        for (int i = 0; i < declared.Length; i++)
        {
            if (declared[i] != 0 && declared[i] != previous.ParameterOids[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Client-declared parameter types win; the engine's inferred types fill the rest.</summary>
    private static int[] ParameterOids(int[] declared, IPreparedStatement prepared)
    {
        int count = prepared.ParameterTypes.Count;
        if (declared.Length > count)
        {
            throw new EngineException($"the statement declares {declared.Length} parameter types but uses only {count} parameters", SqlStates.ProtocolViolation);
        }

        var oids = new int[count];
        for (int i = 0; i < count; i++)
        {
            oids[i] = i < declared.Length && declared[i] != 0 ? declared[i] : PgTypeMapper.ParameterOidFor(prepared.ParameterTypes[i]);
        }

        return oids;
    }

    private async ValueTask BindAsync(BindMessage bind)
    {
        if (!Statements.TryGetValue(bind.StatementName, out PgStatement? statement))
        {
            throw new EngineException($"prepared statement \"{bind.StatementName}\" does not exist", SqlStates.InvalidSqlStatementName);
        }

        if (bind.PortalName.Length > 0 && Portals.ContainsKey(bind.PortalName))
        {
            throw new EngineException($"portal \"{bind.PortalName}\" already exists", SqlStates.DuplicateCursor);
        }

        int expected = statement.ParameterOids.Length;
        if (bind.ParameterValues.Length != expected)
        {
            throw new EngineException($"bind message supplies {bind.ParameterValues.Length} parameters, but prepared statement \"{bind.StatementName}\" requires {expected}", SqlStates.ProtocolViolation);
        }

        short[] formats = bind.ParameterFormats;
        if (formats.Length > 1 && formats.Length != expected)
        {
            throw new EngineException($"bind message has {formats.Length} parameter formats but {expected} parameters", SqlStates.ProtocolViolation);
        }

        var parameters = expected == 0 ? [] : new ParameterValue[expected];
        for (int i = 0; i < expected; i++)
        {
            byte[]? value = bind.ParameterValues[i];
            short format = formats.Length == 0 ? (short)0 : formats.Length == 1 ? formats[0] : formats[i];
            parameters[i] = value is null ? ParameterValue.Null : PgParameterDecoder.Decode(statement.ParameterOids[i], format, value);
        }

        if (Portals.Remove(bind.PortalName, out PgPortal? replaced))
        {
            await replaced.DisposeAsync().ConfigureAwait(false);
        }

        Portals[bind.PortalName] = new PgPortal { Name = bind.PortalName, Statement = statement, Parameters = parameters, ResultFormats = bind.ResultFormats };
        PgBackendWriter.WriteBindComplete(Output);
    }

    private async ValueTask DescribeAsync(DescribeMessage describe, CancellationToken stopping)
    {
        if (describe.Kind == 'S')
        {
            if (!Statements.TryGetValue(describe.Name, out PgStatement? statement))
            {
                throw new EngineException($"prepared statement \"{describe.Name}\" does not exist", SqlStates.InvalidSqlStatementName);
            }

            PgBackendWriter.WriteParameterDescription(Output, statement.ParameterOids);
            if (statement.ResultSchema is null)
            {
                PgBackendWriter.WriteNoData(Output);
                return;
            }

            // Formats are not known before Bind: a statement's RowDescription says text.
            statement.DescribedToClient = true;
            WriteRowDescription(PgRowEncoder.Create(statement.ResultSchema, [], _parameters.OutputZone));
            return;
        }

        PgPortal portal = FindPortal(describe.Name);

        // Describing a portal runs it, so the description matches the rows exactly.
        await StartPortalAsync(portal, stopping).ConfigureAwait(false);
        if (portal.Cursor?.Encoder is { } portalEncoder)
        {
            WriteRowDescription(portalEncoder);
        }
        else
        {
            PgBackendWriter.WriteNoData(Output);
        }
    }

    private PgPortal FindPortal(string name) =>
        Portals.TryGetValue(name, out PgPortal? portal)
            ? portal
            : throw new EngineException($"portal \"{name}\" does not exist", SqlStates.InvalidCursorName);

    private async ValueTask StartPortalAsync(PgPortal portal, CancellationToken stopping)
    {
        if (portal.Started)
        {
            return;
        }

        PgStatement statement = portal.Statement;
        if (statement.Kind == PgStatementKind.Empty)
        {
            portal.CompletedTag = "";
            return;
        }

        Activate(statement);
        using StatementTimer timer = BeginStatement();
        try
        {
            (IQueryResult? result, string? tag) = await RunAsync(statement, portal.Parameters, stopping).ConfigureAwait(false);
            if (result is null)
            {
                portal.CompletedTag = tag;
                AfterStatement(statement, succeeded: true);
                return;
            }

            PgRowEncoder encoder;
            try
            {
                EnsureSameRowTypes(statement, result.Schema);
                encoder = PgRowEncoder.Create(result.Schema, portal.ResultFormats, _parameters.OutputZone);
            }
            catch
            {
                await result.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            portal.Cursor = new PgResultCursor(result, encoder);
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            AfterStatement(statement, succeeded: false);
            portal.CompletedTag = null;
            throw;
        }
    }

    private async ValueTask ExecutePortalAsync(ExecuteMessage execute, CancellationToken stopping)
    {
        PgPortal portal = FindPortal(execute.PortalName);
        await StartPortalAsync(portal, stopping).ConfigureAwait(false);
        if (portal.Cursor is not { } cursor)
        {
            if (portal.CompletedTag is "")
            {
                PgBackendWriter.WriteEmptyQueryResponse(Output);
            }
            else
            {
                PgBackendWriter.WriteCommandComplete(Output, portal.CompletedTag!);
            }

            return;
        }

        bool exhausted;
        Activate(portal.Statement);
        using (BeginStatement())
        {
            try
            {
                exhausted = await cursor.WriteRowsAsync(Output, Math.Max(execute.MaxRows, 0), stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStatementError(ex))
            {
                AfterStatement(portal.Statement, succeeded: false);
                throw;
            }
        }

        if (!exhausted)
        {
            PgBackendWriter.WritePortalSuspended(Output);
            return;
        }

        PgBackendWriter.WriteCommandComplete(Output, RowsTag(portal.Statement.Info, cursor.RowsSent));
        AfterStatement(portal.Statement, succeeded: true);
    }

    private async ValueTask CloseAsync(CloseMessage close)
    {
        if (close.Kind == 'S')
        {
            if (Statements.Remove(close.Name, out PgStatement? statement))
            {
                // Closing a statement closes the portals made from it.
                foreach (PgPortal portal in Portals.Values.ToArray())
                {
                    if (ReferenceEquals(portal.Statement, statement))
                    {
                        Portals.Remove(portal.Name);
                        await portal.DisposeAsync().ConfigureAwait(false);
                    }
                }

                statement.Dispose();
            }
        }
        else if (Portals.Remove(close.Name, out PgPortal? portal))
        {
            await portal.DisposeAsync().ConfigureAwait(false);
        }

        PgBackendWriter.WriteCloseComplete(Output);
    }

    private async ValueTask ClosePortalsAsync()
    {
        if (Portals.Count == 0)
        {
            return;
        }

        foreach (PgPortal portal in Portals.Values)
        {
            await portal.DisposeAsync().ConfigureAwait(false);
        }

        Portals.Clear();
    }

    /// <summary>
    /// Drivers cache the row description of a prepared statement and skip Describe on later runs;
    /// if the engine's rows have other types (parameters of unknown type can do that), fail
    /// clearly as PostgreSQL does instead of sending bytes the driver would misread.
    /// </summary>
    private static void EnsureSameRowTypes(PgStatement statement, Apache.Arrow.Schema actual)
    {
        if (!statement.DescribedToClient || statement.ResultSchema is not { } described || ReferenceEquals(described, actual))
        {
            return;
        }

        bool same = described.FieldsList.Count == actual.FieldsList.Count;
        for (int i = 0; same && i < actual.FieldsList.Count; i++)
        {
            same = PgTypeMapper.MapField(described.FieldsList[i], out int describedModifier).Oid == PgTypeMapper.MapField(actual.FieldsList[i], out int actualModifier).Oid
                && describedModifier == actualModifier;
        }

        if (!same)
        {
            throw new EngineException(
                "cached plan must not change result type: the engine returned other column types than it described at prepare time; declare parameter types (e.g. $1::integer)",
                SqlStates.FeatureNotSupported);
        }
    }

    private static string Shorten(string sql) => sql.Length <= 60 ? sql : string.Concat(sql.AsSpan(0, 57), "...");
}
