using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// Picking a cluster among 3 healthy members, per strategy, and reporting a success. Budget: 0 bytes
/// allocated per pick and per report; a pick well under 100 ns.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ClusterPickerBenchmarks
{
    private ClusterPicker _picker = null!;
    private GroupConfig _group = null!;
    private ClusterHealth _health = null!;

    [Params(BalancingStrategy.RoundRobin, BalancingStrategy.Weighted, BalancingStrategy.LeastLoaded, BalancingStrategy.LatencyAware, BalancingStrategy.Failover)]
    public BalancingStrategy Strategy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var registry = new ClusterHealthRegistry();
        _picker = new ClusterPicker(registry);
        _group = new GroupConfig
        {
            Name = "g",
            Clusters = ["pg1", "pg2", "pg3"],
            Balancing = Strategy,
            Weights = Strategy == BalancingStrategy.Weighted ? [70, 20, 10] : [],
        };
        registry.Get("pg1").ReportSuccess(TimeSpan.FromMilliseconds(3));
        registry.Get("pg2").ReportSuccess(TimeSpan.FromMilliseconds(2));
        registry.Get("pg3").ReportSuccess(TimeSpan.FromMilliseconds(4));
        _health = registry.Get("pg1");
    }

    [Benchmark]
    public string? Pick() => _picker.Pick(_group).Cluster;

    [Benchmark]
    public string? PickExcluding() => _picker.Pick(_group, "pg2").Cluster;

    /// <summary>The passive signal of every successful query (independent of the strategy).</summary>
    [Benchmark]
    public void ReportSuccess() => _health.ReportSuccess(TimeSpan.FromMilliseconds(2));
}
