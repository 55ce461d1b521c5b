using Apache.Arrow;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Frontends.Admission;

/// <summary>
/// A row-returning result that keeps its statement's admission slots while it streams: disposing it
/// releases them (once), and disposes a statement prepared only for this execution (a spilled one).
/// </summary>
internal sealed class AdmittedResult : IQueryResult
{
    private readonly IQueryResult _inner;
    private readonly IDisposable? _owned;
    private StatementLease _lease;
    private int _disposed;

    public AdmittedResult(IQueryResult inner, StatementLease lease, IDisposable? owned)
    {
        _inner = inner;
        _lease = lease;
        _owned = owned;
    }

    public Schema Schema => _inner.Schema;

    public bool ReturnsRows => _inner.ReturnsRows;

    public long RowsAffected => _inner.RowsAffected;

    public ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken) => _inner.ReadBatchAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _owned?.Dispose();
            _lease.Dispose();
        }
    }
}
