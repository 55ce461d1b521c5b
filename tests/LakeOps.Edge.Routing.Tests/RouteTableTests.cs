using LakeOps.Edge.Core.Config;
using static LakeOps.Edge.Routing.Tests.RoutingTestSupport;

namespace LakeOps.Edge.Routing.Tests;

public class RouteTableTests
{
    [Fact]
    public void First_matching_rule_wins()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: alice-selects
                when: {user: alice, statement: select}
                group: a
              - name: alice-any
                when: {user: alice}
                group: b
            """));

        Assert.Equal(("alice-selects", "a"), Route(table, Request("select 1")));
        Assert.Equal(("alice-any", "b"), Route(table, Request("insert into t values (1)")));
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1", user: "bob")));
    }

    [Fact]
    public void Field_values_compare_case_insensitively()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: bi
                when: {application: Tableau}
                group: a
            """));
        RouteRequest request = Request("select 1");
        request.Application = "tableau";

        Assert.Equal(("bi", "a"), Route(table, request));
    }

    [Fact]
    public void Tags_rule_adds_tags_that_later_rules_see()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: airflow-is-etl
                when: {application: airflow}
                tags: [etl]
              - name: etl
                when: {tags: etl}
                group: b
            """));
        RouteRequest request = Request("select 1");
        request.Application = "airflow";

        RouteDecision decision = table.Decide(request);

        Assert.Equal("etl", decision.RuleName);
        Assert.Equal("b", decision.Group!.Name);
        Assert.Equal(["etl"], decision.AddedTags);
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1")));
    }

    [Fact]
    public void Hint_comment_tags_count_as_client_tags()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: night
                when: {tags: [night]}
                group: c
              - name: hinted
                when: {hint_group: [a]}
                group: a
            """));

        Assert.Equal(("night", "c"), Route(table, Request("/* edge: tags=night */ select 1")));
        Assert.Equal(("hinted", "a"), Route(table, Request("/* edge: group=a */ select 1")));
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1 /* edge: tags=night */")));
    }

    [Fact]
    public void Deny_rule_gives_the_message()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: no-ddl-from-bi
                when: {all: [{statement: ddl}, {not: {role: admin}}]}
                deny: "DDL is not allowed through the gateway"
            """));

        RouteDecision decision = table.Decide(Request("DROP TABLE sales.orders"));
        Assert.True(decision.IsDenied);
        Assert.Null(decision.Group);
        Assert.Equal("DDL is not allowed through the gateway", decision.DenyMessage);
        Assert.Equal("no-ddl-from-bi", decision.RuleName);

        RouteRequest admin = Request("DROP TABLE sales.orders");
        admin.Roles = ["admin"];
        Assert.False(table.Decide(admin).IsDenied);
    }

    [Fact]
    public void Tables_glob_matches_qualified_and_schema_qualified_names()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: sales
                when: {tables: ["sales.*"]}
                group: a
              - name: events
                when: {tables: ["*.events_*"]}
                group: b
            """));

        Assert.Equal(("sales", "a"), Route(table, Request("SELECT * FROM \"Sales\".orders")));
        Assert.Equal(("events", "b"), Route(table, Request("SELECT * FROM web.events_2024 e JOIN dim.users u ON e.u = u.id")));
        Assert.Equal(("fallback", "local"), Route(table, Request("SELECT * FROM orders")));
        RouteRequest inSales = Request("SELECT * FROM orders");
        inSales.Schema = "sales";
        Assert.Equal(("sales", "a"), Route(table, inSales));
        Assert.Equal(("sales", "a"), Route(table, Request("SELECT * FROM hive.sales.orders")));
        // A CTE named like a sales table is not a table.
        Assert.Equal(("fallback", "local"), Route(table, Request("WITH orders AS (SELECT 1) SELECT * FROM orders")));
    }

    [Fact]
    public void Sql_regex_and_session_and_header_conditions()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: regex
                when: {sql_regex: "(?i)\\bpg_sleep\\b"}
                group: a
              - name: session
                when: {session: {edge.pool: [heavy]}}
                group: b
              - name: header
                when: {header: {X-Trino-Source: "*"}}
                group: c
            """));

        Assert.Equal(("regex", "a"), Route(table, Request("select PG_SLEEP(1)")));
        RouteRequest session = Request("select 1");
        Dictionary<string, string> properties = RouteRequest.NewProperties();
        properties["EDGE.POOL"] = "heavy";
        session.Session = properties;
        Assert.Equal(("session", "b"), Route(table, session));
        RouteRequest trino = Request("select 1", protocol: "trino");
        Dictionary<string, string> headers = RouteRequest.NewProperties();
        headers["x-trino-source"] = "superset";
        trino.Headers = headers;
        Assert.Equal(("header", "c"), Route(table, trino));
    }

    [Fact]
    public void Time_window_crosses_midnight_in_its_time_zone()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 27, 21, 30, 0, TimeSpan.Zero)); // Friday 22:30 in Berlin (UTC+1)
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: night-batch
                when:
                  time: {days: [mon-fri], hours: "22-06", timezone: Europe/Berlin}
                group: c
            """), time);

        Assert.Equal(("night-batch", "c"), Route(table, Request("select 1")));
        time.Now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero); // Friday 13:00 Berlin
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1")));
        time.Now = new DateTimeOffset(2026, 11, 28, 23, 0, 0, TimeSpan.Zero); // Sunday 00:00 Berlin
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1")));
    }

    [Fact]
    public void Fallback_uses_database_name_then_default_group_unless_fallback_is_set()
    {
        RouteTable implicitFallback = RouteTable.Compile(Load(""));
        Assert.Equal(("fallback", "a"), Route(implicitFallback, Request("select 1", database: "a")));
        Assert.Equal(("fallback", "local"), Route(implicitFallback, Request("select 1", database: "other")));

        RouteTable explicitFallback = RouteTable.Compile(Load("fallback: c"));
        Assert.Equal(("fallback", "c"), Route(explicitFallback, Request("select 1", database: "a")));

        RouteTable strict = RouteTable.Compile(ConfigLoader.Load(Base.Replace("default_group: local", "default_group: local\n  fallback_to_default: false", StringComparison.Ordinal), null, _ => null).Config!);
        RouteDecision denied = strict.Decide(Request("select 1", database: "other"));
        Assert.True(denied.IsDenied);
        Assert.Contains("does not exist", denied.DenyMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Split_90_10_over_10000_decisions_is_within_tolerance()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: ramp
                split: {a: 90, b: 10}
            """), random: new Random(42));
        int toB = 0;
        for (int i = 0; i < 10_000; i++)
        {
            RouteDecision decision = table.Decide(Request("select " + i));
            Assert.Equal("ramp", decision.RuleName);
            toB += decision.Group!.Name == "b" ? 1 : 0;
        }

        // Binomial(10000, 0.1): sd = 30; +-5 sd.
        Assert.InRange(toB, 850, 1150);
    }

    [Fact]
    public void Stable_split_sends_one_fingerprint_to_one_group_and_spreads_fingerprints()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: ramp
                split: {a: 50, b: 50}
                stable: fingerprint
            """));
        int toB = 0;
        for (int shape = 0; shape < 2000; shape++)
        {
            string column = "c" + shape;
            string first = table.Decide(Request($"select {column} from t where id = 1")).Group!.Name;
            string second = table.Decide(Request($"SELECT {column}  FROM t WHERE id = 42")).Group!.Name;
            Assert.Equal(first, second);
            toB += first == "b" ? 1 : 0;
        }

        Assert.InRange(toB, 850, 1150);
    }

    [Fact]
    public void Decision_carries_the_fingerprint()
    {
        RouteTable table = RouteTable.Compile(Load(""));
        RouteRequest request = Request("select * from t where id = 5");

        Assert.Equal(Sql.SqlFingerprint.Compute("SELECT * FROM t WHERE id = 7"), table.Decide(request).Fingerprint);
    }

    [Fact]
    public void Explain_lists_the_conditions_that_held_and_the_tag_rules()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: tag-etl
                when: {user: etl_bot}
                tags: [etl]
              - name: etl-writes
                when:
                  tags: etl
                  statement: [insert, update]
                  any: [{tables: ["sales.*"]}, {sql_regex: "never"}]
                group: b
            """));
        RouteRequest request = Request("INSERT INTO sales.orders VALUES (1)", user: "etl_bot");

        RouteExplanation explanation = table.Explain(request);

        Assert.Equal("etl-writes", explanation.Decision.RuleName);
        Assert.Equal("b", explanation.Decision.Group!.Name);
        Assert.Equal(["tag-etl"], explanation.TagRulesApplied);
        Assert.Equal(["tags in [etl]", "statement in [insert, update]", "tables ~ [sales.*]"], explanation.ConditionsHeld);
        Assert.Equal(table.Decide(request).RuleName, explanation.Decision.RuleName);
    }

    [Fact]
    public void Many_rules_cross_word_boundaries_of_the_dispatch_sets()
    {
        var yaml = new System.Text.StringBuilder("routes:\n");
        for (int i = 0; i < 300; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - name: r{i}\n    when: {{user: u{i}}}\n    group: {(i % 2 == 0 ? "a" : "b")}\n");
        }

        RouteTable table = RouteTable.Compile(Load(yaml.ToString()));

        Assert.Equal(("r199", "b"), Route(table, Request("select 1", user: "u199")));
        Assert.Equal(("r64", "a"), Route(table, Request("select 1", user: "U64")));
        Assert.Equal(("fallback", "local"), Route(table, Request("select 1", user: "u300")));
    }

    [Fact]
    public void Rule_sets_beyond_the_stack_buffer_use_a_pooled_one()
    {
        EdgeConfig baseConfig = Load("");
        var rules = new List<RouteRuleConfig>();
        for (int i = 0; i < 9000; i++)
        {
            rules.Add(new RouteRuleConfig
            {
                Name = "r" + i,
                When = new FieldCondition(RouteField.Statement, [i % 2 == 0 ? "select" : "insert"]),
                Action = new RouteAction { Kind = RouteActionKind.Group, Group = "a" },
            });
        }

        rules.Add(new RouteRuleConfig { Name = "last", When = new FieldCondition(RouteField.Statement, ["ddl"]), Action = new RouteAction { Kind = RouteActionKind.Group, Group = "b" } });
        var config = new EdgeConfig
        {
            Listeners = baseConfig.Listeners,
            Users = baseConfig.Users,
            Clusters = baseConfig.Clusters,
            Groups = baseConfig.Groups,
            Server = baseConfig.Server,
            Routing = baseConfig.Routing,
            Routes = rules,
        };
        RouteTable table = RouteTable.Compile(config);

        Assert.Equal(("r1", "a"), Route(table, Request("insert into t values (1)")));
        Assert.Equal(("last", "b"), Route(table, Request("create table t (x int)")));
        Assert.Equal(("fallback", "local"), Route(table, Request("show tables")));
    }

    [Fact]
    public void Database_router_keeps_its_behaviour()
    {
        EdgeConfig config = Load("");
        Assert.Equal("a", DatabaseRouter.Route(config, "a").Group!.Name);
        Assert.Equal("local", DatabaseRouter.Route(config, "zzz").Group!.Name);
    }

    [Fact]
    public void Table_for_a_snapshot_is_compiled_once()
    {
        EdgeConfig first = Load("routes:\n  - {name: r, group: a}");
        EdgeConfig second = Load("routes:\n  - {name: r, group: b}");

        Assert.Same(RouteTable.For(first), RouteTable.For(first));
        Assert.Equal("a", RouteTable.For(first).Decide(Request("select 1")).Group!.Name);
        Assert.Equal("b", RouteTable.For(second).Decide(Request("select 1")).Group!.Name);
    }

    [Fact]
    public void Stable_user_split_keeps_each_user_on_one_side()
    {
        RouteTable table = RouteTable.Compile(Load("""
            routes:
              - name: ramp
                split: {a: 1, b: 1}
                stable: user
            """));
        var sides = new HashSet<string>();
        for (int u = 0; u < 50; u++)
        {
            string first = table.Decide(Request("select 1", user: "user" + u)).Group!.Name;
            Assert.Equal(first, table.Decide(Request("insert into t values (2)", user: "user" + u)).Group!.Name);
            sides.Add(first);
        }

        Assert.Equal(2, sides.Count);
    }

    private static (string Rule, string? Group) Route(RouteTable table, RouteRequest request)
    {
        RouteDecision decision = table.Decide(request);
        return (decision.RuleName, decision.Group?.Name);
    }
}
