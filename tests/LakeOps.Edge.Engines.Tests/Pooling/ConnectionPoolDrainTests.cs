using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Engines.Pooling;

namespace LakeOps.Edge.Engines.Tests.Pooling;

/// <summary><see cref="ConnectionPool{T}.Drain"/>: what a reload does to the pool of a removed or replaced cluster.</summary>
public sealed class ConnectionPoolDrainTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DrainClosesIdleConnectionsNowAndLentOnesWhenReturned()
    {
        var opened = new List<Connection>();
        await using var pool = new ConnectionPool<Connection>("c", new PoolOptions { MaxSize = 4 }, _ =>
        {
            var connection = new Connection();
            opened.Add(connection);
            return ValueTask.FromResult(connection);
        });
        Connection idle = await pool.RentAsync(default);
        Connection lent = await pool.RentAsync(default);
        pool.Return(idle);

        pool.Drain();

        await idle.Closed.Task.WaitAsync(Deadline);
        Assert.False(lent.Closed.Task.IsCompleted);
        Assert.Equal(new PoolStatistics(0, 1, 0, 2, 1), pool.Statistics);

        pool.Return(lent);
        await lent.Closed.Task.WaitAsync(Deadline);
        Assert.Equal(0, pool.Statistics.Idle);
        Assert.Equal(0, pool.Statistics.InUse);
    }

    [Fact]
    public async Task DrainingPoolStillLendsButKeepsNothing()
    {
        await using var pool = new ConnectionPool<Connection>("c", new PoolOptions { MaxSize = 2, MinSize = 1 }, _ => ValueTask.FromResult(new Connection()));
        await pool.WarmUpAsync(default);
        Assert.Equal(1, pool.Statistics.Idle);

        pool.Drain();
        await pool.WarmUpAsync(default);
        Assert.Equal(0, pool.Statistics.Idle);

        Connection borrowed = await pool.RentAsync(default);
        pool.Return(borrowed);
        await borrowed.Closed.Task.WaitAsync(Deadline);
        Assert.Equal(0, pool.Statistics.Idle);
    }

    private sealed class Connection : IPooledConnection
    {
        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsBroken => false;

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask DisposeAsync()
        {
            Closed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
