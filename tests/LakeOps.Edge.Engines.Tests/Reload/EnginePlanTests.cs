using System.Collections.Frozen;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Engines.Tests.Reload;

/// <summary>Which clusters a reload starts, replaces, removes or keeps: pure, no engine is created.</summary>
public sealed class EnginePlanTests
{
    private static readonly RemoteEngineOptions Remote = new() { Host = "10.0.0.1", Port = 5432, User = "edge", Password = "a" };

    [Fact]
    public void AddedRemovedAndUnchangedClustersAreTold()
    {
        EnginePlan plan = EnginePlan.Create(
            Clusters(Pg("keep"), Pg("gone")),
            Clusters(Pg("keep"), Pg("new"), Duck("new_duck")));

        Assert.Equal(["new", "new_duck"], plan.Added.Select(c => c.Name));
        Assert.Equal(["gone"], plan.Removed);
        Assert.Empty(plan.Replaced);
        Assert.Empty(plan.KeptUntilRestart);
    }

    [Fact]
    public void SettingsReadPerQueryNeverReplaceAnEngine()
    {
        ClusterConfig before = Pg("pg");
        ClusterConfig after = before with
        {
            State = ClusterAdminState.Draining,
            Health = new HealthOptions { ProbeInterval = TimeSpan.FromSeconds(1) },
            Admission = new AdmissionConfig { MaxRunning = 3 },
            Limits = before.Limits with { QueryTimeout = TimeSpan.FromSeconds(9) },
        };

        EnginePlan plan = EnginePlan.Create(Clusters(before), Clusters(after));

        Assert.Empty(plan.Added);
        Assert.Empty(plan.Replaced);
        Assert.Empty(plan.Removed);
        Assert.True(EnginePlan.SameInstance(before, after));
    }

    [Theory]
    [InlineData("host")]
    [InlineData("port")]
    [InlineData("password")]
    [InlineData("database")]
    [InlineData("tls")]
    [InlineData("pool")]
    [InlineData("max_sessions")]
    [InlineData("engine")]
    public void AddressCredentialsPoolOrKindChangesReplaceTheEngine(string change)
    {
        ClusterConfig before = Pg("pg");
        ClusterConfig after = change switch
        {
            "host" => before with { Remote = Remote with { Host = "10.0.0.2" } },
            "port" => before with { Remote = Remote with { Port = 5433 } },
            "password" => before with { Remote = Remote with { Password = "b" } },
            "database" => before with { Remote = Remote with { Database = "other" } },
            "tls" => before with { Remote = Remote with { Tls = EngineTlsMode.Require } },
            "pool" => before with { Pool = before.Pool with { MaxSize = 7 } },
            "max_sessions" => before with { Limits = before.Limits with { MaxSessions = 5 } },
            _ => before with { Engine = EngineKind.MySql },
        };

        EnginePlan plan = EnginePlan.Create(Clusters(before), Clusters(after));

        Assert.Equal(["pg"], plan.Replaced.Select(c => c.Name));
        Assert.Empty(plan.Added);
        Assert.Empty(plan.Removed);
    }

    [Fact]
    public void InMemoryDuckDbKeepsItsDatabaseUntilRestart()
    {
        ClusterConfig before = Duck("duck");
        ClusterConfig after = before with { DuckDb = new DuckDbOptions { Threads = 2 } };

        EnginePlan plan = EnginePlan.Create(Clusters(before), Clusters(after));

        Assert.Empty(plan.Replaced);
        ClusterRestartNote note = Assert.Single(plan.KeptUntilRestart);
        Assert.Equal("duck", note.Cluster);
        Assert.Contains("in-memory", note.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DuckDbFileKeptWhileItsPathStaysAndReplacedWhenItMoves()
    {
        ClusterConfig before = Duck("duck") with { DuckDb = new DuckDbOptions { Path = "/data/a.duckdb" } };

        EnginePlan samePath = EnginePlan.Create(Clusters(before), Clusters(before with { DuckDb = new DuckDbOptions { Path = "/data/a.duckdb", MemoryLimit = "1GB" } }));
        EnginePlan otherPath = EnginePlan.Create(Clusters(before), Clusters(before with { DuckDb = new DuckDbOptions { Path = "/data/b.duckdb" } }));

        Assert.Contains("/data/a.duckdb", Assert.Single(samePath.KeptUntilRestart).Reason, StringComparison.Ordinal);
        Assert.Empty(samePath.Replaced);
        Assert.Equal(["duck"], otherPath.Replaced.Select(c => c.Name));
        Assert.Empty(otherPath.KeptUntilRestart);
    }

    [Fact]
    public void TrinoOptionsCompareTheirListsByContent()
    {
        var options = new TrinoEngineOptions { Host = "coordinator", Port = 8080, ClientTags = ["a", "b"], SessionProperties = [new("query_max_run_time", "1h")] };
        ClusterConfig before = new() { Name = "trino", Engine = EngineKind.Trino, Trino = options };
        ClusterConfig sameContent = before with { Trino = options with { ClientTags = ["a", "b"], SessionProperties = [new("query_max_run_time", "1h")], ForwardHeaders = [.. TrinoEngineOptions.DefaultForwardHeaders] } };
        ClusterConfig otherTags = before with { Trino = options with { ClientTags = ["a"] } };

        Assert.True(EnginePlan.SameInstance(before, sameContent));
        Assert.False(EnginePlan.SameInstance(before, otherTags));
        Assert.False(EnginePlan.SameInstance(before, before with { Trino = options with { Port = 8443 } }));
    }

    private static ClusterConfig Pg(string name) => new() { Name = name, Engine = EngineKind.Postgres, Remote = Remote };

    private static ClusterConfig Duck(string name) => new() { Name = name, Engine = EngineKind.DuckDb, DuckDb = new DuckDbOptions() };

    private static FrozenDictionary<string, ClusterConfig> Clusters(params ClusterConfig[] clusters) =>
        clusters.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);
}
