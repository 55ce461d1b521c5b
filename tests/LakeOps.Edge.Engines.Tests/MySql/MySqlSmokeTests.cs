using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.MySql.MySqlTestSupport;

namespace LakeOps.Edge.Engines.Tests.MySql;

public sealed class MySqlSmokeTests
{
    [Fact]
    public async Task Select_one_through_the_engine()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        await using var engine = new MySqlEngine(Cluster(server));
        await using IEngineSession session = await OpenAsync(engine);
        List<object?[]> rows = await RowsAsync(session, "SELECT 1 AS a, 'x' AS b, NULL AS c, 1.5 AS d, NOW() AS e, @@time_zone AS tz");
        Assert.Single(rows);
        Assert.Equal("+00:00", rows[0][5]);
    }
}
