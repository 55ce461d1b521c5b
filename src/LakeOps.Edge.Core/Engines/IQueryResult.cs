using Apache.Arrow;

namespace LakeOps.Edge.Core.Engines;

/// <summary>
/// The result of one statement, streamed as Arrow record batches. Only one batch is alive at a
/// time: a batch is valid until the next <see cref="ReadBatchAsync"/> or disposal, which lets
/// engines hand out batches over their own (native) buffers.
/// </summary>
public interface IQueryResult : IAsyncDisposable
{
    /// <summary>The row schema; empty when the statement returns no rows.</summary>
    Schema Schema { get; }

    bool ReturnsRows { get; }

    /// <summary>The next batch, or <c>null</c> at the end of the result.</summary>
    ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken);

    /// <summary>Rows inserted, updated or deleted; -1 when not applicable. Valid after the last batch.</summary>
    long RowsAffected { get; }
}

/// <summary>An engine error that keeps the engine's own message and, when known, a SQLSTATE.</summary>
public sealed class EngineException : Exception
{
    public EngineException(string message, string sqlState = SqlStates.InternalError, Exception? inner = null)
        : base(message, inner) => SqlState = sqlState;

    public EngineException() : this("engine error") { }

    public EngineException(string message) : this(message, SqlStates.InternalError) { }

    public EngineException(string message, Exception inner) : this(message, SqlStates.InternalError, inner) { }

    /// <summary>Five-character SQLSTATE that best describes the error.</summary>
    public string SqlState { get; }
}
