namespace LakeOps.Edge.Routing.Tests;

public class TableGlobTests
{
    [Theory]
    [InlineData("sales.*", "sales.orders", "", true)]
    [InlineData("sales.*", "SALES.Orders", "", true)]
    [InlineData("sales.*", "hive.sales.orders", "", true)]
    [InlineData("sales.*", "salesx.orders", "", false)]
    [InlineData("sales.*", "orders", "", false)]
    [InlineData("sales.*", "orders", "sales", true)]
    [InlineData("*.events_*", "web.events_2024", "", true)]
    [InlineData("*.events_*", "web.event_2024", "", false)]
    [InlineData("*", "orders", "", true)]
    [InlineData("*", "sales.orders", "", true)] // trailing part "orders"
    [InlineData("*.*", "orders", "", false)]
    [InlineData("hr.emp?", "hr.emp1", "", true)]
    [InlineData("hr.emp?", "hr.emp12", "", false)]
    [InlineData("a*b*c", "axxbyyc", "", true)]
    [InlineData("a*b*c", "axxbyy", "", false)]
    [InlineData("a*.c", "ab.c", "", true)]
    [InlineData("a*", "ab.c", "", false)]
    public void Matches(string glob, string table, string schema, bool expected) =>
        Assert.Equal(expected, TableGlob.IsMatch(glob, table, schema));
}
