using LakeOps.Edge.Core.Config;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class HealthConfigTests
{
    private static string Config(string groups, string clusters = "pg1: { engine: duckdb }\n  pg2: { engine: duckdb }") => $$"""
        listeners:
          pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
        clusters:
          {{clusters}}
        groups:
        {{groups}}
        routing: { default_group: g }
        """;

    [Fact]
    public void Defaults_are_round_robin_enabled_and_documented_health_values()
    {
        EdgeConfig config = LoadValid(Minimal);

        GroupConfig group = config.Groups["local"];
        Assert.Equal(BalancingStrategy.RoundRobin, group.Balancing);
        Assert.Empty(group.Weights);
        ClusterConfig cluster = config.Clusters["duck"];
        Assert.Equal(ClusterAdminState.Enabled, cluster.State);
        Assert.Equal(
            new HealthOptions
            {
                ProbeInterval = TimeSpan.FromSeconds(5),
                ProbeTimeout = TimeSpan.FromSeconds(2),
                FailureThreshold = 3,
                OpenBase = TimeSpan.FromSeconds(1),
                OpenMax = TimeSpan.FromSeconds(60),
                ErrorRateThreshold = 0.5,
                Window = 20,
                MinSamples = 10,
            },
            cluster.Health);
    }

    [Fact]
    public void Every_health_key_binds()
    {
        EdgeConfig config = LoadValid(Config(
            "  g: { clusters: [pg1] }",
            """
            pg1:
                engine: duckdb
                state: draining
                health:
                  probe_interval: 0
                  probe_timeout: 250ms
                  failure_threshold: 5
                  open_base: 2s
                  open_max: 2m
                  error_rate_threshold: 25%
                  window: 50
                  min_samples: 30
              pg2: { engine: duckdb, state: disabled, health: { error_rate_threshold: 0.75, window: 5 } }
            """));

        Assert.Equal(
            new HealthOptions
            {
                ProbeInterval = TimeSpan.Zero,
                ProbeTimeout = TimeSpan.FromMilliseconds(250),
                FailureThreshold = 5,
                OpenBase = TimeSpan.FromSeconds(2),
                OpenMax = TimeSpan.FromMinutes(2),
                ErrorRateThreshold = 0.25,
                Window = 50,
                MinSamples = 30,
            },
            config.Clusters["pg1"].Health);
        Assert.Equal(ClusterAdminState.Draining, config.Clusters["pg1"].State);
        Assert.Equal(ClusterAdminState.Disabled, config.Clusters["pg2"].State);
        Assert.Equal(0.75, config.Clusters["pg2"].Health.ErrorRateThreshold);

        // A window smaller than the default min_samples lowers min_samples with it.
        Assert.Equal(5, config.Clusters["pg2"].Health.MinSamples);
    }

    [Theory]
    [InlineData("round_robin", BalancingStrategy.RoundRobin)]
    [InlineData("least_loaded", BalancingStrategy.LeastLoaded)]
    [InlineData("latency_aware", BalancingStrategy.LatencyAware)]
    [InlineData("failover", BalancingStrategy.Failover)]
    public void Balancing_strategies_bind(string text, BalancingStrategy expected)
    {
        EdgeConfig config = LoadValid(Config($"  g: {{ clusters: [pg1, pg2], balancing: {text} }}"));

        Assert.Equal(expected, config.Groups["g"].Balancing);
        Assert.Empty(config.Groups["g"].Weights);
    }

    [Fact]
    public void Weights_follow_the_order_of_the_cluster_list()
    {
        EdgeConfig config = LoadValid(Config("  g: { clusters: [pg2, pg1], balancing: weighted, weights: { pg1: 90, pg2: 0 } }"));

        Assert.Equal(BalancingStrategy.Weighted, config.Groups["g"].Balancing);
        Assert.Equal([0, 90], config.Groups["g"].Weights);
    }

    [Theory]
    [InlineData("  g: { clusters: [pg1], balancing: random }", "groups.g.balancing", "unknown balancing 'random' (expected one of: round_robin, weighted, least_loaded, latency_aware, failover)")]
    [InlineData("  g: { clusters: [pg1], weights: { pg1: 1 } }", "groups.g.weights", "weights apply only to 'balancing: weighted'")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted }", "groups.g", "balancing 'weighted' needs 'weights' (a weight for every cluster of the group, e.g. weights: { pg1: 90, pg2: 10 })")]
    [InlineData("  g: { clusters: [pg1, pg2], balancing: weighted, weights: { pg1: 1 } }", "groups.g.weights", "missing weight for cluster 'pg2' (give every member a weight; 0 means never picked)")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted, weights: { pg1: 1, pg2: 1 } }", "groups.g.weights.pg2", "cluster 'pg2' is not a member of this group (members: pg1)")]
    [InlineData("  g: { clusters: [pg1, pg2], balancing: weighted, weights: { pg1: 0, pg2: 0 } }", "groups.g.weights", "at least one weight must be greater than 0")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted, weights: { pg1: 1000001 } }", "groups.g.weights.pg1", "1000001 is out of range (0 to 1000000)")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted, weights: { pg1: -1 } }", "groups.g.weights.pg1", "-1 is out of range (0 to 1000000)")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted, weights: { pg1: lots } }", "groups.g.weights.pg1", "'lots' is not a whole number")]
    [InlineData("  g: { clusters: [pg1], balancing: weighted, weights: [1] }", "groups.g.weights", "expected a mapping (key: value lines), found a list")]
    public void Bad_balancing_is_reported_at_its_path(string groups, string path, string message)
    {
        ConfigError error = ErrorAt(LoadErrors(Config(groups)), path);

        Assert.Equal(message, error.Message);
        Assert.True(error.Line > 0);
    }

    [Theory]
    [InlineData("state: paused", "clusters.pg1.state", "unknown cluster state 'paused' (expected one of: enabled, draining, disabled)")]
    [InlineData("health: { open_base: 10s, open_max: 5s }", "clusters.pg1.health.open_max", "open_max (5s) must not be less than open_base (10s)")]
    [InlineData("health: { open_base: 0 }", "clusters.pg1.health.open_base", "must be greater than 0")]
    [InlineData("health: { window: 10, min_samples: 11 }", "clusters.pg1.health.min_samples", "min_samples (11) must not exceed window (10)")]
    [InlineData("health: { window: 51 }", "clusters.pg1.health.window", "51 is out of range (1 to 50)")]
    [InlineData("health: { failure_threshold: 0 }", "clusters.pg1.health.failure_threshold", "0 is out of range (1 to 1000)")]
    [InlineData("health: { error_rate_threshold: 1.5 }", "clusters.pg1.health.error_rate_threshold", "'1.5' is out of range (0 to 1, or 0% to 100%)")]
    [InlineData("health: { error_rate_threshold: half }", "clusters.pg1.health.error_rate_threshold", "'half' is not a rate; use a number from 0 to 1 (e.g. 0.5) or a percentage (e.g. 50%)")]
    [InlineData("health: { error_rate_threshold: -0.1 }", "clusters.pg1.health.error_rate_threshold", "'-0.1' is not a rate; use a number from 0 to 1 (e.g. 0.5) or a percentage (e.g. 50%)")]
    [InlineData("health: { probe_timeout: 0 }", "clusters.pg1.health.probe_timeout", "must be greater than 0")]
    [InlineData("health: { probe_every: 5s }", "clusters.pg1.health.probe_every", "unknown key 'probe_every' (expected one of: probe_interval, probe_timeout, failure_threshold, open_base, open_max, error_rate_threshold, window, min_samples)")]
    public void Bad_health_is_reported_at_its_path(string settings, string path, string message)
    {
        ConfigError error = ErrorAt(LoadErrors(Config("  g: { clusters: [pg1] }", $"pg1: {{ engine: duckdb, {settings} }}")), path);

        Assert.Equal(message, error.Message);
    }
}
