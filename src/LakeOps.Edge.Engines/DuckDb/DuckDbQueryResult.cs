using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// A streaming DuckDB result. Each <see cref="ReadBatchAsync"/> fetches the next DuckDB data chunk
/// (up to 2048 rows), has DuckDB convert it into an Arrow C array, and imports that without copying.
/// The result never holds more than one chunk; the previous batch is released on the next read or
/// on disposal. Statements that change rows report the count DuckDB returns as <see cref="RowsAffected"/>.
/// </summary>
internal sealed unsafe class DuckDbQueryResult : IQueryResult
{
    private readonly DuckDbSession _session;
    private DuckDbPreparedStatement? _ownedStatement;
    private DuckDbResult* _result;
    private nint _arrowOptions;
    private CArrowArray* _array;
    private RecordBatch? _current;
    private bool _countRows;
    private bool _closed;
    private bool _closedBySession;

    internal DuckDbQueryResult(DuckDbSession session, DuckDbPreparedStatement? ownedStatement)
    {
        _session = session;
        _ownedStatement = ownedStatement;
        _result = (DuckDbResult*)NativeMemory.AllocZeroed((nuint)sizeof(DuckDbResult));
    }

    /// <summary>The duckdb_result this object owns (destroyed on close).</summary>
    internal DuckDbResult* Native => _result;

    public Schema Schema { get; private set; } = DuckDbArrow.EmptySchema;

    public bool ReturnsRows { get; private set; }

    public long RowsAffected { get; private set; } = -1;

    /// <summary>Reads what kind of result DuckDB produced; row-count and empty results close at once.</summary>
    /// <param name="statementReturnsRows">The statement's <see cref="DuckDbPreparedStatement.ReturnsRows"/>;
    /// a result it classifies as returning no rows (e.g. a PRAGMA's "Success" row) is drained, so
    /// statement and result always agree.</param>
    internal void Start(bool statementReturnsRows)
    {
        DuckDbResultType kind = DuckDbNative.duckdb_result_return_type(*_result);
        if (kind == DuckDbResultType.QueryResult && statementReturnsRows)
        {
            ReturnsRows = true;
            _arrowOptions = DuckDbNative.duckdb_result_get_arrow_options(_result);
            Schema = ReadSchema();
            _array = CArrowArray.Create();
            DuckDbStatementType statement = DuckDbNative.duckdb_result_statement_type(*_result);
            if (statement is DuckDbStatementType.Insert or DuckDbStatementType.Update or DuckDbStatementType.Delete)
            {
                // RETURNING: the rows returned are the rows changed.
                _countRows = true;
                RowsAffected = 0;
            }

            return;
        }

        if (kind == DuckDbResultType.ChangedRows)
        {
            RowsAffected = ReadChangedRows();
        }
        else if (kind == DuckDbResultType.QueryResult)
        {
            Drain();
        }

        Close();
    }

    public ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        _current?.Dispose();
        _current = null;
        if (_closed)
        {
            if (_closedBySession)
            {
                throw new InvalidOperationException("the result was closed because the session started another statement or closed");
            }

            return new ValueTask<RecordBatch?>((RecordBatch?)null);
        }

        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            nint chunk = DuckDbNative.duckdb_fetch_chunk(*_result);
            if (chunk == 0)
            {
                EngineException? error = ResultError();
                Close();
                return error is null ? new ValueTask<RecordBatch?>((RecordBatch?)null) : throw error;
            }

            nint error2;
            try
            {
                if (DuckDbNative.duckdb_data_chunk_get_size(chunk) == 0)
                {
                    continue;
                }

                error2 = DuckDbNative.duckdb_data_chunk_to_arrow(_arrowOptions, chunk, _array);
            }
            finally
            {
                DuckDbNative.duckdb_destroy_data_chunk(&chunk);
            }

            if (error2 != 0)
            {
                Close();
                throw DuckDbArrow.TakeError(error2);
            }

            // The importer moves the array out of _array, so the struct can be reused for the next chunk.
            RecordBatch batch = CArrowArrayImporter.ImportRecordBatch(_array, Schema);
            if (_countRows)
            {
                RowsAffected += batch.Length;
            }

            _current = batch;
            return new ValueTask<RecordBatch?>(batch);
        }
    }

    /// <summary>The error stored in the result (after a failed execute or fetch), or null.</summary>
    internal EngineException? ResultError()
    {
        string? message = Utf8.Read(DuckDbNative.duckdb_result_error(_result));
        return message is null ? null : DuckDbErrors.Create(message, DuckDbNative.duckdb_result_error_type(_result));
    }

    internal EngineException TakeError() => ResultError() ?? DuckDbErrors.Create(null);

    private Schema ReadSchema()
    {
        int count = checked((int)DuckDbNative.duckdb_column_count(_result));

        // Runs on every execution: typical column counts need no arrays.
        Span<nint> types = count <= 32 ? stackalloc nint[count] : new nint[count];
        Span<nint> names = count <= 32 ? stackalloc nint[count] : new nint[count];
        for (int i = 0; i < count; i++)
        {
            types[i] = DuckDbNative.duckdb_column_logical_type(_result, (ulong)i);
            names[i] = (nint)DuckDbNative.duckdb_column_name(_result, (ulong)i);
        }

        return DuckDbArrow.BuildSchemaAndDestroyTypes(_arrowOptions, types, names);
    }

    /// <summary>INSERT/UPDATE/DELETE/COPY without RETURNING produce one BIGINT "Count" row.</summary>
    private long ReadChangedRows()
    {
        long count = 0;
        while (true)
        {
            nint chunk = DuckDbNative.duckdb_fetch_chunk(*_result);
            if (chunk == 0)
            {
                EngineException? error = ResultError();
                return error is null ? count : throw error;
            }

            try
            {
                if (DuckDbNative.duckdb_data_chunk_get_size(chunk) > 0)
                {
                    nint vector = DuckDbNative.duckdb_data_chunk_get_vector(chunk, 0);
                    count += *(long*)DuckDbNative.duckdb_vector_get_data(vector);
                }
            }
            finally
            {
                DuckDbNative.duckdb_destroy_data_chunk(&chunk);
            }
        }
    }

    private void Drain()
    {
        while (true)
        {
            nint chunk = DuckDbNative.duckdb_fetch_chunk(*_result);
            if (chunk == 0)
            {
                EngineException? error = ResultError();
                if (error is not null)
                {
                    throw error;
                }

                return;
            }

            DuckDbNative.duckdb_destroy_data_chunk(&chunk);
        }
    }

    /// <summary>The session starts another statement (or closes): this result is invalid from now on.</summary>
    internal void CloseBySession()
    {
        if (!_closed)
        {
            _closedBySession = true;
        }

        _current?.Dispose();
        _current = null;
        Close();
    }

    /// <summary>Releases the native result; the current batch stays valid until the next read or disposal.</summary>
    internal void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_arrowOptions != 0)
        {
            nint options = _arrowOptions;
            _arrowOptions = 0;
            DuckDbNative.duckdb_destroy_arrow_options(&options);
        }

        if (_array != null)
        {
            CArrowArray.Free(_array);
            _array = null;
        }

        if (_result != null)
        {
            DuckDbNative.duckdb_destroy_result(_result);
            NativeMemory.Free(_result);
            _result = null;
        }

        _ownedStatement?.Dispose();
        _ownedStatement = null;
        _session.OnResultClosed(this);
    }

    public ValueTask DisposeAsync()
    {
        _current?.Dispose();
        _current = null;
        Close();
        return ValueTask.CompletedTask;
    }
}
