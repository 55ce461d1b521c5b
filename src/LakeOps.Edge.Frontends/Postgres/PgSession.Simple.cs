using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>The simple query protocol: one Query message, one or more statements, one ReadyForQuery.</summary>
internal sealed partial class PgSession
{
    private async ValueTask<bool> HandleSimpleQueryAsync(string sql, CancellationToken stopping)
    {
        IReadOnlyList<string> statements = SqlSplitter.Split(sql);
        if (statements.Count == 0)
        {
            PgBackendWriter.WriteEmptyQueryResponse(Output);
        }

        foreach (string text in statements)
        {
            PgStatement statement;
            try
            {
                statement = Plan(text);
            }
            catch (Exception ex) when (IsStatementError(ex))
            {
                PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
                MarkFailed();
                break;
            }

            if (statement.Kind == PgStatementKind.Empty)
            {
                PgBackendWriter.WriteEmptyQueryResponse(Output);
                continue;
            }

            if (!await RunSimpleStatementAsync(statement, stopping).ConfigureAwait(false))
            {
                break;
            }
        }

        PgBackendWriter.WriteReadyForQuery(Output, _transactionStatus);
        await Output.FlushAsync(stopping).ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs one statement of a simple query, rows in text format. False after an error.</summary>
    private async ValueTask<bool> RunSimpleStatementAsync(PgStatement statement, CancellationToken stopping)
    {
        using StatementTimer timer = BeginStatement();
        PgResultCursor? cursor = null;
        try
        {
            (IQueryResult? result, string? tag) = await RunAsync(statement, [], stopping).ConfigureAwait(false);
            if (result is not null)
            {
                var encoder = PgRowEncoder.Create(result.Schema, []);
                cursor = new PgResultCursor(result, encoder);
                WriteRowDescription(encoder);
                await cursor.WriteRowsAsync(Output, 0, stopping).ConfigureAwait(false);
                tag = RowsTag(statement.Info, cursor.RowsSent);
            }

            PgBackendWriter.WriteCommandComplete(Output, tag!);
            AfterStatement(statement, succeeded: true);
            return true;
        }
        catch (Exception ex) when (IsStatementError(ex))
        {
            PgBackendWriter.WriteErrorResponse(Output, ToError(ex));
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
