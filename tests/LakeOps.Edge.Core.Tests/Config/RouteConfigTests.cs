using LakeOps.Edge.Core.Config;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class RouteConfigTests
{
    private const string Groups = """
        groups:
          local:
            clusters: [duck]
          batch:
            clusters: [duck]
        """;

    /// <summary>Minimal with a second group, plus <paramref name="extra"/>.</summary>
    private static string Config(string extra) =>
        Minimal.Replace("groups:\n  local:\n    clusters: [duck]", Groups, StringComparison.Ordinal) + "\n" + extra;

    [Fact]
    public void Config_without_routes_keeps_the_database_name_behaviour()
    {
        EdgeConfig config = LoadValid(Minimal);

        Assert.Empty(config.Routes);
        Assert.Null(config.Fallback);
    }

    [Fact]
    public void Binds_every_condition_kind_and_action()
    {
        EdgeConfig config = LoadValid(Config("""
            fallback: local
            routes:
              - name: tag-airflow
                when: {application: airflow}
                tags: [etl]
              - name: everything
                when:
                  protocol: [postgres, mysql]
                  listener: pg
                  user: alice
                  role: analysts
                  database: sales
                  schema: public
                  tags: [etl, nightly]
                  hint_group: batch
                  statement: [select, insert]
                  session: {application_name: psql}
                  header: {X-Trino-Source: "*"}
                  sql_regex: "(?i)join"
                  tables: ["Sales.*", "*.events_*"]
                  time: {days: [mon-fri], hours: ["22-06"], timezone: UTC}
                  any: [{user: bob}, {not: {user: carol}}]
                group: batch
              - name: no-ddl
                when: {statement: ddl}
                deny: "DDL is not allowed"
              - name: ramp
                split: {local: 90, batch: 10}
                stable: fingerprint
            """));

        Assert.Equal("local", config.Fallback);
        Assert.Equal(4, config.Routes.Count);
        RouteRuleConfig tagRule = config.Routes[0];
        Assert.Equal(RouteActionKind.Continue, tagRule.Action.Kind);
        Assert.Equal(["etl"], tagRule.Tags);

        RouteRuleConfig everything = config.Routes[1];
        Assert.Equal(RouteActionKind.Group, everything.Action.Kind);
        Assert.Equal("batch", everything.Action.Group);
        var all = Assert.IsType<AllCondition>(everything.When);
        Assert.Equal(15, all.Items.Count);
        Assert.Equal(new FieldCondition(RouteField.Protocol, ["postgres", "mysql"]).Values, Assert.IsType<FieldCondition>(all.Items[0]).Values);
        Assert.Equal(["sales.*", "*.events_*"], Assert.IsType<TablesCondition>(all.Items[12]).Globs);
        TimeCondition time = Assert.IsType<TimeCondition>(all.Items[13]);
        Assert.Equal(0b0111110, time.DayMask);
        Assert.Equal(0b1100_0000_0000_0000_0011_1111, time.HourMask);
        Assert.Matches(Assert.IsType<SqlRegexCondition>(all.Items[11]).Regex, "a JOIN b");
        var any = Assert.IsType<AnyCondition>(all.Items[14]);
        Assert.IsType<NotCondition>(any.Items[1]);

        Assert.Equal("DDL is not allowed", config.Routes[2].Action.DenyMessage);
        RouteAction split = config.Routes[3].Action;
        Assert.Equal(RouteActionKind.Split, split.Kind);
        Assert.Equal([new SplitTarget("local", 90), new SplitTarget("batch", 10)], split.Split);
        Assert.Equal(SplitStability.Fingerprint, split.Stable);
    }

    [Fact]
    public void User_roles_bind()
    {
        EdgeConfig config = LoadValid(Minimal + """

            users:
              alice:
                md5: md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
                roles: [analysts, etl]
            """);

        Assert.Equal(["analysts", "etl"], config.Users["alice"].Roles);
    }

    [Theory]
    [InlineData("routes:\n  - name: r\n    group: nope", "routes[0].group", "unknown group 'nope'")]
    [InlineData("routes:\n  - name: r\n    when: {sql_regex: \"(unclosed\"}\n    group: local", "routes[0].when.sql_regex", "invalid regular expression")]
    [InlineData("routes:\n  - name: r\n    when: {tables: [\"sales..x\"]}\n    group: local", "routes[0].when.tables[0]", "empty name part")]
    [InlineData("routes:\n  - name: r\n    when: {tables: \"\\\"quoted\\\".t\"}\n    group: local", "routes[0].when.tables", "contains '\"'")]
    [InlineData("routes:\n  - name: r\n    split: {local: 0, batch: 0}", "routes[0].split", "add up to more than 0")]
    [InlineData("routes:\n  - name: r\n    split: {local: -1}", "routes[0].split.local", "")]
    [InlineData("routes:\n  - name: r\n    split: {nope: 5}", "routes[0].split", "unknown group 'nope'")]
    [InlineData("routes:\n  - name: r\n    when: {statement: [selekt]}\n    group: local", "routes[0].when.statement[0]", "unknown statement kind 'selekt'")]
    [InlineData("routes:\n  - name: r\n    when: {protocol: http}\n    group: local", "routes[0].when.protocol", "unknown protocol 'http'")]
    [InlineData("routes:\n  - name: r\n    when: {colour: red}\n    group: local", "routes[0].when.colour", "unknown key 'colour'")]
    [InlineData("routes:\n  - name: r\n    when: {time: {days: [funday]}}\n    group: local", "routes[0].when.time.days[0]", "not a day")]
    [InlineData("routes:\n  - name: r\n    when: {time: {hours: \"25-3\"}}\n    group: local", "routes[0].when.time.hours", "not an hour")]
    [InlineData("routes:\n  - name: r\n    when: {time: {hours: 1, timezone: Mars/Olympus}}\n    group: local", "routes[0].when.time.timezone", "unknown time zone")]
    [InlineData("routes:\n  - name: r\n    when: {user: a}", "routes[0]", "needs an action")]
    [InlineData("routes:\n  - name: r\n    group: local\n    deny: no", "routes[0]", "at most one of")]
    [InlineData("routes:\n  - name: r\n    group: local\n    stable: fingerprint", "routes[0].stable", "applies only to 'split'")]
    [InlineData("routes:\n  - name: r\n    split: {local: 1}\n    stable: sometimes", "routes[0].stable", "unknown stability")]
    [InlineData("routes:\n  - name: r\n    deny: \"\"", "routes[0].deny", "needs the message")]
    [InlineData("routes:\n  - name: r\n    when: {}\n    group: local", "routes[0].when", "must not be empty")]
    [InlineData("routes:\n  - name: r\n    when: {any: []}\n    group: local", "routes[0].when.any", "at least one condition")]
    [InlineData("routes:\n  - name: r\n    when: {all: [{user: a}, {nope: 1}]}\n    group: local", "routes[0].when.all[1].nope", "unknown key")]
    [InlineData("routes:\n  - group: local", "routes[0]", "missing required key 'name'")]
    [InlineData("routes:\n  - name: fallback\n    group: local", "routes[0].name", "reserved")]
    [InlineData("routes:\n  - {name: r, group: local}\n  - {name: r, group: local}", "routes[1].name", "used twice")]
    [InlineData("routes: {name: r}", "routes", "expected a list")]
    [InlineData("fallback: nope", "fallback", "unknown group 'nope'")]
    public void Invalid_rules_are_reported_with_their_yaml_path(string yaml, string path, string message)
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(Config(yaml));

        ConfigError error = ErrorAt(errors, path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 0, error.ToString());
    }

    [Fact]
    public void Every_bad_rule_is_reported_in_one_load()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(Config("""
            routes:
              - name: one
                group: nope
              - name: two
                when: {sql_regex: "("}
                group: local
            """));

        Assert.Equal(2, errors.Count);
    }

    [Theory]
    [InlineData("mon-fri", 0b0111110)]
    [InlineData("sat-sun", 0b1000001)]
    [InlineData("fri-mon", 0b1100011)]
    [InlineData("sunday", 0b0000001)]
    [InlineData("*", 0b1111111)]
    public void Day_ranges(string text, int mask)
    {
        EdgeConfig config = LoadValid(Config($"routes:\n  - name: r\n    when: {{time: {{days: [\"{text}\"]}}}}\n    group: local"));
        Assert.Equal(mask, Assert.IsType<TimeCondition>(config.Routes[0].When).DayMask);
    }

    [Theory]
    [InlineData("9", 1 << 9)]
    [InlineData("9-12", (1 << 9) | (1 << 10) | (1 << 11))]
    [InlineData("23-01", (1 << 23) | 1)]
    [InlineData("0-24", 0xFFFFFF)]
    [InlineData("*", 0xFFFFFF)]
    public void Hour_ranges(string text, int mask)
    {
        EdgeConfig config = LoadValid(Config($"routes:\n  - name: r\n    when: {{time: {{hours: \"{text}\"}}}}\n    group: local"));
        Assert.Equal(mask, Assert.IsType<TimeCondition>(config.Routes[0].When).HourMask);
    }
}
