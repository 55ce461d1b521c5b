using System.Diagnostics;
using LakeOps.Edge.Routing.Admission;
using Xunit.Abstractions;

namespace LakeOps.Edge.Routing.Tests.Admission;

/// <summary>
/// Many threads hammer one gate: the running count never exceeds the limit, every admission is
/// accounted for, and queued waiters are handed slots in the order they queued.
/// </summary>
public class AdmissionStressTests(ITestOutputHelper output)
{
    private const int Workers = 64;
    private const int MaxRunning = 8;

    /// <summary>64 OS threads (real preemption while holding a slot); every queued hand-off wakes a blocked thread.</summary>
    [Fact]
    public void Sixty_four_threads_never_exceed_max_running_and_keep_fifo_order() => RunThreads(admissionsPerThread: 2_000);

    /// <summary>
    /// The full size on OS threads: 64 threads x 100,000 admissions (3 min 42 s on the 2-core build machine:
    /// every hand-off wakes a blocked thread). Not part of <c>./build.sh test</c>; run it with
    /// <c>dotnet test tests/LakeOps.Edge.Routing.Tests -c Release --filter Category=Stress</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Stress")]
    public void Sixty_four_threads_never_exceed_max_running_and_keep_fifo_order_full_size() => RunThreads(admissionsPerThread: 100_000);

    /// <summary>
    /// 64 concurrent async workers (how sessions use the gate): hand-offs resume workers on the thread pool
    /// instead of waking blocked threads.
    /// </summary>
    [Fact]
    public Task Sixty_four_async_workers_never_exceed_max_running_and_keep_fifo_order() => RunAsyncWorkers(admissionsPerWorker: 20_000);

    /// <summary>
    /// The full size with async workers: 64 x 100,000 (13 s on the 2-core build machine), run by default.
    /// </summary>
    [Fact]
    public Task Sixty_four_async_workers_never_exceed_max_running_and_keep_fifo_order_full_size() => RunAsyncWorkers(admissionsPerWorker: 100_000);

    [Fact]
    public async Task Cancellations_and_timeouts_under_load_lose_nothing()
    {
        // Real time, a short queue timeout, and a quarter of the waiters cancelled while they wait.
        var gate = new AdmissionGate(AdmissionScope.Group, "stress", MaxRunning, Workers, TimeSpan.FromMilliseconds(1));
        const int PerWorker = 2_000;
        var counters = new Counters();
        long cancelled = 0;
        long timedOut = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int seed = w;
            workers[w] = Task.Run(async () =>
            {
                await start.Task;
                var random = new Random(seed);
                for (int i = 0; i < PerWorker; i++)
                {
                    using var cts = new CancellationTokenSource();
                    ValueTask<AdmissionResult> pending = gate.AdmitAsync(cts.Token);
                    if (random.Next(4) == 0)
                    {
                        cts.Cancel();
                    }

                    AdmissionResult result = await pending;
                    switch (result.Outcome)
                    {
                        case AdmissionOutcome.Admitted:
                            counters.Enter(gate);
                            await Hold(random);
                            counters.Leave(result);
                            break;
                        case AdmissionOutcome.Cancelled:
                            Interlocked.Increment(ref cancelled);
                            break;
                        case AdmissionOutcome.TimedOut:
                            Interlocked.Increment(ref timedOut);
                            break;
                        default:
                            Assert.Fail($"unexpected {result.Outcome}: {result}");
                            break;
                    }
                }
            });
        }

        start.SetResult();
        await WaitAll(workers, Deadline(PerWorker), gate);

        Assert.InRange(counters.MaxInside, 1, MaxRunning);
        Assert.Equal(Workers * PerWorker, counters.Admitted + cancelled + timedOut);
        Assert.True(cancelled > 0, "no waiter was cancelled while it waited; the test did not test that");
        Assert.Equal(0, gate.Running);
        Assert.Equal(0, gate.Queued);
        output.WriteLine($"admitted {counters.Admitted}, cancelled {cancelled}, timed out {timedOut}");
    }

    private void RunThreads(int admissionsPerThread)
    {
        var gate = new AdmissionGate(AdmissionScope.Group, "stress", MaxRunning, Workers, TimeSpan.FromDays(1));
        var counters = new Counters();
        using var start = new ManualResetEventSlim();
        var threads = new Thread[Workers];
        for (int t = 0; t < Workers; t++)
        {
            int seed = t;
            threads[t] = new Thread(() =>
            {
                start.Wait();
                var random = new Random(seed);
                for (int i = 0; i < admissionsPerThread; i++)
                {
                    ValueTask<AdmissionResult> pending = gate.AdmitAsync();

                    // Blocks this dedicated thread until decided (continuations run on the pool).
                    AdmissionResult result = pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
                    Assert.Equal(AdmissionOutcome.Admitted, result.Outcome);
                    counters.Enter(gate);

                    // Sometimes give the CPU away while holding the slot, so that the others queue.
                    if (random.Next(8) == 0)
                    {
                        Thread.Yield();
                    }
                    else
                    {
                        Thread.SpinWait(random.Next(20));
                    }

                    counters.Leave(result);
                }
            });
        }

        var clock = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        start.Set();
        foreach (Thread thread in threads)
        {
            // A lost wake-up would leave a waiter queued forever: fail instead of hanging.
            Assert.True(thread.Join(Deadline(admissionsPerThread)), $"a thread is stuck; gate: {gate}");
        }

        Check(gate, counters, (long)Workers * admissionsPerThread, clock.Elapsed, "threads");
    }

    private async Task RunAsyncWorkers(int admissionsPerWorker)
    {
        var gate = new AdmissionGate(AdmissionScope.Group, "stress", MaxRunning, Workers, TimeSpan.FromDays(1));
        var counters = new Counters();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int seed = w;
            workers[w] = Task.Run(async () =>
            {
                await start.Task;
                var random = new Random(seed);
                for (int i = 0; i < admissionsPerWorker; i++)
                {
                    AdmissionResult result = await gate.AdmitAsync();
                    Assert.Equal(AdmissionOutcome.Admitted, result.Outcome);
                    counters.Enter(gate);
                    await Hold(random);
                    counters.Leave(result);
                }
            });
        }

        var clock = Stopwatch.StartNew();
        start.SetResult();
        await WaitAll(workers, Deadline(admissionsPerWorker), gate);
        Check(gate, counters, (long)Workers * admissionsPerWorker, clock.Elapsed, "async workers");
    }

    // Generous limits (the full size takes about 4 minutes on 2 busy cores); only a hang should hit them.
    private static TimeSpan Deadline(int perWorker) => TimeSpan.FromMinutes(perWorker >= 100_000 ? 20 : 3);

    private static async Task WaitAll(Task[] workers, TimeSpan deadline, AdmissionGate gate)
    {
        try
        {
            await Task.WhenAll(workers).WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"workers are stuck after {deadline}; gate: {gate}");
        }
    }

    // Holding a slot: mostly a little CPU, sometimes a yield so other workers run (and queue) meanwhile.
    private static async ValueTask Hold(Random random)
    {
        if (random.Next(8) == 0)
        {
            await Task.Yield();
        }
        else
        {
            Thread.SpinWait(random.Next(20));
        }
    }

    private void Check(AdmissionGate gate, Counters counters, long expected, TimeSpan elapsed, string what)
    {
        Assert.InRange(counters.MaxInside, 1, MaxRunning);
        Assert.Equal(expected, counters.Admitted);
        Assert.Equal(0, gate.Running);
        Assert.Equal(0, gate.Queued);

        // FIFO: sorted by the order they queued, waiters got their slots in the same order, and every
        // queued waiter got exactly one (nothing times out here).
        List<(long Sequence, long HandOff)> all = counters.Queued();
        all.Sort();
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal(i + 1, all[i].Sequence);
            Assert.Equal(i + 1, all[i].HandOff);
        }

        Assert.True(all.Count > 0, "nobody ever waited; the test did not exercise the queue");
        output.WriteLine($"{Workers} {what}, {expected:N0} admissions in {elapsed.TotalSeconds:0.00} s; {all.Count:N0} waited in the queue");
    }

    private sealed class Counters
    {
        private readonly Lock _lock = new();
        private readonly List<(long Sequence, long HandOff)> _queued = [];
        private int _inside;
        private int _maxInside;
        private long _admitted;

        public int MaxInside => Volatile.Read(ref _maxInside);

        public long Admitted => Interlocked.Read(ref _admitted);

        public void Enter(AdmissionGate gate)
        {
            int now = Interlocked.Increment(ref _inside);
            Assert.True(now <= MaxRunning, $"{now} running with max_running {MaxRunning}");
            Assert.True(gate.Running <= MaxRunning, $"gate counts {gate.Running} running");
            int seen;
            while (now > (seen = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, now, seen) != seen)
            {
            }
        }

        public void Leave(AdmissionResult result)
        {
            if (result.Sequence != 0)
            {
                lock (_lock)
                {
                    _queued.Add((result.Sequence, result.HandOff));
                }
            }

            Interlocked.Decrement(ref _inside);
            result.Ticket.Dispose();
            Interlocked.Increment(ref _admitted);
        }

        public List<(long Sequence, long HandOff)> Queued()
        {
            lock (_lock)
            {
                return [.. _queued];
            }
        }
    }
}
