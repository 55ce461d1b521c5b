using System.Diagnostics;
using System.Text.RegularExpressions;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing.Tests;

/// <summary>The compiled table and the one-by-one evaluator agree on random rule sets and requests.</summary>
public class RouteTablePropertyTests
{
    private static readonly string[] Protocols = ["postgres", "mysql", "trino"];
    private static readonly string[] Listeners = ["pg", "my", "http"];
    private static readonly string[] Users = ["alice", "bob", "carol", "dave", "ALICE"];
    private static readonly string[] Roles = ["analyst", "etl", "admin"];
    private static readonly string[] Databases = ["sales", "hr", "a", "b", "nope"];
    private static readonly string[] Schemas = ["public", "sales", "hr", ""];
    private static readonly string[] Applications = ["tableau", "airflow", "psql", "Tableau", ""];
    private static readonly string[] Tags = ["etl", "adhoc", "night", "vip"];
    private static readonly string[] Kinds = ["select", "insert", "update", "delete", "merge", "ddl", "utility"];
    private static readonly string[] Globs = ["sales.*", "*.events_*", "orders", "hr.emp?", "*.*", "hive.*.orders"];
    private static readonly string[] Groups = ["local", "a", "b", "c"];
    private static readonly Regex[] Regexes =
    [
        new("(?i)\\bjoin\\b", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
        new("orders", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
        new("^\\s*(?i:select)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
    ];

    private static readonly string[] Statements =
    [
        "SELECT * FROM sales.orders o JOIN hr.emp1 e ON o.id = e.id",
        "/* edge: tags=night,vip group=b */ SELECT count(*) FROM orders",
        "insert into analytics.events_2024 values (1, 'x')",
        "UPDATE hr.employees SET salary = salary * 1.1 WHERE id IN (1, 2, 3)",
        "DELETE FROM staging.tmp",
        "MERGE INTO sales.orders t USING staging.orders s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = 1",
        "CREATE TABLE sales.new_t (id int)",
        "SET search_path = sales",
        "SHOW tables",
        "WITH x AS (SELECT * FROM hive.sales.orders) SELECT * FROM x, public.events_a",
        "/* edge: tags=etl */ insert into sales.orders select * from staging.orders",
        "select 1",
        "",
    ];

    [Fact]
    public void Compiled_table_agrees_with_the_naive_evaluator_on_100000_random_cases()
    {
        var random = new Random(20261124);
        EdgeConfig baseConfig = RoutingTestSupport.Load("");
        var analyses = new Dictionary<(string, SqlSyntax), SqlAnalysis>();
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var stopwatch = Stopwatch.StartNew();
        int cases = 0;
        int decidedByRules = 0;
        for (int set = 0; cases < 100_000; set++)
        {
            int ruleCount = set % 50 == 0 ? random.Next(100, 300) : random.Next(0, 40);
            EdgeConfig config = RandomConfig(random, baseConfig, ruleCount);
            RouteTable table = RouteTable.Compile(config, time, new Random(1));
            for (int q = 0; q < 50; q++, cases++)
            {
                RouteRequest request = RandomRequest(random, analyses);
                time.Now = DateTimeOffset.UnixEpoch.AddHours(random.Next(0, 24 * 14));
                NaiveRouter.Result expected = NaiveRouter.Route(config, request, time.Now);
                RouteDecision actual = table.Decide(request);

                if (expected.Rule != actual.RuleName
                    || (expected.Kind == RouteActionKind.Deny) != actual.IsDenied
                    || (expected.Group is not null && expected.Group != actual.Group?.Name)
                    || !expected.AddedTags.SequenceEqual(actual.AddedTags))
                {
                    Assert.Fail($"case {cases}: naive {expected} but compiled rule '{actual.RuleName}' group '{actual.Group?.Name}' tags [{string.Join(",", actual.AddedTags)}]\n"
                        + $"request: {Describe(request)}\nrules:\n{string.Join("\n", config.Routes)}");
                }

                if (expected.Rule != "fallback")
                {
                    decidedByRules++;
                }
            }
        }

        // The generator must exercise both outcomes, or the comparison proves little.
        Assert.InRange(decidedByRules, cases / 10, cases - (cases / 10));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"took {stopwatch.Elapsed}");
    }

    private static string Describe(RouteRequest r) =>
        $"protocol={r.Protocol} listener={r.Listener} user={r.User} roles=[{string.Join(",", r.Roles)}] db={r.Database} schema={r.Schema} app={r.Application} tags=[{string.Join(",", r.Tags)}] session=[{string.Join(",", r.Session)}] sql={r.Sql}";

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static List<string> Some(Random random, string[] items)
    {
        var list = new List<string> { Pick(random, items) };
        while (random.Next(3) == 0)
        {
            list.Add(Pick(random, items));
        }

        return list;
    }

    private static RouteRequest RandomRequest(Random random, Dictionary<(string, SqlSyntax), SqlAnalysis> analyses)
    {
        string sql = Pick(random, Statements);
        SqlSyntax syntax = (SqlSyntax)random.Next(3);
        var request = new RouteRequest
        {
            Protocol = Pick(random, Protocols),
            Listener = Pick(random, Listeners),
            User = Pick(random, Users),
            Roles = random.Next(3) == 0 ? [] : Some(random, Roles),
            Database = Pick(random, Databases),
            Schema = Pick(random, Schemas),
            Application = Pick(random, Applications),
            Tags = random.Next(2) == 0 ? [] : Some(random, Tags),
            Sql = sql,
            Syntax = syntax,
        };
        if (random.Next(2) == 0)
        {
            Dictionary<string, string> session = RouteRequest.NewProperties();
            session["x"] = random.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture);
            request.Session = session;
        }

        if (!analyses.TryGetValue((sql, syntax), out SqlAnalysis? analysis))
        {
            analyses[(sql, syntax)] = analysis = SqlAnalysis.Analyze(sql, syntax);
        }

        request.Analysis = analysis;
        return request;
    }

    private static EdgeConfig RandomConfig(Random random, EdgeConfig baseConfig, int ruleCount)
    {
        var rules = new List<RouteRuleConfig>();
        for (int i = 0; i < ruleCount; i++)
        {
            RouteCondition? when = random.Next(10) == 0 ? null : RandomTopCondition(random);
            RouteAction action;
            string[] tags = [];
            switch (random.Next(10))
            {
                case 0 or 1:
                    action = new RouteAction { Kind = RouteActionKind.Continue };
                    tags = [.. Some(random, Tags)];
                    break;
                case 2:
                    action = new RouteAction { Kind = RouteActionKind.Deny, DenyMessage = "no" };
                    break;
                case 3:
                    action = new RouteAction
                    {
                        Kind = RouteActionKind.Split,
                        Split = [new SplitTarget("a", 90), new SplitTarget("b", 10)],
                        Stable = (SplitStability)random.Next(3),
                    };
                    break;
                default:
                    action = new RouteAction { Kind = RouteActionKind.Group, Group = Pick(random, Groups) };
                    if (random.Next(5) == 0)
                    {
                        tags = [Pick(random, Tags)];
                    }

                    break;
            }

            rules.Add(new RouteRuleConfig { Name = "r" + i, When = when, Action = action, Tags = tags });
        }

        int fallbackChoice = random.Next(3);
        return new EdgeConfig
        {
            Listeners = baseConfig.Listeners,
            Users = baseConfig.Users,
            Clusters = baseConfig.Clusters,
            Groups = baseConfig.Groups,
            Server = baseConfig.Server,
            Routing = baseConfig.Routing with { FallbackToDefault = fallbackChoice != 0 },
            Routes = rules,
            Fallback = fallbackChoice == 2 ? Pick(random, Groups) : null,
        };
    }

    /// <summary>Mostly conjunctions of field tests (what dispatch indexes), with nested any/not and the expensive kinds mixed in.</summary>
    private static RouteCondition RandomTopCondition(Random random)
    {
        int parts = random.Next(1, 4);
        if (parts == 1)
        {
            return RandomCondition(random, 0);
        }

        var items = new List<RouteCondition>();
        for (int i = 0; i < parts; i++)
        {
            items.Add(RandomCondition(random, 0));
        }

        return new AllCondition(items);
    }

    private static RouteCondition RandomCondition(Random random, int depth)
    {
        int choice = random.Next(depth >= 2 ? 14 : 18);
        switch (choice)
        {
            case 0: return new FieldCondition(RouteField.Protocol, Some(random, Protocols));
            case 1: return new FieldCondition(RouteField.Listener, Some(random, Listeners));
            case 2: return new FieldCondition(RouteField.User, Some(random, Users));
            case 3: return new FieldCondition(RouteField.Role, Some(random, Roles));
            case 4: return new FieldCondition(RouteField.Database, Some(random, Databases));
            case 5: return new FieldCondition(RouteField.Schema, Some(random, ["public", "sales", "hr"]));
            case 6: return new FieldCondition(RouteField.Application, Some(random, ["tableau", "airflow", "psql"]));
            case 7: return new FieldCondition(RouteField.Tags, Some(random, Tags));
            case 8: return new FieldCondition(RouteField.Statement, Some(random, Kinds));
            case 9: return new FieldCondition(RouteField.HintGroup, Some(random, Groups));
            case 10: return new PropertyCondition(PropertySource.Session, "X", random.Next(4) == 0 ? ["*"] : Some(random, ["0", "1", "2"]));
            case 11: return new SqlRegexCondition("r", Pick(random, Regexes));
            case 12: return new TablesCondition(Some(random, Globs));
            case 13:
                return new TimeCondition(random.Next(1, 128), random.Next(1, 1 << 24), TimeZoneInfo.Utc);
            case 14 or 15:
                var items = new List<RouteCondition>();
                for (int i = random.Next(1, 4); i > 0; i--)
                {
                    items.Add(RandomCondition(random, depth + 1));
                }

                return choice == 14 ? new AllCondition(items) : new AnyCondition(items);
            default:
                return new NotCondition(RandomCondition(random, depth + 1));
        }
    }
}
