using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// The per-statement SQL work on the hot path: split, classify, fingerprint, translate.
/// Budget: Translate of a query without catalog constructs allocates 0 bytes (it returns the
/// same string), as do Classify and Compute; Split of a single statement allocates only its list.
/// </summary>
[MemoryDiagnoser]
public class SqlBenchmarks
{
    // A typical application query: has casts ("::" triggers the token scan) but nothing to rewrite.
    private const string PlainWithCasts =
        "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id " +
        "WHERE o.total > $1::numeric AND c.region = 'EU' AND o.created_at >= $2::timestamptz ORDER BY o.id LIMIT 100";

    // No trigger substring at all: rejected by the vectorised pre-scan.
    private const string Plain =
        "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id " +
        "WHERE o.total > $1 AND c.region = 'EU' ORDER BY o.id LIMIT 100";

    // psql's \dt: every rewrite kind that matters for catalog queries.
    private const string PsqlListTables = """
        SELECT n.nspname as "Schema",
          c.relname as "Name",
          CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
          pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
        FROM pg_catalog.pg_class c
             LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
        WHERE c.relkind IN ('r','p','')
              AND n.nspname <> 'pg_catalog'
              AND n.nspname !~ '^pg_toast'
              AND n.nspname <> 'information_schema'
          AND pg_catalog.pg_table_is_visible(c.oid)
        ORDER BY 1,2;
        """;

    private const string Batch = "BEGIN; INSERT INTO t VALUES (1, 'a;b'); UPDATE t SET b = $$x;y$$ WHERE a = 1; COMMIT;";

    [Benchmark]
    public string TranslatePlain() => PgToDuckDbTranslator.Translate(Plain);

    [Benchmark]
    public string TranslatePlainWithCasts() => PgToDuckDbTranslator.Translate(PlainWithCasts);

    [Benchmark]
    public string TranslatePsqlListTables() => PgToDuckDbTranslator.Translate(PsqlListTables);

    [Benchmark]
    public IReadOnlyList<string> SplitSingle() => SqlSplitter.Split(PlainWithCasts);

    [Benchmark]
    public IReadOnlyList<string> SplitBatch() => SqlSplitter.Split(Batch);

    [Benchmark]
    public StatementInfo Classify() => StatementClassifier.Classify(PlainWithCasts);

    [Benchmark]
    public ulong Fingerprint() => SqlFingerprint.Compute(PlainWithCasts);

    [Benchmark]
    public bool CatalogIsNeeded() => DuckDbPgCatalog.IsNeeded(PlainWithCasts);
}
