using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// One routing decision over 10, 1,000 and 10,000 rules. Budget: median under 1 us at 1,000 rules and
/// 0 bytes allocated per decision (the statement's analysis is computed once per statement and shared
/// with audit, so it is measured separately in <see cref="SqlAnalysisBenchmarks"/>).
/// Rules test user, application, protocol and statement kind (hash dispatch); one in ten also tests
/// tables, one in fifty a regex, one in twenty is a tags rule.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RoutingBenchmarks
{
    private RouteTable _table = null!;
    private RouteRequest _fallsThrough = null!;
    private RouteRequest _matchesMidway = null!;

    [Params(10, 1_000, 10_000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var yaml = new StringBuilder("""
            listeners:
              pg: {protocol: postgres, address: "127.0.0.1:15432", auth: trust}
            clusters:
              duck: {engine: duckdb}
            groups:
              local: {clusters: [duck]}
              a: {clusters: [duck]}
              b: {clusters: [duck]}
            routing:
              default_group: local
            routes:

            """);
        for (int i = 0; i < Rules; i++)
        {
            string group = i % 2 == 0 ? "a" : "b";
            string statement = i % 3 == 0 ? "insert" : "select";
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: r{i}\n    when:\n      user: u{i % 500}\n      application: app{i % 7}\n      protocol: {(i % 4 == 0 ? "mysql" : "postgres")}\n      statement: {statement}\n");
            if (i % 10 == 0)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"      tables: [\"sales{i}.*\", \"*.events_{i}\"]\n");
            }

            if (i % 50 == 0)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"      sql_regex: \"(?i)hint_{i}\\\\b\"\n");
            }

            yaml.Append(i % 20 == 5 ? "    tags: [seen]\n" : $"    group: {group}\n");
        }

        ConfigLoadResult loaded = ConfigLoader.Load(yaml.ToString(), null, _ => null);
        if (!loaded.Success)
        {
            throw new InvalidOperationException(string.Join("\n", loaded.Errors));
        }

        _table = RouteTable.Compile(loaded.Config!);
        // mysql / u0 / app0 / insert: dispatch leaves rule 0 (whose keys all match); its table globs and
        // regex are tested and fail -> fallback.
        _fallsThrough = Request("u0", "app0", "INSERT INTO sales.orders SELECT * FROM web.events_9 e WHERE e.id = 5");
        _fallsThrough.Protocol = "mysql";
        // The first plain postgres/select group rule from the middle of the list on (or an earlier one with the same keys).
        int m = Rules / 2;
        while (m % 4 == 0 || m % 3 == 0 || m % 10 == 0 || m % 20 == 5)
        {
            m++;
        }

        _matchesMidway = Request("u" + (m % 500).ToString(CultureInfo.InvariantCulture), "app" + (m % 7).ToString(CultureInfo.InvariantCulture), "SELECT 1");
        if (_table.Decide(_fallsThrough).RuleName != "fallback" || _table.Decide(_matchesMidway).RuleName == "fallback")
        {
            throw new InvalidOperationException("benchmark requests do not route as intended");
        }
    }

    private static RouteRequest Request(string user, string application, string sql)
    {
        var request = new RouteRequest { Protocol = "postgres", Listener = "pg", User = user, Application = application, Database = "local", Sql = sql };
        _ = request.Analysis; // analysed once per statement (shared with audit), outside the decision
        return request;
    }

    [Benchmark]
    public RouteDecision DecideFallsThrough() => _table.Decide(_fallsThrough);

    [Benchmark]
    public RouteDecision DecideMatchesMidway() => _table.Decide(_matchesMidway);
}

/// <summary>
/// The shared per-statement analysis (kind, tables, hint, fingerprint in one lexer pass) and lexer
/// throughput. MB/s = UTF-16 chars x 2 / mean time; SqlChars reports the input size.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class SqlAnalysisBenchmarks
{
    private const string Typical =
        "/* edge: tags=dash */ SELECT o.id, o.total, c.name FROM sales.orders o JOIN crm.customers c ON c.id = o.customer_id " +
        "WHERE o.total > 100 AND c.region IN ('EU', 'UK', 'CH') AND o.created_at >= '2024-01-01' ORDER BY o.id LIMIT 100";

    private string _large = null!;

    /// <summary>~64 KiB of mixed SQL (strings, comments, dollar quotes, identifiers).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var sql = new StringBuilder();
        while (sql.Length < 64 * 1024)
        {
            sql.Append("SELECT \"Col\", 'it''s', $$x$$, 42.5e3 FROM s.t /* c */ JOIN u ON t.a = u.b -- end\nWHERE x IN (1, 2, 3);\n");
        }

        _large = sql.ToString();
    }

    [Benchmark]
    public SqlAnalysis AnalyzeTypical() => SqlAnalysis.Analyze(Typical, SqlSyntax.Postgres);

    [Benchmark]
    public ulong FingerprintTypical() => SqlFingerprint.Compute(Typical, SqlSyntax.Postgres);

    [Benchmark]
    public ulong Fingerprint64KiB() => SqlFingerprint.Compute(_large, SqlSyntax.Postgres);

    [Benchmark]
    public int Lex64KiB()
    {
        var lexer = new SqlLexer(_large, SqlSyntax.Postgres);
        int tokens = 0;
        while (lexer.Next().Kind != SqlTokenKind.End)
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark]
    public SqlAnalysis Analyze64KiB() => SqlAnalysis.Analyze(_large, SqlSyntax.Postgres);
}
