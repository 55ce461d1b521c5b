using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Pooling;

namespace LakeOps.Edge.Engines.Tests.Pooling;

public sealed class ConnectionPoolTests
{
    [Fact]
    public async Task ReusesTheMostRecentlyReturnedConnection()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 4 });

        TestConnection a = await pool.RentAsync(default);
        TestConnection b = await pool.RentAsync(default);
        pool.Return(a);
        pool.Return(b);

        Assert.Same(b, await pool.RentAsync(default));
        Assert.Same(a, await pool.RentAsync(default));
        Assert.Equal(2, factory.Opened);
    }

    [Fact]
    public async Task FastPathCompletesSynchronously()
    {
        var clock = new ManualClock();
        await using var pool = NewPool(new Factory(), clock, new PoolOptions { MaxSize = 1 });
        pool.Return(await pool.RentAsync(default));

        ValueTask<TestConnection> rent = pool.RentAsync(default);

        Assert.True(rent.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task BorrowerBeyondMaxSizeWaitsForAReturn()
    {
        var clock = new ManualClock();
        await using var pool = NewPool(new Factory(), clock, new PoolOptions { MaxSize = 1, ConnectTimeout = TimeSpan.FromSeconds(30) });
        TestConnection first = await pool.RentAsync(default);

        ValueTask<TestConnection> second = pool.RentAsync(default);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, pool.Statistics.Waiting);

        pool.Return(first);
        Assert.Same(first, await second);
    }

    [Fact]
    public async Task FullPoolTimesOutWithANamedError()
    {
        var clock = new ManualClock();
        await using var pool = NewPool(new Factory(), clock, new PoolOptions { MaxSize = 1, ConnectTimeout = TimeSpan.FromMilliseconds(50) });
        _ = await pool.RentAsync(default);

        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await pool.RentAsync(default));

        Assert.Equal(SqlStates.TooManyConnections, error.SqlState);
        Assert.Contains("cluster 'c1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("pool.max_size", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokenConnectionIsClosedAndReplaced()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 1 });
        TestConnection broken = await pool.RentAsync(default);
        broken.IsBroken = true;
        pool.Return(broken);

        TestConnection next = await pool.RentAsync(default);

        Assert.NotSame(broken, next);
        Assert.True(broken.Disposed.Task.IsCompleted);
        Assert.Equal(2, factory.Opened);
    }

    [Fact]
    public async Task AfterABrokenReturnEveryConnectionIdleSinceBeforeItIsPingedOnce()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 3, HealthCheckAfterIdle = TimeSpan.FromMinutes(10) });
        TestConnection a = await pool.RentAsync(default);
        TestConnection b = await pool.RentAsync(default);
        TestConnection c = await pool.RentAsync(default);
        pool.Return(a);
        pool.Return(b);
        clock.Advance(TimeSpan.FromSeconds(1));

        // The server went away: c failed in use; a and b sit idle, dead without a sign.
        a.PingResult = false;
        b.PingResult = false;
        c.IsBroken = true;
        pool.Return(c);

        TestConnection next = await pool.RentAsync(default);
        Assert.Equal(1, b.Pings);
        Assert.Equal(1, a.Pings);
        Assert.NotSame(a, next);
        Assert.NotSame(b, next);
        Assert.True(a.Disposed.Task.IsCompleted);
        Assert.Equal(4, factory.Opened);

        // Connections given back after the failure are lent without a ping.
        pool.Return(next);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Same(next, await pool.RentAsync(default));
        Assert.Equal(0, next.Pings);
    }

    [Fact]
    public async Task ConnectionIdleLongerThanTheThresholdIsPingedAndReplacedWhenDead()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 2, HealthCheckAfterIdle = TimeSpan.FromSeconds(30) });
        TestConnection a = await pool.RentAsync(default);
        pool.Return(a);

        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Same(a, await pool.RentAsync(default));
        Assert.Equal(0, a.Pings);
        pool.Return(a);

        clock.Advance(TimeSpan.FromSeconds(31));
        a.PingResult = false;
        TestConnection b = await pool.RentAsync(default);

        Assert.Equal(1, a.Pings);
        Assert.NotSame(a, b);
        Assert.True(a.Disposed.Task.IsCompleted);
    }

    [Fact]
    public async Task ConnectionPastMaxLifetimeIsClosedOnReturn()
    {
        var clock = new ManualClock();
        await using var pool = NewPool(new Factory(), clock, new PoolOptions { MaxSize = 2, MaxLifetime = TimeSpan.FromMinutes(10) });
        TestConnection old = await pool.RentAsync(default);
        clock.Advance(TimeSpan.FromMinutes(11));
        pool.Return(old);

        Assert.True(old.Disposed.Task.IsCompleted);
        Assert.Equal(0, pool.Statistics.Idle);
    }

    [Fact]
    public async Task ReaperClosesIdleConnectionsAboveMinSize()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MinSize = 1, MaxSize = 4, IdleTimeout = TimeSpan.FromMinutes(1), MaxLifetime = TimeSpan.Zero });
        TestConnection a = await pool.RentAsync(default);
        TestConnection b = await pool.RentAsync(default);
        TestConnection c = await pool.RentAsync(default);
        pool.Return(a);
        pool.Return(b);
        pool.Return(c);

        clock.Advance(TimeSpan.FromMinutes(2));
        pool.Reap();

        // The oldest returned go first, and min_size connections stay.
        Assert.True(a.Disposed.Task.IsCompleted);
        Assert.True(b.Disposed.Task.IsCompleted);
        Assert.False(c.Disposed.Task.IsCompleted);
        Assert.Equal(new PoolStatistics(1, 0, 0, 3, 2), pool.Statistics);
    }

    [Fact]
    public async Task WarmUpOpensMinSize()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MinSize = 3, MaxSize = 4 });

        await pool.WarmUpAsync(default);

        Assert.Equal(3, factory.Opened);
        Assert.Equal(3, pool.Statistics.Idle);
    }

    [Fact]
    public async Task WarmUpFailureIsNotFatal()
    {
        var clock = new ManualClock();
        var factory = new Factory { Fail = true };
        await using var pool = NewPool(factory, clock, new PoolOptions { MinSize = 2, MaxSize = 4 });

        await pool.WarmUpAsync(default);

        Assert.Equal(0, pool.Statistics.Idle);
    }

    [Fact]
    public async Task ConnectFailureReleasesTheSlot()
    {
        var clock = new ManualClock();
        var factory = new Factory { Fail = true };
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 1 });

        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await pool.RentAsync(default));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);

        factory.Fail = false;
        TestConnection connection = await pool.RentAsync(default);
        Assert.NotNull(connection);
    }

    [Fact]
    public async Task ConnectThatHangsTimesOutAsConnectionFailure()
    {
        var clock = new ManualClock();
        var factory = new Factory { Hang = true };
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 1, ConnectTimeout = TimeSpan.FromMilliseconds(50) });

        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await pool.RentAsync(default));

        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("pool.connect_timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeClosesIdleAndLaterReturnedConnections()
    {
        var clock = new ManualClock();
        var pool = NewPool(new Factory(), clock, new PoolOptions { MaxSize = 2 });
        TestConnection idle = await pool.RentAsync(default);
        TestConnection lent = await pool.RentAsync(default);
        pool.Return(idle);

        await pool.DisposeAsync();
        Assert.True(idle.Disposed.Task.IsCompleted);

        pool.Return(lent);
        Assert.True(lent.Disposed.Task.IsCompleted);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.RentAsync(default));
    }

    [Fact]
    public async Task ConcurrentBorrowersNeverExceedMaxSize()
    {
        var clock = new ManualClock();
        var factory = new Factory();
        await using var pool = NewPool(factory, clock, new PoolOptions { MaxSize = 3, ConnectTimeout = TimeSpan.FromSeconds(30) });
        int inUse = 0;
        int peak = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                TestConnection connection = await pool.RentAsync(default);
                int now = Interlocked.Increment(ref inUse);
                InterlockedMax(ref peak, now);
                await Task.Yield();
                Interlocked.Decrement(ref inUse);
                pool.Return(connection);
            }
        })));

        Assert.InRange(peak, 1, 3);
        Assert.InRange(factory.Opened, 1, 3);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static ConnectionPool<TestConnection> NewPool(Factory factory, ManualClock clock, PoolOptions options) =>
        new("c1", options, factory.ConnectAsync, clock);

    private sealed class Factory
    {
        private int _opened;

        public bool Fail { get; set; }

        public bool Hang { get; set; }

        public int Opened => Volatile.Read(ref _opened);

        public async ValueTask<TestConnection> ConnectAsync(CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (Fail)
            {
                throw new EngineException("cluster 'c1': cannot connect to 127.0.0.1:1: refused", SqlStates.ConnectionFailure);
            }

            Interlocked.Increment(ref _opened);
            return new TestConnection();
        }
    }

    private sealed class TestConnection : IPooledConnection
    {
        public bool IsBroken { get; set; }

        public bool PingResult { get; set; } = true;

        public int Pings { get; private set; }

        public TaskCompletionSource Disposed { get; } = new();

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken)
        {
            Pings++;
            return ValueTask.FromResult(PingResult);
        }

        public ValueTask DisposeAsync()
        {
            Disposed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A clock the test moves by hand; timers never fire on their own (the tests call Reap).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
