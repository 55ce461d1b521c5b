using LakeOps.Edge.Frontends.Routing;

namespace LakeOps.Edge.Frontends.Tests.Routing;

public class RouteAttributesTests
{
    [Theory]
    [InlineData("EXPLAIN ROUTE SELECT 1", "SELECT 1")]
    [InlineData("  explain\n route\tselect * from t;", "select * from t")]
    [InlineData("/* c */ EXPLAIN /* d */ ROUTE /* edge: tags=x */ select 1", "/* edge: tags=x */ select 1")]
    [InlineData("-- note\nEXPLAIN ROUTE insert into t values (1)", "insert into t values (1)")]
    public void Explain_route_is_recognised(string sql, string statement)
    {
        Assert.True(RouteAttributes.TryParseExplainRoute(sql, out string parsed));
        Assert.Equal(statement, parsed);
    }

    [Theory]
    [InlineData("EXPLAIN SELECT 1")]
    [InlineData("EXPLAIN routes SELECT 1")]
    [InlineData("EXPLAIN_ROUTE SELECT 1")]
    [InlineData("SELECT 'EXPLAIN ROUTE'")]
    public void Other_statements_are_not_explain_route(string sql) =>
        Assert.False(RouteAttributes.TryParseExplainRoute(sql, out _));

    [Fact]
    public void Tags_are_split_on_commas_and_trimmed()
    {
        Assert.Equal(["a", "b", "c"], RouteAttributes.SplitTags(" a, b,,c "));
        Assert.Empty(RouteAttributes.SplitTags(""));
        Assert.Empty(RouteAttributes.SplitTags(null));
    }

    [Fact]
    public void Pg_options_yield_dash_c_settings()
    {
        List<KeyValuePair<string, string>> settings = RouteAttributes.ParsePgOptions(@"-c edge.tags=etl,nightly -cstatement_timeout=5s --search-path=x -c a=b\ c");

        Assert.Equal(
            [new("edge.tags", "etl,nightly"), new("statement_timeout", "5s"), new("search_path", "x"), new("a", "b c")],
            settings);
    }

    [Theory]
    [InlineData("EXPLAIN ROUTE select 1", true)]
    [InlineData("  explain\n\troute\nselect 1", true)]
    [InlineData("/* c */ -- line\n# mysql\nExplain /* x */ Route select 1", true)]
    [InlineData("EXPLAIN ROUTE", true)]
    [InlineData("EXPLAIN select 1", false)]
    [InlineData("EXPLAIN ROUTES select 1", false)]
    [InlineData("EXPLAINROUTE select 1", false)]
    [InlineData("select 'EXPLAIN ROUTE'", false)]
    [InlineData("/* unterminated EXPLAIN ROUTE", false)]
    [InlineData("", false)]
    public void The_passthrough_filter_spots_explain_route_in_utf8_without_decoding(string sql, bool expected) =>
        Assert.Equal(expected, RouteAttributes.MayBeExplainRoute(System.Text.Encoding.UTF8.GetBytes(sql)));

    [Theory]
    [InlineData("sales", "sales")]
    [InlineData("Sales, public", "sales")]
    [InlineData("app,public", "app")]
    [InlineData("\"$user\", public", "public")]
    [InlineData("\"My \"\"Schema\", public", "My \"Schema")]
    [InlineData(" , x", "x")]
    [InlineData("", "public")]
    [InlineData(null, "public")]
    public void The_routing_schema_is_the_first_search_path_element(string? searchPath, string schema) =>
        Assert.Equal(schema, RouteAttributes.FirstSchema(searchPath));

    [Theory]
    [InlineData("SET @edge_tags = 'etl,nightly'", "etl,nightly")]
    [InlineData("set @EDGE_TAGS:=\"a\";", "a")]
    [InlineData("SET @edge_tags = ''", "")]
    [InlineData("SET @edge_tags = NULL", null)]
    public void Mysql_edge_tags_assignment_is_recognised(string sql, string? value)
    {
        Assert.True(RouteAttributes.TryParseEdgeTagsSet(sql, out string? parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("SET @edge_tagsx = 'a'")]
    [InlineData("SET @other = 'a'")]
    [InlineData("SET @edge_tags = 'a', @b = 1")]
    [InlineData("SET @edge_tags = 'it''s'")]
    [InlineData("SELECT @edge_tags")]
    public void Other_assignments_are_left_alone(string sql) =>
        Assert.False(RouteAttributes.TryParseEdgeTagsSet(sql, out _));
}
