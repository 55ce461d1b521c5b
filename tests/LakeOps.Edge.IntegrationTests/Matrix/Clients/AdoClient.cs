using System.Data.Common;
using System.Globalization;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>
/// The part Npgsql and MySqlConnector share: open a connection, run the query with a data reader,
/// canonicalise each GetValue() by the column's kind. Column names are reported and compared too.
/// </summary>
public abstract class AdoClient : IMatrixClient
{
    public abstract string Name { get; }

    public abstract bool SpeaksPostgres { get; }

    protected abstract DbConnection CreateConnection(MatrixEndpoint endpoint);

    /// <summary>Prepare every command first (MySqlConnector: COM_STMT_PREPARE / EXECUTE, the binary protocol).</summary>
    protected virtual bool Prepare => false;

    /// <summary>True when <paramref name="exception"/> is the driver's server-error type; gives its native code and message.</summary>
    protected abstract bool IsServerError(DbException exception, out string code, out string message);

    public async Task<MatrixOutcome> RunAsync(MatrixEndpoint endpoint, MatrixQuery query)
    {
        await using DbConnection connection = CreateConnection(endpoint);
        try
        {
            await connection.OpenAsync();
        }
        catch (Exception ex) when (ex is DbException or IOException or TimeoutException or InvalidOperationException)
        {
            return MatrixOutcome.Failed($"{Name} could not connect: {ex.GetType().Name}: {ex.Message}");
        }

        try
        {
            if (query.Shape != QueryShape.Error)
            {
                (List<string> columns, List<string[]> rows) = await ReadAllAsync(connection, query.Sql, query.Columns);
                return MatrixOutcome.Ok(columns, rows);
            }

            string errorCell;
            string? code = null;
            try
            {
                await ReadAllAsync(connection, query.Sql, query.Columns);
                errorCell = "no error";
            }
            catch (DbException ex)
            {
                bool native = IsServerError(ex, out string nativeCode, out string message);
                code = native ? nativeCode : ex.GetType().Name;
                errorCell = MatrixOutcome.ErrorCell(native ? message : ex.GetType().Name + ": " + ex.Message, query.ErrorMentions!, native);
            }

            (_, List<string[]> after) = await ReadAllAsync(connection, MatrixQuery.AfterErrorSql, MatrixQuery.AfterErrorColumns);
            return MatrixOutcome.Ok(null, [[errorCell], .. after], code);
        }
        catch (Exception ex) when (ex is DbException or IOException or TimeoutException or InvalidOperationException or NotSupportedException or InvalidCastException)
        {
            return MatrixOutcome.Failed($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task<(List<string> Columns, List<string[]> Rows)> ReadAllAsync(DbConnection connection, string sql, IReadOnlyList<MatrixColumn> columns)
    {
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        if (Prepare)
        {
            await command.PrepareAsync();
        }

        await using DbDataReader reader = await command.ExecuteReaderAsync();
        var names = new List<string>(reader.FieldCount);
        for (int i = 0; i < reader.FieldCount; i++)
        {
            names.Add(reader.GetName(i));
        }

        var rows = new List<string[]>();
        while (await reader.ReadAsync())
        {
            var row = new string[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = Cell(reader, i, i < columns.Count ? columns[i].Kind : null);
            }

            rows.Add(row);
        }

        return (names, rows);
    }

    private static string Cell(DbDataReader reader, int ordinal, ColumnKind? kind)
    {
        // A value the driver cannot read (unknown type OID, bad encoding) is a result, not a crash of the matrix.
        try
        {
            if (reader.IsDBNull(ordinal))
            {
                return Canonical.Null;
            }

            object value = reader.GetValue(ordinal);
            return kind is { } k ? Canonical.FromValue(k, value) : "!extra " + Convert.ToString(value, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or FormatException or OverflowException or ArgumentException or InvalidOperationException)
        {
            return $"!unreadable ({reader.GetDataTypeName(ordinal)}): {ex.GetType().Name}: {ex.Message}";
        }
    }
}
