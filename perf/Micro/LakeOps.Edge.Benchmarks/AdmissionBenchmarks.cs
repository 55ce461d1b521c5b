using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// Admit + release on one <see cref="AdmissionGate"/>. Budget: uncontended a few ns and 0 bytes.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AdmissionBenchmarks
{
    private AdmissionGate _gate = null!;

    [GlobalSetup]
    public void Setup() => _gate = new AdmissionGate(AdmissionScope.Group, "bench", 8, 64, TimeSpan.FromSeconds(30));

    /// <summary>The fast path: one CAS to admit, one to release.</summary>
    [Benchmark(Baseline = true)]
    public void TryAdmit_and_release()
    {
        _gate.TryAdmit(out AdmissionTicket ticket);
        ticket.Dispose();
    }

    /// <summary>The ValueTask entry point when there is room (completes synchronously).</summary>
    [Benchmark]
    public void AdmitAsync_and_release()
    {
        ValueTask<AdmissionResult> pending = _gate.AdmitAsync();
        pending.Result.Ticket.Dispose();
    }
}

/// <summary>
/// Admit + release from 2, 4 and 16 concurrent async workers on one gate; wall time per admission (all workers together).
/// MaxRunning 8 is the limit (16 workers queue when a holder is preempted); 1024 never queues,
/// so it measures the CAS under contention alone.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class AdmissionContentionBenchmarks
{
    // Admissions per invocation, split among the workers: the result is wall time per admission.
    private const int Admissions = 96_000;

    private AdmissionGate _gate = null!;
    private Task[] _workers = null!;

    [Params(2, 4, 16)]
    public int Workers { get; set; }

    [Params(8, 1024)]
    public int MaxRunning { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gate = new AdmissionGate(AdmissionScope.Group, "bench", MaxRunning, 64, TimeSpan.FromSeconds(30));
        _workers = new Task[Workers];
    }

    [Benchmark(OperationsPerInvoke = Admissions)]
    public void Admit_and_release()
    {
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(Work);
        }

        Task.WaitAll(_workers);
    }

    private async Task Work()
    {
        AdmissionGate gate = _gate;
        int count = Admissions / Workers;
        for (int i = 0; i < count; i++)
        {
            AdmissionResult result = await gate.AdmitAsync().ConfigureAwait(false);
            result.Ticket.Dispose();
        }
    }
}
