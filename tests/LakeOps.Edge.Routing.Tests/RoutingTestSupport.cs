using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing.Tests;

internal static class RoutingTestSupport
{
    /// <summary>Groups a, b, c and local over one DuckDB cluster; default group local.</summary>
    public const string Base = """
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:15432
            auth: trust
        clusters:
          duck:
            engine: duckdb
        groups:
          local:
            clusters: [duck]
          a:
            clusters: [duck]
          b:
            clusters: [duck]
          c:
            clusters: [duck]
        routing:
          default_group: local
        """;

    public static EdgeConfig Load(string extra)
    {
        ConfigLoadResult result = ConfigLoader.Load(Base + "\n" + extra, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config;
    }

    public static RouteRequest Request(string sql = "", string protocol = "postgres", string user = "alice", string database = "x") =>
        new() { Sql = sql, Protocol = protocol, User = user, Database = database, Listener = "pg" };
}

/// <summary>A clock the test sets.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
