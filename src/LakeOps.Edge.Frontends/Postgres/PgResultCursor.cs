using System.IO.Pipelines;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// A result being sent to the client: the engine's batch stream, the row encoder and the position
/// reached. Simple queries drain it in one go; extended-protocol portals drain it in slices
/// (Execute with a row limit) across several client messages.
/// </summary>
internal sealed class PgResultCursor : IAsyncDisposable
{
    /// <summary>Flush to the socket every this many buffered bytes: bounds memory, keeps rows flowing.</summary>
    private const int FlushThresholdBytes = 64 * 1024;

    private readonly IQueryResult _result;
    private RecordBatch? _batch;
    private int _row;

    public PgResultCursor(IQueryResult result, PgRowEncoder? encoder)
    {
        _result = result;
        Encoder = encoder;
    }

    public PgRowEncoder? Encoder { get; }

    public IQueryResult Result => _result;

    public long RowsSent { get; private set; }

    public bool Exhausted { get; private set; }

    /// <summary>Writes up to <paramref name="maxRows"/> DataRows (0 = all). Returns true when the result is exhausted.</summary>
    public async ValueTask<bool> WriteRowsAsync(PipeWriter output, int maxRows, CancellationToken cancellationToken)
    {
        if (Exhausted || Encoder is null)
        {
            Exhausted = true;
            return true;
        }

        int written = 0;
        while (true)
        {
            if (_batch is null || _row >= _batch.Length)
            {
                _batch = await _result.ReadBatchAsync(cancellationToken).ConfigureAwait(false);
                _row = 0;
                if (_batch is null)
                {
                    Exhausted = true;
                    return true;
                }

                Encoder.Bind(_batch);
            }

            int length = _batch.Length;
            while (_row < length)
            {
                if (maxRows > 0 && written == maxRows)
                {
                    return false;
                }

                Encoder.WriteDataRow(_row, output);
                _row++;
                written++;
                RowsSent++;
                if (output.UnflushedBytes > FlushThresholdBytes)
                {
                    FlushResult flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flush.IsCanceled || flush.IsCompleted)
                    {
                        throw new IOException("the client stopped reading");
                    }
                }
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _batch = null;
        return _result.DisposeAsync();
    }
}

/// <summary>A result computed by the gateway itself (emulated catalog rows, SHOW of a gateway parameter).</summary>
internal sealed class InMemoryResult : IQueryResult
{
    private RecordBatch? _batch;

    public InMemoryResult(Schema schema, RecordBatch? batch)
    {
        Schema = schema;
        _batch = batch;
    }

    public Schema Schema { get; }

    public bool ReturnsRows => true;

    public long RowsAffected => -1;

    public ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        RecordBatch? next = _batch;
        _batch = null;
        return ValueTask.FromResult(next);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
