using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// A DuckDB prepared statement. Parameter types and the result schema come from DuckDB before any
/// execution and are computed on first use (a plain ExecuteAsync never needs them).
/// <para>
/// <see cref="ReturnsRows"/> rule: SELECT-like statements (SELECT, EXPLAIN, CALL, relations) return rows
/// when they have columns; INSERT/UPDATE/DELETE return rows only with RETURNING (DuckDB otherwise
/// describes them with a single BIGINT "Count" column, which becomes RowsAffected); PRAGMA/EXECUTE
/// return rows unless DuckDB describes them with a single BOOLEAN "Success" column; every other
/// statement (DDL, SET, transaction control, COPY, ...) returns no rows.
/// </para>
/// </summary>
internal sealed unsafe class DuckDbPreparedStatement : IPreparedStatement
{
    private readonly DuckDbSession _session;
    private IReadOnlyList<IArrowType?>? _parameterTypes;
    private Schema? _resultSchema;
    private bool _disposed;

    internal DuckDbPreparedStatement(DuckDbSession session, PreparedHandle handle, string sql)
    {
        _session = session;
        Handle = handle;
        Sql = sql;
        nint raw = handle.Raw;
        StatementType = DuckDbNative.duckdb_prepared_statement_type(raw);
        ParameterCount = checked((int)DuckDbNative.duckdb_nparams(raw));
        ColumnCount = checked((int)DuckDbNative.duckdb_prepared_statement_column_count(raw));
        ReturnsRows = DecideReturnsRows(raw, StatementType, ColumnCount);
    }

    public string Sql { get; }

    internal PreparedHandle Handle { get; }

    internal DuckDbStatementType StatementType { get; }

    internal int ParameterCount { get; }

    internal int ColumnCount { get; }

    internal bool IsDisposed => _disposed;

    public bool ReturnsRows { get; }

    public IReadOnlyList<IArrowType?> ParameterTypes => _parameterTypes ??= ReadParameterTypes();

    public Schema ResultSchema => _resultSchema ??= ReadResultSchema();

    public ValueTask<IQueryResult> ExecuteAsync(ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<IQueryResult>(_session.Execute(this, parameters.Span, ownsStatement: false));
    }

    private IArrowType?[] ReadParameterTypes()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var types = new IArrowType?[ParameterCount];
        if (types.Length == 0)
        {
            return types;
        }

        nint options = 0;
        DuckDbNative.duckdb_connection_get_arrow_options(_session.Connection, &options);
        try
        {
            for (int i = 0; i < types.Length; i++)
            {
                nint type = DuckDbNative.duckdb_param_logical_type(Handle.Raw, (ulong)(i + 1));
                try
                {
                    types[i] = DuckDbArrow.ToArrowType(options, type);
                }
                finally
                {
                    if (type != 0)
                    {
                        DuckDbNative.duckdb_destroy_logical_type(&type);
                    }
                }
            }
        }
        finally
        {
            DuckDbNative.duckdb_destroy_arrow_options(&options);
        }

        return types;
    }

    private Schema ReadResultSchema()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!ReturnsRows)
        {
            return DuckDbArrow.EmptySchema;
        }

        int count = ColumnCount;
        nint[] types = new nint[count];
        nint[] names = new nint[count];
        for (int i = 0; i < count; i++)
        {
            types[i] = DuckDbNative.duckdb_prepared_statement_column_logical_type(Handle.Raw, (ulong)i);
            names[i] = (nint)DuckDbNative.duckdb_prepared_statement_column_name(Handle.Raw, (ulong)i);
        }

        nint options = 0;
        DuckDbNative.duckdb_connection_get_arrow_options(_session.Connection, &options);
        try
        {
            return DuckDbArrow.BuildSchemaAndDestroyTypes(options, types, names);
        }
        finally
        {
            if (options != 0)
            {
                DuckDbNative.duckdb_destroy_arrow_options(&options);
            }
        }
    }

    private static bool DecideReturnsRows(nint prepared, DuckDbStatementType type, int columns)
    {
        if (columns == 0)
        {
            return false;
        }

        switch (type)
        {
            case DuckDbStatementType.Select:
            case DuckDbStatementType.Explain:
            case DuckDbStatementType.Call:
            case DuckDbStatementType.Relation:
            case DuckDbStatementType.LogicalPlan:
                return true;
            case DuckDbStatementType.Insert:
            case DuckDbStatementType.Update:
            case DuckDbStatementType.Delete:
                return !IsSingleColumn(prepared, columns, "Count"u8, DuckDbType.BigInt);
            case DuckDbStatementType.Pragma:
            case DuckDbStatementType.Execute:
            case DuckDbStatementType.Multi:
            case DuckDbStatementType.Extension:
                return !IsSingleColumn(prepared, columns, "Success"u8, DuckDbType.Boolean);
            default:
                return false;
        }
    }

    private static bool IsSingleColumn(nint prepared, int columns, ReadOnlySpan<byte> name, DuckDbType expected)
    {
        if (columns != 1)
        {
            return false;
        }

        nint type = DuckDbNative.duckdb_prepared_statement_column_logical_type(prepared, 0);
        try
        {
            if (type == 0 || DuckDbNative.duckdb_get_type_id(type) != expected)
            {
                return false;
            }
        }
        finally
        {
            if (type != 0)
            {
                DuckDbNative.duckdb_destroy_logical_type(&type);
            }
        }

        byte* actual = DuckDbNative.duckdb_prepared_statement_column_name(prepared, 0);
        return actual != null && MemoryMarshal.CreateReadOnlySpanFromNullTerminated(actual).SequenceEqual(name);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Handle.Dispose();
        _session.OnStatementDisposed(this);
    }
}
