using static LakeOps.Edge.Routing.Tests.RoutingTestSupport;

namespace LakeOps.Edge.Routing.Tests;

public class StatementDependenceTests
{
    [Fact]
    public void No_rules_is_statement_independent()
    {
        RouteTable table = RouteTable.Compile(Load(""));

        Assert.False(table.IsStatementDependent(Request()));
        Assert.True(table.IsStatementDependent(Request(), databaseMayChange: true));
    }

    [Fact]
    public void A_fixed_fallback_does_not_depend_on_the_database()
    {
        RouteTable table = RouteTable.Compile(Load("fallback: b"));

        Assert.False(table.IsStatementDependent(Request(), databaseMayChange: true));
    }

    [Fact]
    public void Connection_level_rules_settle_at_login()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: psql
                when: {application: psql}
                group: a
              - name: mysql
                when: {protocol: mysql, session: {client_os: "*"}}
                group: b
            """));
        RouteRequest psql = Request();
        psql.Application = "psql";

        Assert.False(table.IsStatementDependent(psql));
        Assert.False(table.IsStatementDependent(Request(protocol: "mysql")));
        Assert.False(table.IsStatementDependent(Request(user: "bob")));
    }

    [Theory]
    [InlineData("{sql_regex: 'pg_sleep'}")]
    [InlineData("{statement: select}")]
    [InlineData("{tables: 'sales.*'}")]
    [InlineData("{tags: etl}")]
    [InlineData("{hint_group: a}")]
    [InlineData("{time: {days: [mon], hours: ['00-24']}}")]
    [InlineData("{any: [{user: bob}, {statement: ddl}]}")]
    [InlineData("{not: {statement: select}}")]
    public void Statement_level_conditions_that_can_still_match_make_the_session_dependent(string when)
    {
        RouteTable table = RouteTable.Compile(Load($"""
            routes:
              - name: r
                when: {when}
                group: a
            """));

        Assert.True(table.IsStatementDependent(Request()));
    }

    [Fact]
    public void A_rule_that_cannot_match_the_connection_is_skipped()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: bob-selects
                when: {user: bob, statement: select}
                group: a
              - name: alice
                when: {user: alice}
                group: b
              - name: never-reached
                when: {sql_regex: 'x'}
                group: c
            """));

        Assert.False(table.IsStatementDependent(Request(user: "alice")));
        Assert.True(table.IsStatementDependent(Request(user: "bob")));
        Assert.True(table.IsStatementDependent(Request(user: "carol")));
    }

    [Fact]
    public void Database_conditions_are_dynamic_only_when_the_database_may_change()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: sales
                when: {database: sales}
                group: a
            fallback: b
            """));

        Assert.False(table.IsStatementDependent(Request(database: "sales")));
        Assert.True(table.IsStatementDependent(Request(database: "sales"), databaseMayChange: true));
    }

    [Fact]
    public void Splits_are_dependent_unless_stable_per_user()
    {
        RouteTable random = RouteTable.Compile(Load("""
            routes:
              - name: ramp
                split: {a: 90, b: 10}
            """));
        RouteTable byUser = RouteTable.Compile(Load("""
            routes:
              - name: ramp
                split: {a: 90, b: 10}
                stable: user
            """));

        Assert.True(random.IsStatementDependent(Request()));
        Assert.False(byUser.IsStatementDependent(Request()));
    }

    [Fact]
    public void Deny_for_the_whole_connection_is_statement_independent_and_denies_every_statement()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: no-bob
                when: {user: bob}
                deny: "bob is locked out"
            """));
        RouteRequest bob = Request(user: "bob");

        Assert.False(table.IsStatementDependent(bob));
        Assert.True(table.Decide(bob).IsDenied);
        bob.Sql = "select 1";
        Assert.Equal("no-bob", table.Decide(bob).RuleName);
        Assert.False(table.Decide(bob).IsFallback);
        Assert.True(table.Decide(Request(user: "carol")).IsFallback);
    }

    [Fact]
    public void Explanation_fields_carry_rule_group_conditions_kind_tables_and_fingerprint()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: sales
                when: {tables: 'sales.*'}
                group: a
            """));
        RouteRequest request = Request("/* edge: tags=x */ select * from sales.orders");

        RouteExplanationField[] fields = RouteExplanationFields.Of(table.Explain(request));
        Dictionary<string, string> byColumn = fields.ToDictionary(f => f.Column, f => f.Value);

        Assert.Equal(RouteExplanationFields.Columns, fields.Select(f => f.Column));
        Assert.Equal("sales", byColumn["rule"]);
        Assert.Equal("a", byColumn["group"]);
        Assert.Equal("", byColumn["denied"]);
        Assert.Equal("tables ~ [sales.*]", byColumn["conditions_held"]);
        Assert.Equal("select", byColumn["kind"]);
        Assert.Equal("sales.orders", byColumn["tables"]);
        Assert.Equal("tags=x group=-", byColumn["hint"]);
        Assert.Equal(request.Analysis.Fingerprint.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), byColumn["fingerprint"]);

        var text = new StringWriter();
        RouteExplanationFields.Write(table.Explain(request), text);
        Assert.Contains("rule:        sales", text.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("denied:", text.ToString(), StringComparison.Ordinal);
    }
}
