using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>A real engine session that records the statements it runs and counts <see cref="Cancel"/> calls.</summary>
internal sealed class RecordingSession(IEngineSession inner) : IEngineSession
{
    private int _cancels;

    public List<string> Statements { get; } = [];

    public int Cancels => Volatile.Read(ref _cancels);

    public ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken) => inner.PrepareAsync(sql, cancellationToken);

    public ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        lock (Statements)
        {
            Statements.Add(sql);
        }

        return inner.ExecuteAsync(sql, cancellationToken);
    }

    public void Cancel()
    {
        Interlocked.Increment(ref _cancels);
        inner.Cancel();
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
