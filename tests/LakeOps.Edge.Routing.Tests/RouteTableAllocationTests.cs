using static LakeOps.Edge.Routing.Tests.RoutingTestSupport;

namespace LakeOps.Edge.Routing.Tests;

public class RouteTableAllocationTests
{
    [Fact]
    public void Deciding_an_analysed_statement_allocates_nothing()
    {
        var yaml = new System.Text.StringBuilder("routes:\n");
        for (int i = 0; i < 500; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"  - name: r{i}\n    when: {{user: u{i % 50}, statement: [select], tables: [\"s{i}.*\"], session: {{k: v{i}}}}}\n    group: a\n");
        }

        yaml.Append("  - name: tagger\n    when: {user: alice}\n    tags: [seen]\n  - name: split\n    when: {tags: seen}\n    split: {a: 50, b: 50}\n    stable: fingerprint\n");
        RouteTable table = RouteTable.Compile(Load(yaml.ToString()));
        RouteRequest viaRules = Request("SELECT * FROM s7.orders JOIN x.y ON true", user: "u7");
        RouteRequest viaSplit = Request("SELECT 1", user: "alice");
        _ = viaRules.Analysis;
        _ = viaSplit.Analysis;

        Assert.Equal("fallback", table.Decide(viaRules).RuleName);
        Assert.Equal("split", table.Decide(viaSplit).RuleName);
        Assert.Equal(0, Allocations(() => table.Decide(viaRules)));
        Assert.Equal(0, Allocations(() => table.Decide(viaSplit)));
    }

    private static long Allocations(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            action();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
