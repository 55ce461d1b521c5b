using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Tests.Balancing;

public class ClusterPickerTests
{
    private static readonly string[] Three = ["pg1", "pg2", "pg3"];
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private readonly ManualClock _clock = new();
    private readonly ClusterHealthRegistry _registry;

    public ClusterPickerTests() => _registry = new ClusterHealthRegistry(_clock);

    private static GroupConfig Group(BalancingStrategy balancing = BalancingStrategy.RoundRobin, int[]? weights = null, string[]? clusters = null) => new()
    {
        Name = "g",
        Clusters = clusters ?? Three,
        Balancing = balancing,
        Weights = weights ?? [],
    };

    private Dictionary<string, int> Count(ClusterPicker picker, GroupConfig group, int picks, string? exclude = null)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in group.Clusters)
        {
            counts[name] = 0;
        }

        for (int i = 0; i < picks; i++)
        {
            ClusterPick pick = picker.Pick(group, exclude);
            Assert.True(pick.Found, pick.Reason);
            Assert.False(pick.IsTrial);
            Assert.Same(_registry.Get(pick.Cluster!), pick.Health);
            counts[pick.Cluster!]++;
        }

        return counts;
    }

    private void Open(string cluster)
    {
        ClusterHealth health = _registry.Get(cluster);
        health.Configure(new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1) }, ClusterAdminState.Enabled);
        health.ReportFailure(FailureKind.Connect, "refused");
        Assert.Equal(BreakerState.Open, health.Breaker);
    }

    private void SetAdmin(string cluster, ClusterAdminState state) => _registry.Get(cluster).Configure(new HealthOptions(), state);

    [Fact]
    public void Round_robin_takes_members_in_turn()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group();

        string[] order = [.. Enumerable.Range(0, 6).Select(_ => picker.Pick(group).Cluster!)];

        Assert.Equal(order[..3], order[3..]);
        Assert.Equal(Three, order[..3].Order());
    }

    [Fact]
    public void Weighted_picks_follow_the_weights()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group(BalancingStrategy.Weighted, [70, 20, 10]);

        Dictionary<string, int> counts = Count(picker, group, 10_000);

        Assert.InRange(counts["pg1"], 6900, 7100);
        Assert.InRange(counts["pg2"], 1900, 2100);
        Assert.InRange(counts["pg3"], 900, 1100);
    }

    [Fact]
    public void Weighted_picks_are_spread_out_not_in_bursts()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group(BalancingStrategy.Weighted, [1, 1, 8], Three);

        // Smooth weighted round robin: the light members never come twice in a row.
        string? previous = null;
        for (int i = 0; i < 1000; i++)
        {
            string cluster = picker.Pick(group).Cluster!;
            Assert.False(cluster != "pg3" && cluster == previous, $"{cluster} picked twice in a row at {i}");
            previous = cluster;
        }
    }

    [Fact]
    public void Weight_zero_is_never_picked_and_an_unhealthy_member_shifts_its_share()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group(BalancingStrategy.Weighted, [0, 50, 50]);
        Dictionary<string, int> counts = Count(picker, group, 1000);
        Assert.Equal(0, counts["pg1"]);
        Assert.Equal(500, counts["pg2"]);

        Open("pg2");
        counts = Count(picker, group, 1000);
        Assert.Equal(1000, counts["pg3"]);

        Open("pg3");
        ClusterPick none = picker.Pick(group);
        Assert.False(none.Found);
        Assert.StartsWith("no cluster of group 'g' can take the query: pg1 has weight 0, pg2 unhealthy (breaker open", none.Reason);
    }

    [Fact]
    public void Reloads_that_change_weights_keep_picking_with_the_new_weights()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig before = Group(BalancingStrategy.Weighted, [90, 10, 0]);
        Count(picker, before, 37);

        GroupConfig after = Group(BalancingStrategy.Weighted, [50, 50, 0]);
        Dictionary<string, int> counts = Count(picker, after, 1000);
        Assert.InRange(counts["pg1"], 490, 510);
        Assert.InRange(counts["pg2"], 490, 510);

        // Old-snapshot sessions keep picking with their own weights.
        counts = Count(picker, before, 1000);
        Assert.InRange(counts["pg1"], 890, 910);
    }

    [Fact]
    public void Concurrent_picks_across_reloads_never_fail()
    {
        var picker = new ClusterPicker(_registry);
        using var stop = new CancellationTokenSource();
        int picks = 0;
        Exception? failure = null;
        GroupConfig current = Group(BalancingStrategy.Weighted, [10, 90, 0]);
        var workers = new Thread[3];
        for (int t = 0; t < workers.Length; t++)
        {
            workers[t] = new Thread(() =>
            {
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        ClusterPick pick = picker.Pick(Volatile.Read(ref current));
                        if (!pick.Found || Array.IndexOf(Three, pick.Cluster) < 0)
                        {
                            throw new InvalidOperationException("bad pick: " + pick.Cluster + pick.Reason);
                        }

                        Interlocked.Increment(ref picks);
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            });
            workers[t].Start();
        }

        // The ramp of a migration: pg3 goes from 0% to 100%, one reload at a time.
        for (int step = 0; step <= 100; step++)
        {
            int[] weights = step == 100 ? [0, 0, 100] : [100 - step, step == 0 ? 1 : 0, step];
            Volatile.Write(ref current, Group(BalancingStrategy.Weighted, weights));
            int target = Volatile.Read(ref picks) + 100;
            SpinWait.SpinUntil(() => Volatile.Read(ref picks) >= target || failure is not null, TimeSpan.FromSeconds(10));
        }

        stop.Cancel();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        Assert.Null(failure);
        Assert.Equal(1000, Count(picker, current, 1000)["pg3"]);
    }

    [Fact]
    public void Least_loaded_prefers_the_fewest_running_and_rotates_ties()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group(BalancingStrategy.LeastLoaded);
        _registry.Get("pg1").Begin();
        _registry.Get("pg1").Begin();
        _registry.Get("pg2").Begin();

        Assert.Equal("pg3", picker.Pick(group).Cluster);
        _registry.Get("pg3").Begin();
        _registry.Get("pg3").Begin();
        Assert.Equal("pg2", picker.Pick(group).Cluster);

        _registry.Get("pg1").End();
        _registry.Get("pg1").End();
        _registry.Get("pg2").End();
        _registry.Get("pg3").End();
        _registry.Get("pg3").End();
        Dictionary<string, int> counts = Count(picker, group, 300);
        Assert.All(counts.Values, count => Assert.Equal(100, count));
    }

    [Fact]
    public void Failover_takes_the_first_eligible_member_in_order()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group(BalancingStrategy.Failover, clusters: ["pg2", "pg1", "pg3"]);
        Assert.Equal(100, Count(picker, group, 100)["pg2"]);

        Open("pg2");
        Assert.Equal(100, Count(picker, group, 100)["pg1"]);

        SetAdmin("pg1", ClusterAdminState.Draining);
        Assert.Equal(100, Count(picker, group, 100)["pg3"]);

        // pg2's backoff passes: it gets the trial; its success puts it first again.
        _clock.Advance(TimeSpan.FromSeconds(1));
        ClusterPick trial = picker.Pick(group);
        Assert.Equal("pg2", trial.Cluster);
        Assert.True(trial.IsTrial);
        trial.Health!.ReportSuccess(Ms);
        Assert.Equal(100, Count(picker, group, 100)["pg2"]);
    }

    [Fact]
    public void Latency_aware_prefers_the_fastest_and_still_explores()
    {
        var picker = new ClusterPicker(_registry, new Random(42));
        GroupConfig group = Group(BalancingStrategy.LatencyAware);
        _registry.Get("pg1").ReportSuccess(TimeSpan.FromMilliseconds(50));
        _registry.Get("pg2").ReportSuccess(TimeSpan.FromMilliseconds(5));
        _registry.Get("pg3").ReportSuccess(TimeSpan.FromMilliseconds(20));

        Dictionary<string, int> counts = Count(picker, group, 10_000);

        // 95% go to the fastest; the 5% exploration spreads over all three (about 167 each).
        Assert.InRange(counts["pg2"], 9500, 9800);
        Assert.InRange(counts["pg1"], 80, 300);
        Assert.InRange(counts["pg3"], 80, 300);
    }

    [Fact]
    public void Latency_aware_tries_members_without_a_sample_first_and_follows_changes()
    {
        var picker = new ClusterPicker(_registry, new Random(7), exploration: 0);
        GroupConfig group = Group(BalancingStrategy.LatencyAware);
        _registry.Get("pg1").ReportSuccess(TimeSpan.FromMilliseconds(5));
        _registry.Get("pg2").ReportSuccess(TimeSpan.FromMilliseconds(10));

        Assert.Equal("pg3", picker.Pick(group).Cluster);
        _registry.Get("pg3").ReportSuccess(TimeSpan.FromMilliseconds(100));
        Assert.Equal("pg1", picker.Pick(group).Cluster);

        for (int i = 0; i < 20; i++)
        {
            _registry.Get("pg1").ReportSuccess(TimeSpan.FromMilliseconds(200));
        }

        Assert.Equal("pg2", picker.Pick(group).Cluster);
    }

    [Theory]
    [InlineData(BalancingStrategy.RoundRobin)]
    [InlineData(BalancingStrategy.Weighted)]
    [InlineData(BalancingStrategy.LeastLoaded)]
    [InlineData(BalancingStrategy.LatencyAware)]
    [InlineData(BalancingStrategy.Failover)]
    public void Draining_and_disabled_members_are_never_picked(BalancingStrategy strategy)
    {
        var picker = new ClusterPicker(_registry, new Random(1), exploration: 0.5);
        GroupConfig group = Group(strategy, strategy == BalancingStrategy.Weighted ? [10, 10, 10] : null);
        SetAdmin("pg1", ClusterAdminState.Draining);
        SetAdmin("pg2", ClusterAdminState.Disabled);

        Assert.Equal(1000, Count(picker, group, 1000)["pg3"]);

        SetAdmin("pg3", ClusterAdminState.Draining);
        ClusterPick none = picker.Pick(group);
        Assert.False(none.Found);
        Assert.Equal("no cluster of group 'g' can take the query: pg1 draining, pg2 disabled, pg3 draining", none.Reason);
    }

    [Theory]
    [InlineData(BalancingStrategy.RoundRobin)]
    [InlineData(BalancingStrategy.Weighted)]
    [InlineData(BalancingStrategy.LeastLoaded)]
    [InlineData(BalancingStrategy.LatencyAware)]
    [InlineData(BalancingStrategy.Failover)]
    public void Exclude_leaves_the_failed_member_out(BalancingStrategy strategy)
    {
        var picker = new ClusterPicker(_registry, new Random(1), exploration: 0.5);
        GroupConfig group = Group(strategy, strategy == BalancingStrategy.Weighted ? [10, 10, 10] : null, ["pg1", "pg2"]);

        Assert.Equal(500, Count(picker, group, 500, exclude: "pg1")["pg2"]);

        SetAdmin("pg2", ClusterAdminState.Disabled);
        ClusterPick none = picker.Pick(group, exclude: "pg1");
        Assert.False(none.Found);
        Assert.Equal("no cluster of group 'g' can take the query: pg1 excluded (already failed for this query), pg2 disabled", none.Reason);
    }

    [Fact]
    public void An_open_member_is_skipped_then_gets_exactly_one_trial()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group();
        Open("pg1");
        Assert.Equal(0, Count(picker, group, 100)["pg1"]);

        _clock.Advance(TimeSpan.FromSeconds(1));
        ClusterPick trial = picker.Pick(group);
        Assert.Equal("pg1", trial.Cluster);
        Assert.True(trial.IsTrial);

        // While the trial runs, nothing else goes to pg1.
        Assert.Equal(0, Count(picker, group, 100)["pg1"]);

        trial.Health!.ReportFailure(FailureKind.Connect, "refused again");
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, Count(picker, group, 100)["pg1"]);
        _clock.Advance(TimeSpan.FromSeconds(1));
        trial = picker.Pick(group);
        Assert.True(trial.IsTrial);
        trial.Health!.ReportSuccess(Ms);

        Assert.All(Count(picker, group, 300).Values, count => Assert.Equal(100, count));
    }

    [Fact]
    public void Concurrent_pickers_send_exactly_one_request_to_a_half_open_member()
    {
        for (int round = 0; round < 50; round++)
        {
            var clock = new ManualClock();
            var registry = new ClusterHealthRegistry(clock);
            var picker = new ClusterPicker(registry);
            GroupConfig group = Group();
            ClusterHealth pg1 = registry.Get("pg1");
            pg1.Configure(new HealthOptions { FailureThreshold = 1 }, ClusterAdminState.Enabled);
            pg1.ReportFailure(FailureKind.Connect);
            clock.Advance(TimeSpan.FromSeconds(1));

            int toPg1 = 0;
            int trials = 0;
            const int threads = 4;
            using var barrier = new Barrier(threads);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                workers[t] = new Thread(() =>
                {
                    barrier.SignalAndWait();
                    for (int i = 0; i < 200; i++)
                    {
                        ClusterPick pick = picker.Pick(group);
                        if (pick.Cluster == "pg1")
                        {
                            Interlocked.Increment(ref toPg1);
                        }

                        if (pick.IsTrial)
                        {
                            Interlocked.Increment(ref trials);
                        }
                    }
                });
                workers[t].Start();
            }

            foreach (Thread worker in workers)
            {
                worker.Join();
            }

            Assert.Equal(1, Volatile.Read(ref toPg1));
            Assert.Equal(1, Volatile.Read(ref trials));
        }
    }

    [Fact]
    public void Nothing_eligible_lists_every_member_with_its_state()
    {
        var picker = new ClusterPicker(_registry);
        GroupConfig group = Group();
        Open("pg1");
        SetAdmin("pg2", ClusterAdminState.Draining);
        SetAdmin("pg3", ClusterAdminState.Disabled);
        _clock.Advance(TimeSpan.FromMilliseconds(500));

        ClusterPick none = picker.Pick(group);

        Assert.False(none.Found);
        Assert.Null(none.Cluster);
        Assert.Null(none.Health);
        Assert.Equal(
            "no cluster of group 'g' can take the query: pg1 unhealthy (breaker open, next trial in 0.5 s; 1 consecutive failures; last: connect: refused), pg2 draining, pg3 disabled",
            none.Reason);
    }

    [Fact]
    public void Registry_apply_takes_states_from_the_config()
    {
        ConfigLoadResult result = ConfigLoader.Load(
            """
            listeners:
              pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
            clusters:
              pg1: { engine: duckdb, state: draining }
              pg2: { engine: duckdb }
            groups:
              g: { clusters: [pg1, pg2], balancing: failover }
            routing: { default_group: g }
            """,
            null,
            _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        _registry.Apply(result.Config);
        var picker = new ClusterPicker(_registry);

        Assert.Equal(50, Count(picker, result.Config.Groups["g"], 50)["pg2"]);
    }

    [Theory]
    [InlineData(BalancingStrategy.RoundRobin)]
    [InlineData(BalancingStrategy.Weighted)]
    [InlineData(BalancingStrategy.LeastLoaded)]
    [InlineData(BalancingStrategy.LatencyAware)]
    [InlineData(BalancingStrategy.Failover)]
    public void Pick_allocates_nothing(BalancingStrategy strategy)
    {
        var picker = new ClusterPicker(_registry, new Random(3));
        GroupConfig group = Group(strategy, strategy == BalancingStrategy.Weighted ? [5, 3, 2] : null);
        // Warm up the exact call that is measured: its first calls run unoptimised code that tiering replaces.
        for (int i = 0; i < 10_000; i++)
        {
            picker.Pick(group);
            picker.Pick(group, "pg2");
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            picker.Pick(group, "pg2");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
