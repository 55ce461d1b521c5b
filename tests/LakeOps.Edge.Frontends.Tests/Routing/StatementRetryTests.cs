using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Tests.Routing;

public sealed class StatementRetryTests
{
    private const string Refused = "cluster 'pg': cannot connect to 127.0.0.1:1: Connection refused";
    private const string Lost = "cluster 'pg': lost the connection to the server at 127.0.0.1:5432: the server closed the connection";

    [Theory]
    [InlineData("08006", Refused, false, false, true)]
    [InlineData("08006", Refused, false, true, true)]
    [InlineData("08006", "cluster 'pg': connecting timed out after 2s (pool.connect_timeout)", false, false, true)]
    [InlineData("53300", "cluster 'pg': all 8 server connections are busy; waited 2s (pool.max_size, pool.connect_timeout)", false, false, true)]
    [InlineData("57P03", "cluster 'pg': the database system is starting up", false, false, true)]
    [InlineData("08006", Lost, false, true, true)]
    [InlineData("08006", Lost, false, false, false)]
    [InlineData("57P01", "terminating connection due to administrator command", false, true, true)]
    [InlineData("57P01", "terminating connection due to administrator command", false, false, false)]
    [InlineData("08006", Refused, true, true, false)]
    [InlineData("08006", Lost, true, true, false)]
    [InlineData("42601", "syntax error at or near \"SELEC\"", false, true, false)]
    [InlineData("57014", "canceling statement due to user request", false, true, false)]
    public void Only_failures_before_the_engine_ran_anything_or_of_read_only_statements_outside_a_transaction_are_retried(
        string sqlState, string message, bool inTransaction, bool readOnly, bool expected) =>
        Assert.Equal(expected, StatementRetry.MayRetry(new EngineException(message, sqlState), inTransaction, readOnly));

    [Fact]
    public void Admission_refusals_and_no_eligible_member_are_not_retried()
    {
        var refusal = new EngineException("group 'g' is full", SqlStates.TooManyConnections, new AdmissionRefusedException("group 'g' is full", 1040));
        Assert.False(StatementRetry.MayRetry(refusal, inTransaction: false, readOnly: true));
        Assert.False(StatementRetry.MayRetry(new EngineException("x", SqlStates.ConnectionFailure, new NoEligibleClusterException("x")), inTransaction: false, readOnly: true));
    }

    [Theory]
    [InlineData("select 1", true)]
    [InlineData("  SELECT * FROM t WHERE id = 3", true)]
    [InlineData("values (1), (2)", true)]
    [InlineData("show tables", true)]
    [InlineData("insert into t values (1)", false)]
    [InlineData("update t set a = 1", false)]
    [InlineData("with d as (delete from t returning *) select * from d", false)]
    [InlineData("/* report */ WITH x AS (SELECT 1) SELECT * FROM x", false)]
    [InlineData("explain analyze delete from t", false)]
    [InlineData("create table t (a int)", false)]
    public void Read_only_means_plain_queries(string sql, bool expected) => Assert.Equal(expected, StatementRetry.IsReadOnly(sql));

    [Fact]
    public async Task Another_eligible_member_of_the_same_dialect_is_opened()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("failover", "[dead, duck]");
        OpenedCluster? opened = await StatementRetry.OpenOtherAsync(setup.Picker, setup.Engines, setup.Group, "dead", SqlDialect.DuckDb, Options, CancellationToken.None);
        Assert.NotNull(opened);
        await using (opened.Value.Session)
        {
            Assert.Equal("duck", opened.Value.Cluster);
            await using IQueryResult result = await opened.Value.Session.ExecuteAsync("select 42", CancellationToken.None);
            Assert.NotNull(await result.ReadBatchAsync(CancellationToken.None));
        }

        Assert.Equal(0, setup.Registry.Get("dead").Failures);
    }

    [Fact]
    public async Task A_member_of_another_dialect_is_not_used()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("failover", "[dead, duck]");
        Assert.Null(await StatementRetry.OpenOtherAsync(setup.Picker, setup.Engines, setup.Group, "dead", SqlDialect.Postgres, Options, CancellationToken.None));
    }

    [Fact]
    public async Task The_retry_is_one_attempt_and_its_failure_is_reported()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("failover", "[dead, dead2]");
        Assert.Null(await StatementRetry.OpenOtherAsync(setup.Picker, setup.Engines, setup.Group, "dead", SqlDialect.Postgres, Options, CancellationToken.None));

        // Only the other member was tried (the failed one is excluded), and its failure counts.
        Assert.Equal(0, setup.Registry.Get("dead").Failures);
        ClusterHealth other = setup.Registry.Get("dead2");
        Assert.Equal(1, other.Failures);
        Assert.StartsWith("connect", other.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_another_member_there_is_no_retry()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("round_robin", "[dead]");
        Assert.Null(await StatementRetry.OpenOtherAsync(setup.Picker, setup.Engines, setup.Group, "dead", SqlDialect.Postgres, Options, CancellationToken.None));
        Assert.Equal(0, setup.Registry.Get("dead").Failures);
    }

    private static EngineSessionOptions Options => new("edge", "g", "tests");
}
