using System.Diagnostics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge;

/// <summary>
/// Gives memory back to the OS once a burst is over. After a burst (thousands of logins, a large result)
/// the GC keeps the memory the burst needed committed, ready for the next one; for a gateway that then
/// holds thousands of idle connections that is most of its RSS. When the process allocated less than
/// <see cref="QuietAllocationBytes"/> during a whole <c>server.memory_trim</c> period and its resident memory
/// grew by <see cref="MinGrowthBytes"/> since the last trim, one aggressive full collection compacts the heap
/// and decommits the free space (tens of milliseconds for 5,000 idle sessions). A busy process is never
/// paused by it. Resident memory, not the GC's own figure, measures the growth: the GC reports what it had
/// committed at its last collection, which may predate the end of the burst.
/// </summary>
internal sealed class MemoryTrimmer : IAsyncDisposable
{
    /// <summary>Less than this allocated in a period means the process is quiet.</summary>
    internal const long QuietAllocationBytes = 1L << 20;

    /// <summary>Growth of resident memory since the last trim that is worth a trim.</summary>
    internal const long MinGrowthBytes = 4L << 20;

    private static readonly TimeSpan RecheckWhenOff = TimeSpan.FromSeconds(5);

    private readonly ConfigStore _config;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _residentAfterTrim;

    public MemoryTrimmer(ConfigStore config) => _config = config;

    /// <summary>The decision, apart from the clock and the GC so that it can be tested.</summary>
    internal static bool ShouldTrim(long allocatedInPeriod, long residentNow, long residentAfterLastTrim) =>
        allocatedInPeriod < QuietAllocationBytes && residentNow - residentAfterLastTrim >= MinGrowthBytes;

    public void Start()
    {
        _residentAfterTrim = Environment.WorkingSet;
        _loop = RunAsync(_stop.Token);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        long allocatedBefore = GC.GetTotalAllocatedBytes();
        while (!cancellationToken.IsCancellationRequested)
        {
            // Read every period: a reload changes it (0 turns trimming off).
            TimeSpan period = _config.Current.Server.MemoryTrim;
            bool enabled = period > TimeSpan.Zero;
            await Task.Delay(enabled ? period : RecheckWhenOff, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            long allocatedNow = GC.GetTotalAllocatedBytes();
            if (enabled && !cancellationToken.IsCancellationRequested && ShouldTrim(allocatedNow - allocatedBefore, Environment.WorkingSet, _residentAfterTrim))
            {
                Trim();
                allocatedNow = GC.GetTotalAllocatedBytes();
            }

            allocatedBefore = allocatedNow;
        }
    }

    private void Trim()
    {
        long residentBefore = Environment.WorkingSet;
        long started = Stopwatch.GetTimestamp();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        TimeSpan pause = Stopwatch.GetElapsedTime(started);
        _residentAfterTrim = Environment.WorkingSet;
        Log.Info(EventId.MemoryTrimmed, $"memory trim: resident {Megabytes(residentBefore)} -> {Megabytes(_residentAfterTrim)} MB, GC heap {Megabytes(GC.GetGCMemoryInfo().HeapSizeBytes)} MB, in {pause.TotalMilliseconds:0.0} ms after a quiet {_config.Current.Server.MemoryTrim.TotalSeconds:0.#} s");
    }

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
