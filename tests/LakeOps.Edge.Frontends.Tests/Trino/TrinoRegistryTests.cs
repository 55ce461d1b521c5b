using LakeOps.Edge.Frontends.Trino;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary><see cref="TrinoRegistry{T}"/>: reserved slots, removal once, and a stop that waits for a running sweep.</summary>
public sealed class TrinoRegistryTests
{
    [Fact]
    public async Task A_reserved_slot_counts_until_added_or_given_back()
    {
        await using var registry = new TrinoRegistry<Entry>(() => TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan, static (n, _) => $"{n}");
        Assert.True(registry.TryReserve(1));
        Assert.False(registry.TryReserve(1));
        Assert.False(registry.TryAdd(new Entry(), 1));
        registry.Unreserve();
        var entry = new Entry();
        Assert.True(registry.TryAdd(entry, 1));
        Assert.Same(entry, registry.Find(entry.Id));

        await registry.RemoveAsync(entry);
        await registry.RemoveAsync(entry);
        Assert.Equal(1, entry.Disposals);
        Assert.Equal(0, registry.Count);
        Assert.Null(registry.Find(entry.Id));
    }

    [Fact]
    public async Task Dispose_waits_for_the_sweep_that_is_running()
    {
        var entry = new Entry { Abandoned = true, DisposeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var registry = new TrinoRegistry<Entry>(() => TimeSpan.Zero, TimeSpan.FromMilliseconds(10), static (n, _) => $"{n}");
        Assert.True(registry.TryAdd(entry, 10));

        // The timer's sweep claims the entry and is stuck disposing it.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!entry.DisposeStarted.Task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.WhenAny(entry.DisposeStarted.Task, Task.Delay(50));
        }

        Assert.True(entry.DisposeStarted.Task.IsCompleted);
        Task stopping = registry.DisposeAsync().AsTask();
        Assert.False(stopping.IsCompleted);
        entry.DisposeGate.SetResult();
        await stopping;
        Assert.True(entry.SweepEnded);
        Assert.Equal(1, entry.Disposals);
    }

    private sealed class Entry : ITrinoRegistryEntry
    {
        private int _disposals;

        public string Id { get; } = Guid.NewGuid().ToString("N");

        public bool Abandoned { get; init; }

        public TaskCompletionSource? DisposeGate { get; init; }

        public TaskCompletionSource DisposeStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool SweepEnded { get; private set; }

        public int Disposals => Volatile.Read(ref _disposals);

        public bool TryClaimForSweep(TimeSpan timeout) => Abandoned;

        public void EndSweep() => SweepEnded = true;

        public void Stop()
        {
        }

        public async ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref _disposals);
            DisposeStarted.TrySetResult();
            if (DisposeGate is not null)
            {
                await DisposeGate.Task;
            }
        }
    }
}
