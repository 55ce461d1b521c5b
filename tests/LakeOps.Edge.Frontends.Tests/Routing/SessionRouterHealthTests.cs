using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Tests.Routing;

/// <summary>A routed session's engine per group follows its cluster's health (two real in-memory DuckDB clusters).</summary>
public sealed class SessionRouterHealthTests
{
    private static EdgeConfig Load(string firstState)
    {
        string yaml = $"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
            clusters:
              duck1:
                engine: duckdb
                state: {firstState}
              duck2:
                engine: duckdb
            groups:
              g:
                clusters: [duck1, duck2]
                balancing: failover
            routing:
              default_group: g
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config!;
    }

    [Fact]
    public async Task A_draining_cluster_is_left_for_the_next_statement_and_the_old_session_stays_open()
    {
        EdgeConfig config = Load("enabled");
        var registry = new ClusterHealthRegistry();
        registry.Apply(config);
        await using EngineRegistry engines = await EngineRegistry.StartAsync(config);
        var options = new EngineSessionOptions("edge", "g", "tests");
        var router = new SessionRouter(new ConfigStore(config), new RouteRequest(), engines, new ClusterPicker(registry));
        await using (router)
        {
            GroupConfig group = config.Groups["g"];
            (GroupEngine first, bool opened) = await router.GetAsync(group, options, CancellationToken.None);
            Assert.True(opened);
            Assert.Equal("duck1", first.Cluster);
            (GroupEngine again, opened) = await router.GetAsync(group, options, CancellationToken.None);
            Assert.False(opened);
            Assert.Same(first, again);

            // Reload: duck1 drains. The next use of the group opens a session on duck2.
            registry.Apply(Load("draining"));
            (GroupEngine moved, opened) = await router.GetAsync(group, options, CancellationToken.None);
            Assert.True(opened);
            Assert.Equal("duck2", moved.Cluster);
            Assert.Same(moved, Assert.Single(router.Open));

            // The old session still answers (statements prepared on it keep working) until the router closes.
            await using IQueryResult result = await first.Session.ExecuteAsync("select 1", CancellationToken.None);
            Assert.NotNull(await result.ReadBatchAsync(CancellationToken.None));
        }
    }

    [Fact]
    public async Task When_no_other_member_can_take_it_the_session_stays_where_it_is()
    {
        EdgeConfig config = Load("enabled");
        var registry = new ClusterHealthRegistry();
        registry.Apply(config);
        await using EngineRegistry engines = await EngineRegistry.StartAsync(config);
        var options = new EngineSessionOptions("edge", "g", "tests");
        await using var router = new SessionRouter(new ConfigStore(config), new RouteRequest(), engines, new ClusterPicker(registry));
        GroupConfig group = config.Groups["g"];
        (GroupEngine first, _) = await router.GetAsync(group, options, CancellationToken.None);
        registry.Get("duck1").Configure(new HealthOptions(), ClusterAdminState.Draining);
        registry.Get("duck2").Configure(new HealthOptions(), ClusterAdminState.Disabled);

        (GroupEngine kept, bool opened) = await router.GetAsync(group, options, CancellationToken.None);
        Assert.False(opened);
        Assert.Same(first, kept);
    }
}
