using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Tests.Health;

public class HealthMonitorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static EdgeConfig Config(string clusters)
    {
        string yaml = $$"""
            listeners:
              pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
            clusters:
            {{clusters}}
            groups:
              g: { clusters: [pg1] }
            routing: { default_group: g }
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config;
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        // Polls with a deadline: the probe loops run on the thread pool.
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(1);
        }
    }

    [Fact]
    public async Task A_probe_that_answers_reports_success()
    {
        var registry = new ClusterHealthRegistry(new ManualClock());
        var monitor = new HealthMonitor(registry, _ => null);
        ClusterHealth health = registry.Get("pg1");
        var probe = new FakeProbe();

        Assert.True(await monitor.ProbeOnceAsync(health, probe, new HealthOptions(), CancellationToken.None));

        Assert.Equal(1, probe.Calls);
        Assert.Equal(1, health.Successes);
        Assert.Equal(TimeSpan.Zero, health.AverageLatency);
    }

    [Fact]
    public async Task A_probe_without_answer_times_out_and_is_cancelled()
    {
        var clock = new ManualClock();
        var registry = new ClusterHealthRegistry(clock);
        var monitor = new HealthMonitor(registry, _ => null);
        ClusterHealth health = registry.Get("pg1");
        CancellationToken seen = default;
        var probe = new FakeProbe
        {
            Behavior = token =>
            {
                seen = token;
                return new ValueTask(Task.Delay(Timeout.Infinite, token));
            },
        };

        Task<bool> probing = monitor.ProbeOnceAsync(health, probe, new HealthOptions { ProbeTimeout = TimeSpan.FromSeconds(2) }, CancellationToken.None);
        clock.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(probing.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await probing.WaitAsync(Deadline));
        Assert.True(seen.IsCancellationRequested);
        Assert.Equal(1, health.Failures);
        Assert.Equal("timeout: probe did not answer within 2 s", health.LastFailure);
    }

    [Fact]
    public async Task Probe_errors_are_classified()
    {
        var registry = new ClusterHealthRegistry(new ManualClock());
        var monitor = new HealthMonitor(registry, _ => null);
        ClusterHealth health = registry.Get("pg1");

        var refused = new FakeProbe { Behavior = _ => throw new EngineException("cannot connect", SqlStates.ConnectionFailure) };
        await monitor.ProbeOnceAsync(health, refused, new HealthOptions(), CancellationToken.None);
        Assert.Equal("connect: cannot connect", health.LastFailure);

        var sick = new FakeProbe { Behavior = _ => ValueTask.FromException(new EngineException("shutting down", "57P01")) };
        await monitor.ProbeOnceAsync(health, sick, new HealthOptions(), CancellationToken.None);
        Assert.Equal("server error: shutting down", health.LastFailure);
        Assert.Equal(2, health.Failures);
    }

    [Fact]
    public async Task While_open_no_probe_runs_and_after_the_backoff_the_probe_is_the_trial()
    {
        var clock = new ManualClock();
        var registry = new ClusterHealthRegistry(clock);
        var monitor = new HealthMonitor(registry, _ => null);
        var options = new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1) };
        ClusterHealth health = registry.Get("pg1");
        health.Configure(options, ClusterAdminState.Enabled);
        var probe = new FakeProbe();
        health.ReportFailure(FailureKind.Connect);

        Assert.False(await monitor.ProbeOnceAsync(health, probe, options, CancellationToken.None));
        Assert.Equal(0, probe.Calls);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await monitor.ProbeOnceAsync(health, probe, options, CancellationToken.None));

        Assert.Equal(1, probe.Calls);
        Assert.Equal(BreakerState.Closed, health.Breaker);
    }

    [Fact]
    public async Task No_probe_runs_while_a_query_holds_the_half_open_trial()
    {
        var clock = new ManualClock();
        var registry = new ClusterHealthRegistry(clock);
        var monitor = new HealthMonitor(registry, _ => null);
        var options = new HealthOptions { FailureThreshold = 1 };
        ClusterHealth health = registry.Get("pg1");
        health.Configure(options, ClusterAdminState.Enabled);
        health.ReportFailure(FailureKind.Connect);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(health.TryBeginTrial());
        var probe = new FakeProbe();

        Assert.False(await monitor.ProbeOnceAsync(health, probe, options, CancellationToken.None));
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public async Task Loops_probe_at_once_then_every_interval_and_follow_reloads()
    {
        var clock = new ManualClock();
        var registry = new ClusterHealthRegistry(clock);
        var probes = new List<FakeProbe>();
        var monitor = new HealthMonitor(registry, cluster =>
        {
            var probe = new FakeProbe { Cluster = cluster.Name };
            lock (probes)
            {
                probes.Add(probe);
            }

            return probe;
        });

        monitor.Start(Config("""
              pg1: { engine: duckdb, health: { probe_interval: 5s } }
              pg2: { engine: duckdb, health: { probe_interval: 0 } }
            """));
        Assert.Equal(new[] { "pg1" }, monitor.ProbedClusters);
        FakeProbe first = Assert.Single(probes);
        await WaitUntil(() => first.Calls == 1 && clock.PendingTimers == 1, "the first probe ran and the loop waits");

        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, first.Calls);
        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => first.Calls == 2 && clock.PendingTimers == 1, "the second probe");
        Assert.Equal(2, registry.Get("pg1").Successes);

        // Only the admin state changed: the loop and its probe stay.
        monitor.Reconfigure(Config("""
              pg1: { engine: duckdb, state: draining, health: { probe_interval: 5s } }
              pg2: { engine: duckdb, health: { probe_interval: 0 } }
            """));
        Assert.Single(probes);
        Assert.Equal(ClusterState.Draining, registry.Get("pg1").State);

        // A new interval restarts the loop with a new probe; the old one is disposed.
        monitor.Reconfigure(Config("""
              pg1: { engine: duckdb, health: { probe_interval: 10s } }
              pg2: { engine: duckdb, health: { probe_interval: 1s } }
            """));
        await WaitUntil(() => first.Disposed, "the old probe is disposed");
        Assert.Equal(3, probes.Count);
        Assert.Equal(new[] { "pg1", "pg2" }, monitor.ProbedClusters.Order());
        FakeProbe pg1 = probes.Last(p => p.Cluster == "pg1");
        FakeProbe pg2 = probes.Single(p => p.Cluster == "pg2");
        Assert.NotSame(first, pg1);
        await WaitUntil(() => pg1.Calls == 1 && pg2.Calls == 1 && clock.PendingTimers == 2, "the new loops probed once");
        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => pg2.Calls == 2, "pg2 probes every second");
        Assert.Equal(1, pg1.Calls);

        // Removed clusters stop being probed and leave the registry.
        monitor.Reconfigure(Config("""
              pg1: { engine: duckdb, health: { probe_interval: 10s } }
            """));
        await WaitUntil(() => pg2.Disposed, "pg2's probe is disposed");
        Assert.Equal(new[] { "pg1" }, monitor.ProbedClusters);
        Assert.False(registry.TryGet("pg2", out _));

        await monitor.StopAsync();
        Assert.All(probes, probe => Assert.True(probe.Disposed));
        Assert.Empty(monitor.ProbedClusters);
    }

    [Fact]
    public async Task An_open_breaker_is_probed_when_its_backoff_ends_not_a_whole_interval_later()
    {
        var clock = new ManualClock();
        var registry = new ClusterHealthRegistry(clock);
        var probe = new FakeProbe { Behavior = _ => throw new EngineException("refused", SqlStates.ConnectionFailure) };
        await using var monitor = new HealthMonitor(registry, _ => probe);

        monitor.Start(Config("""
              pg1: { engine: duckdb, health: { probe_interval: 30s, failure_threshold: 1, open_base: 2s } }
            """));
        ClusterHealth health = registry.Get("pg1");
        await WaitUntil(() => health.Breaker == BreakerState.Open && clock.PendingTimers == 1, "the first probe failed and opened the breaker");

        probe.Behavior = _ => ValueTask.CompletedTask;
        clock.Advance(TimeSpan.FromSeconds(2));

        await WaitUntil(() => health.Breaker == BreakerState.Closed, "the trial probe closed the breaker");
        Assert.Equal(2, probe.Calls);
    }

    private sealed class FakeProbe : IClusterProbe, IAsyncDisposable
    {
        private int _calls;
        private volatile bool _disposed;

        public string Cluster { get; init; } = "";

        public Func<CancellationToken, ValueTask> Behavior { get; set; } = _ => ValueTask.CompletedTask;

        public int Calls => Volatile.Read(ref _calls);

        public bool Disposed => _disposed;

        public ValueTask ProbeAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Behavior(cancellationToken);
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
