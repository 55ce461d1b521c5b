using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>The simple query protocol: one Query message, one or more statements, one ReadyForQuery.</summary>
internal sealed partial class PgSession
{
    private async ValueTask<bool> HandleSimpleQueryAsync(string sql, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> texts = SqlSplitter.Split(sql);
        if (texts.Count == 0)
        {
            PgBackendWriter.WriteEmptyQueryResponse(Output);
        }

        // Plan every statement first, as PostgreSQL parses the whole string before running any of it.
        var statements = new PgStatement[texts.Count];
        try
        {
            for (int i = 0; i < statements.Length; i++)
            {
                statements[i] = await PlanAsync(texts[i]).ConfigureAwait(false);
                if (statements.Length > 1 && _batchTarget is null && statements[i].Target is { } first)
                {
                    // One Query message is one implicit transaction: its statements go where the first went.
                    _batchTarget = first;
                }
            }
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
            MarkFailed();
            statements = [];
        }
        finally
        {
            _batchTarget = null;
        }

        bool implicitTransaction = NeedsImplicitTransaction(statements);
        if (implicitTransaction && _router is not null)
        {
            foreach (PgStatement statement in statements)
            {
                if (statement.Target is not null)
                {
                    Activate(statement);
                    break;
                }
            }
        }

        bool succeeded = !implicitTransaction || await RunImplicitTransactionCommandAsync("BEGIN TRANSACTION").ConfigureAwait(false);
        _inImplicitTransaction = implicitTransaction;
        foreach (PgStatement statement in succeeded ? statements : [])
        {
            if (statement.Kind == PgStatementKind.Empty)
            {
                PgBackendWriter.WriteEmptyQueryResponse(Output);
                continue;
            }

            if (!await RunSimpleStatementAsync(statement, cancellationToken).ConfigureAwait(false))
            {
                succeeded = false;
                break;
            }
        }

        _inImplicitTransaction = false;
        if (implicitTransaction)
        {
            await RunImplicitTransactionCommandAsync(succeeded ? "COMMIT" : "ROLLBACK").ConfigureAwait(false);
        }

        PgBackendWriter.WriteReadyForQuery(Output, _transactionStatus);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// PostgreSQL runs the statements of one Query message as a single transaction unless they
    /// control transactions themselves. Edge does the same when two or more statements go to the
    /// engine outside a transaction block and all of them are ordinary queries, DML or DDL.
    /// </summary>
    private bool NeedsImplicitTransaction(PgStatement[] statements)
    {
        if (_transactionStatus != PgTransactionStatus.Idle)
        {
            return false;
        }

        int engineStatements = 0;
        foreach (PgStatement statement in statements)
        {
            if (statement.Kind != PgStatementKind.Engine)
            {
                continue;
            }

            engineStatements++;
            if (statement.Info.Kind is not (StatementKind.Select or StatementKind.Insert or StatementKind.Update or StatementKind.Delete
                or StatementKind.Merge or StatementKind.Values or StatementKind.With or StatementKind.Create or StatementKind.CreateTableAs
                or StatementKind.Drop or StatementKind.Alter or StatementKind.Truncate))
            {
                return false;
            }
        }

        return engineStatements > 1;
    }

    /// <summary>BEGIN/COMMIT/ROLLBACK of an implicit transaction; a failure is reported to the client.</summary>
    private async ValueTask<bool> RunImplicitTransactionCommandAsync(string command)
    {
        try
        {
            IQueryResult result = await _engine!.ExecuteAsync(command, CancellationToken.None).ConfigureAwait(false);
            await result.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
            return false;
        }
    }

    /// <summary>Runs one statement of a simple query, rows in text format. False after an error.</summary>
    private async ValueTask<bool> RunSimpleStatementAsync(PgStatement statement, CancellationToken stopping)
    {
        PgResultCursor? cursor = null;
        long auditStart = _audit is null ? 0 : SessionAudit.Now();
        try
        {
            Activate(statement);
        }
        catch (EngineException ex)
        {
            PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
            AuditFailed(statement, auditStart, ex.SqlState);
            AfterStatement(statement, succeeded: false);
            statement.Dispose();
            return false;
        }

        using StatementTimer timer = BeginStatement();
        try
        {
            (IQueryResult? result, string? tag) = await RunAsync(statement, [], stopping).ConfigureAwait(false);
            if (result is not null)
            {
                var encoder = PgRowEncoder.Create(result.Schema, [], _parameters.OutputZone);
                cursor = new PgResultCursor(result, encoder);
                WriteRowDescription(encoder);
                await cursor.WriteRowsAsync(Output, 0, stopping).ConfigureAwait(false);
                tag = RowsTag(statement.Info, cursor.RowsSent);
            }

            PgBackendWriter.WriteCommandComplete(Output, tag!);
            if (_audit is not null)
            {
                AuditCompleted(statement, auditStart, tag!);
            }

            AfterStatement(statement, succeeded: true);
            return true;
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            PgError error = ToError(ex);
            PgBackendWriter.WriteErrorResponse(Output, error);
            AuditFailed(statement, auditStart, error.SqlState);
            AfterStatement(statement, succeeded: false);
            return false;
        }
        finally
        {
            if (cursor is not null)
            {
                await cursor.DisposeAsync().ConfigureAwait(false);
            }

            statement.Dispose();
        }
    }

    private void MarkFailed()
    {
        if (_transactionStatus == PgTransactionStatus.InTransaction)
        {
            _transactionStatus = PgTransactionStatus.Failed;
        }
    }

    private void WriteRowDescription(PgRowEncoder encoder)
    {
        IReadOnlyList<PgColumn> columns = encoder.Columns;
        var fields = new PgFieldDescription[columns.Count];
        for (int i = 0; i < fields.Length; i++)
        {
            PgColumn column = columns[i];
            fields[i] = new PgFieldDescription(column.Name, 0, 0, column.TypeOid, column.TypeSize, column.TypeModifier, column.FormatCode);
        }

        PgBackendWriter.WriteRowDescription(Output, fields);
    }
}
