using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Sql.Tests.Translation;

public class PgToDuckDbTranslatorTests
{
    [Theory]
    [InlineData("select 1")]
    [InlineData("SELECT a, b FROM t WHERE a = $1::int4 AND b LIKE 'x%'")]
    [InlineData("select $1::text, x::numeric(10,2), y::int[] from t")]
    [InlineData("select 'pg_catalog.pg_class', \"pg_catalog\" from t")]
    [InlineData("select * from generate_series(1, 3)")]
    [InlineData("select generate_series(1, 3) s from t")]
    [InlineData("select * from t where name ~~ 'a%'")]
    [InlineData("select ~5, a ~~ b, a !~~ 'x%'")]
    [InlineData("select cast(a as int) from t")]
    [InlineData("select 'operator' || ' collate ' from t -- pg_catalog. ~ ::oid")]
    [InlineData("select x from db.pg_catalog.t")]
    public void Returns_the_same_instance_when_nothing_changes(string sql)
    {
        Assert.Same(sql, PgToDuckDbTranslator.Translate(sql));
    }

    [Theory]
    // pg_catalog qualifiers on tables, functions and types.
    [InlineData("SELECT * FROM pg_catalog.pg_class c", "SELECT * FROM pg_class c")]
    [InlineData("select pg_catalog.pg_get_userbyid(c.relowner)", "select pg_get_userbyid(c.relowner)")]
    [InlineData("select \"pg_catalog\".pg_type.oid from \"pg_catalog\".pg_type", "select pg_type.oid from pg_type")]
    [InlineData("select x::pg_catalog.text", "select x::text")]
    [InlineData("select pr.prattrs::pg_catalog.int2[]", "select pr.prattrs::int2[]")]
    // OPERATOR(...) and COLLATE.
    [InlineData("where a OPERATOR(pg_catalog.=) b", "where a = b")]
    [InlineData("where a operator(+) b", "where a + b")]
    [InlineData("where c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default", "where c.relname ~ '(?s).*(?:^(t)$).*'")]
    [InlineData("select a COLLATE \"default\" from t", "select a from t")]
    [InlineData("select a COLLATE \"POSIX\" from t", "select a from t")]
    [InlineData("select a COLLATE \"C\" from t", "select a COLLATE \"C\" from t")]
    // Regular expressions: PostgreSQL matches anywhere, DuckDB's ~ matches the whole string.
    [InlineData("where n.nspname !~ '^pg_toast'", "where n.nspname !~ '(?s).*(?:^pg_toast).*'")]
    [InlineData("where a ~* 'abc'", "where a ~ '(?si).*(?:abc).*'")]
    [InlineData("where a !~* E'a\\\\d'", "where a !~ E'(?si).*(?:a\\\\d).*'")]
    [InlineData("where a ~ $1", "where a ~ ('(?s).*(?:' || $1 || ').*')")]
    [InlineData("where a ~ t.pattern", "where a ~ ('(?s).*(?:' || t.pattern || ').*')")]
    [InlineData("where a ~ lower(p)::text", "where a ~ ('(?s).*(?:' || lower(p)::text || ').*')")]
    // Types DuckDB lacks.
    [InlineData("select c.oid::oid, x::pg_catalog.oid", "select c.oid::BIGINT, x::BIGINT")]
    [InlineData("select relname::name, x::jsonb", "select relname::VARCHAR, x::JSON")]
    [InlineData("select cast(x as oid), CAST(y AS pg_catalog.name)", "select cast(x as BIGINT), CAST(y AS VARCHAR)")]
    // reg* casts become lookups.
    [InlineData("select c.oid::pg_catalog.regclass", "select lakeops_regclass(c.oid)")]
    [InlineData("select 'public.t'::regclass", "select lakeops_regclass('public.t')")]
    [InlineData("where attrelid = 't'::regclass::oid", "where attrelid = lakeops_regclass('t')::BIGINT")]
    [InlineData("order by c.oid::pg_catalog.regclass::pg_catalog.text", "order by lakeops_regclass_name(c.oid)")]
    [InlineData("select c.reloftype::pg_catalog.regtype::pg_catalog.text", "select lakeops_regtype_name(c.reloftype)")]
    [InlineData("select stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp", "select lakeops_regnamespace_name(stxnamespace) AS nsp")]
    [InlineData("select typinput = 'array_in'::regproc", "select typinput = lakeops_regproc('array_in')")]
    [InlineData("select x::text::regclass", "select lakeops_regclass(x::text)")]
    [InlineData("select (a + b)::regclass, f(x)::regtype, arr[1]::regclass", "select lakeops_regclass((a + b)), lakeops_regtype(f(x)), lakeops_regclass(arr[1])")]
    [InlineData("select pg_catalog.f(x)::regclass", "select lakeops_regclass(f(x))")]
    [InlineData("select CAST(x AS regclass), CAST('t' AS pg_catalog.regclass)", "select lakeops_regclass(x), lakeops_regclass('t')")]
    [InlineData("select x::regoper, y::regconfig::text", "select TRY_CAST(x AS BIGINT), CAST(y AS VARCHAR)")]
    [InlineData("select -1::regclass", "select -lakeops_regclass(1)")]
    // Set-returning functions in FROM name their column after the alias, as in PostgreSQL.
    [InlineData("select s from generate_series(1, 3) s", "select s from generate_series(1, 3) s(s)")]
    [InlineData("FROM pg_catalog.generate_series(0, pg_catalog.array_upper(a, 1)) s, pg_catalog.pg_attribute", "FROM generate_series(0, array_upper(a, 1)) s(s), pg_attribute")]
    [InlineData("select * from t join unnest(t.arr) as u on true", "select * from t join unnest(t.arr) as u(u) on true")]
    [InlineData("select * from t, lateral generate_series(1, t.n) g where g > 1", "select * from t, lateral generate_series(1, t.n) g(g) where g > 1")]
    public void Rewrites(string sql, string expected)
    {
        Assert.Equal(expected, PgToDuckDbTranslator.Translate(sql));
    }

    [Theory]
    [InlineData("select * from generate_series(1, 3) s(x)")]
    [InlineData("select * from generate_series(1, 3) where true")]
    [InlineData("select * from unnest(a, b) u")]
    [InlineData("select * from generate_series(1, 3) with ordinality as t(x, n)")]
    public void Leaves_table_functions_with_explicit_columns_alone(string sql)
    {
        Assert.Same(sql, PgToDuckDbTranslator.Translate(sql));
    }

    [Fact]
    public void Rewrites_do_not_touch_strings_comments_or_quoted_names()
    {
        const string sql = "select 'x::regclass', $$pg_catalog.f$$ /* OPERATOR(pg_catalog.~) */, \"a::oid\" from pg_catalog.t";
        Assert.Equal("select 'x::regclass', $$pg_catalog.f$$ /* OPERATOR(pg_catalog.~) */, \"a::oid\" from t", PgToDuckDbTranslator.Translate(sql));
    }

    [Fact]
    public void Translate_of_a_plain_query_does_not_allocate()
    {
        string[] queries =
        [
            "SELECT a, b FROM t WHERE a = $1::int4 AND b LIKE 'x%' ORDER BY a LIMIT 10",
            "select count(*) from orders o join customers c on c.id = o.customer_id where o.total > 100",
        ];
        Assert.Equal(0, Allocations.Of(() =>
        {
            foreach (string sql in queries)
            {
                PgToDuckDbTranslator.Translate(sql);
            }
        }));
    }

    [Fact]
    public void Long_statements_with_casts_are_handled()
    {
        // More tokens than the initial pooled buffer holds.
        string sql = "select " + string.Join(", ", Enumerable.Range(0, 400).Select(i => $"c{i}::int4")) + " from pg_catalog.t";
        string translated = PgToDuckDbTranslator.Translate(sql);
        Assert.EndsWith(" from t", translated, StringComparison.Ordinal);
        Assert.Contains("c399::int4", translated, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("select * from pg_catalog.pg_class", true)]
    [InlineData("select 'x'::regclass", true)]
    [InlineData("SELECT format_type(1, 2)", true)]
    [InlineData("select * from information_schema.tables", true)]
    [InlineData("select a from t where b = 1", false)]
    public void IsNeeded_spots_catalog_statements(string sql, bool needed)
    {
        Assert.Equal(needed, DuckDbPgCatalog.IsNeeded(sql));
    }
}
