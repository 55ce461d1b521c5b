using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Tests.Routing;

public sealed class ClusterFailoverTests
{
    [Theory]
    [InlineData("08006", "cluster 'pg': cannot connect to 127.0.0.1:1: Connection refused", FailureKind.Connect)]
    [InlineData("08001", "cluster 'pg': cannot connect", FailureKind.Connect)]
    [InlineData("08006", "cluster 'pg': connecting timed out after 2s (pool.connect_timeout)", FailureKind.Timeout)]
    [InlineData("53300", "cluster 'pg': all 8 server connections are busy; waited 2s (pool.max_size, pool.connect_timeout)", FailureKind.Timeout)]
    [InlineData("57P03", "cluster 'pg': the database system is starting up", FailureKind.Connect)]
    [InlineData("57P01", "terminating connection due to administrator command", FailureKind.Server)]
    public void Errors_that_say_the_cluster_is_sick_are_failures(string sqlState, string message, FailureKind expected) =>
        Assert.Equal(expected, ClusterFailover.Classify(new EngineException(message, sqlState)));

    [Theory]
    [InlineData("42601", "syntax error at or near \"SELEC\"")]
    [InlineData("42501", "permission denied for table t")]
    [InlineData("53300", "too many sessions on cluster 'my' (limits.max_sessions = 10)")]
    [InlineData("57014", "canceling statement due to user request")]
    public void User_errors_are_not_health_failures(string sqlState, string message) =>
        Assert.Null(ClusterFailover.Classify(new EngineException(message, sqlState)));

    [Fact]
    public void Only_connect_failures_and_timeouts_may_be_retried_elsewhere()
    {
        var health = new ClusterHealth("pg");
        Assert.True(ClusterFailover.ReportFailure(health, trial: false, new EngineException("cannot connect", "08006")));
        Assert.False(ClusterFailover.ReportFailure(health, trial: false, new EngineException("terminating connection", "57P01")));
        Assert.False(ClusterFailover.ReportFailure(health, trial: false, new EngineException("syntax error", "42601")));
        Assert.Equal(2, health.Failures);
        Assert.Equal(2, health.ConsecutiveFailures);
    }

    [Fact]
    public void A_trial_that_failed_for_a_user_error_is_given_back()
    {
        var clock = new TestClock();
        var health = new ClusterHealth("pg", new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1) }, time: clock);
        health.ReportFailure(FailureKind.Connect);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(health.TryBeginTrial());
        Assert.False(health.TryBeginTrial());

        ClusterFailover.ReportFailure(health, trial: true, new EngineException("syntax error", "42601"));

        Assert.True(health.TryBeginTrial());
        Assert.Equal(BreakerState.HalfOpen, health.Breaker);
    }

    [Fact]
    public void Successes_are_reported_only_until_the_window_is_full_of_them()
    {
        var health = new ClusterHealth("pg", new HealthOptions { Window = 4, MinSamples = 4 });
        int reported = 0;
        for (int i = 0; i < 10; i++)
        {
            if (ClusterFailover.NeedsSuccessReport(health, trial: false))
            {
                health.ReportSuccess(TimeSpan.FromMilliseconds(1));
                reported++;
            }
        }

        Assert.Equal(4, reported);
        Assert.True(ClusterFailover.NeedsSuccessReport(health, trial: true));

        // A failure in the window: successes count again until it has been shifted out.
        health.ReportFailure(FailureKind.Connect);
        Assert.True(ClusterFailover.NeedsSuccessReport(health, trial: false));
        for (int i = 0; i < 4; i++)
        {
            health.ReportSuccess(TimeSpan.FromMilliseconds(1));
        }

        Assert.False(ClusterFailover.NeedsSuccessReport(health, trial: false));
    }

    [Fact]
    public async Task Opening_retries_once_on_another_member_when_the_first_cannot_connect()
    {
        await using Setup setup = await Setup.StartAsync("failover", "[dead, duck]");
        OpenedCluster opened = await ClusterFailover.OpenAsync(setup.Picker, setup.Engines, setup.Group, Options, CancellationToken.None);
        await using (opened.Session)
        {
            Assert.Equal("duck", opened.Cluster);
        }

        ClusterHealth dead = setup.Registry.Get("dead");
        Assert.Equal(1, dead.Failures);
        Assert.StartsWith("connect", dead.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_both_members_fail_to_connect_each_is_reported_once_and_the_retry_error_is_returned()
    {
        await using Setup setup = await Setup.StartAsync("failover", "[dead, dead2]");
        EngineException error = await Assert.ThrowsAsync<EngineException>(
            () => ClusterFailover.OpenAsync(setup.Picker, setup.Engines, setup.Group, Options, CancellationToken.None).AsTask());
        Assert.StartsWith("08", error.SqlState, StringComparison.Ordinal);
        Assert.Contains("'dead2'", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, setup.Registry.Get("dead").Failures);
        Assert.Equal(1, setup.Registry.Get("dead2").Failures);
    }

    [Fact]
    public async Task Without_another_member_the_connect_error_says_so()
    {
        await using Setup setup = await Setup.StartAsync("round_robin", "[dead]");
        EngineException error = await Assert.ThrowsAsync<EngineException>(
            () => ClusterFailover.OpenAsync(setup.Picker, setup.Engines, setup.Group, Options, CancellationToken.None).AsTask());
        Assert.StartsWith("08", error.SqlState, StringComparison.Ordinal);
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
        Assert.Contains("no other cluster to retry on: no cluster of group 'g' can take the query: dead excluded", error.Message, StringComparison.Ordinal);
        Assert.False(ClusterFailover.IsNoCluster(error));
    }

    [Fact]
    public async Task No_eligible_member_gives_08006_with_every_members_state()
    {
        await using Setup setup = await Setup.StartAsync("round_robin", "[dead, duck]", deadState: "disabled", duckState: "draining");
        EngineException error = await Assert.ThrowsAsync<EngineException>(
            () => ClusterFailover.OpenAsync(setup.Picker, setup.Engines, setup.Group, Options, CancellationToken.None).AsTask());
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.True(ClusterFailover.IsNoCluster(error));
        Assert.Contains("dead disabled", error.Message, StringComparison.Ordinal);
        Assert.Contains("duck draining", error.Message, StringComparison.Ordinal);
    }

    private static EngineSessionOptions Options => new("edge", "g", "tests");

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Real engines: PostgreSQL clusters on ports nothing listens on, and an in-memory DuckDB.</summary>
    internal sealed class Setup : IAsyncDisposable
    {
        private Setup(EngineRegistry engines, ClusterHealthRegistry registry, GroupConfig group)
        {
            Engines = engines;
            Registry = registry;
            Picker = new ClusterPicker(registry);
            Group = group;
        }

        public EngineRegistry Engines { get; }

        public ClusterHealthRegistry Registry { get; }

        public ClusterPicker Picker { get; }

        public GroupConfig Group { get; }

        public static async Task<Setup> StartAsync(string balancing, string members, string deadState = "enabled", string duckState = "enabled")
        {
            string port = ClosedPort().ToString(CultureInfo.InvariantCulture);
            string port2 = ClosedPort().ToString(CultureInfo.InvariantCulture);
            string yaml = $$"""
                listeners:
                  pg:
                    protocol: postgres
                    address: 127.0.0.1:15432
                    auth: trust
                clusters:
                  dead:
                    engine: postgres
                    state: {{deadState}}
                    postgres: { host: 127.0.0.1, port: {{port}}, user: nobody, password: x, database: none }
                    pool: { connect_timeout: 2s }
                  dead2:
                    engine: postgres
                    postgres: { host: 127.0.0.1, port: {{port2}}, user: nobody, password: x, database: none }
                    pool: { connect_timeout: 2s }
                  duck:
                    engine: duckdb
                    state: {{duckState}}
                groups:
                  g:
                    clusters: {{members}}
                    balancing: {{balancing}}
                routing:
                  default_group: g
                """;
            ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
            Assert.True(result.Success, string.Join("\n", result.Errors));
            var registry = new ClusterHealthRegistry();
            registry.Apply(result.Config!);
            EngineRegistry engines = await EngineRegistry.StartAsync(result.Config!);
            return new Setup(engines, registry, result.Config!.Groups["g"]);
        }

        public ValueTask DisposeAsync() => Engines.DisposeAsync();
    }

    private sealed class TestClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
