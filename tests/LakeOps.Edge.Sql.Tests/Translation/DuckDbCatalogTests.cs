using System.Globalization;
using DuckDB.NET.Data;
using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Sql.Tests.Translation;

/// <summary>
/// Runs the queries psql 15 sends (captured with <c>psql -E</c>) against a real in-memory DuckDB,
/// after <see cref="PgToDuckDbTranslator.Translate"/> and <see cref="DuckDbPgCatalog.InstallSql"/>.
/// </summary>
public sealed class DuckDbCatalogTests : IDisposable
{
    /// <summary>The oid psql used when the queries were captured; at runtime psql uses the oid it just looked up.</summary>
    private const string CapturedOid = "'16384'";

    private readonly DuckDBConnection _connection;

    public DuckDbCatalogTests()
    {
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        Execute("CREATE TABLE t(a int, b text)");
        Execute(DuckDbPgCatalog.InstallSql);
    }

    public void Dispose() => _connection.Dispose();

    public static TheoryData<string, int> PsqlQueries()
    {
        var data = new TheoryData<string, int>();
        foreach (string file in new[] { "psql15-l-dt-d.sql", "psql15-more.sql" })
        {
            string[] queries = LoadQueries(file);
            for (int i = 0; i < queries.Length; i++)
            {
                data.Add(file, i);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PsqlQueries))]
    public void Every_psql_query_runs(string file, int index)
    {
        string sql = LoadQueries(file)[index].Replace(CapturedOid, "'" + TableOid("t") + "'", StringComparison.Ordinal);
        string translated = PgToDuckDbTranslator.Translate(sql);
        // Throws with DuckDB's message when the statement does not bind or run.
        Query(translated);
    }

    [Fact]
    public void List_databases_shows_the_current_database()
    {
        List<object?[]> rows = RunPsql(q => q.Contains("FROM pg_catalog.pg_database d", StringComparison.Ordinal));
        object?[] memory = Assert.Single(rows, r => (string?)r[0] == "memory");
        Assert.Equal("duckdb", memory[1]);
        Assert.Equal("UTF8", memory[2]);
        Assert.Equal("C.UTF-8", memory[3]);
        Assert.Equal("libc", memory[6]);
    }

    [Fact]
    public void List_tables_shows_t()
    {
        List<object?[]> rows = RunPsql(q => q.Contains("c.relkind IN ('r','p','')", StringComparison.Ordinal));
        object?[] row = Assert.Single(rows);
        Assert.Equal(["main", "t", "table", "duckdb"], row);
    }

    [Fact]
    public void List_relations_shows_tables_and_views_but_not_the_catalog_emulation()
    {
        Execute("CREATE VIEW v AS SELECT a FROM t");
        List<object?[]> rows = RunPsql(q => q.Contains("c.relkind IN ('r','p','v','m','S','f','')", StringComparison.Ordinal));
        Assert.Equal([["main", "t", "table", "duckdb"], ["main", "v", "view", "duckdb"]], rows);
    }

    [Fact]
    public void Describe_table_finds_its_oid_and_lists_columns_with_PostgreSQL_types()
    {
        List<object?[]> lookup = RunPsql(q => q.Contains("OPERATOR(pg_catalog.~) '^(t)$'", StringComparison.Ordinal));
        object?[] found = Assert.Single(lookup);
        Assert.Equal(TableOid("t"), Convert.ToInt64(found[0], CultureInfo.InvariantCulture));
        Assert.Equal("t", found[2]);

        List<object?[]> columns = RunPsql(q => q.Contains("pg_catalog.format_type(a.atttypid, a.atttypmod)", StringComparison.Ordinal));
        Assert.Equal(2, columns.Count);
        Assert.Equal(("a", "integer"), ((string?)columns[0][0], (string?)columns[0][1]));
        Assert.Equal(("b", "text"), ((string?)columns[1][0], (string?)columns[1][1]));
    }

    [Fact]
    public void Describe_table_reports_the_table_kind_and_no_row_security()
    {
        object?[] row = Assert.Single(RunPsql(q => q.Contains("c.relforcerowsecurity", StringComparison.Ordinal)));
        Assert.Equal("r", row[1]);
        Assert.Equal(false, row[5]);
        Assert.Equal(false, row[6]);
        Assert.Equal("d", row[13]);
    }

    [Fact]
    public void Format_type_prints_PostgreSQL_names_with_modifiers()
    {
        Execute("CREATE TABLE typed(i int, n decimal(10,2), l int[], s varchar, d double, ts timestamptz, u uuid, st struct(x int))");
        List<object?[]> rows = Query(PgToDuckDbTranslator.Translate(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'typed'::regclass ORDER BY a.attnum"));
        Assert.Equal(
            ["integer", "numeric(10,2)", "integer[]", "text", "double precision", "timestamp with time zone", "uuid", "text"],
            rows.Select(r => (string)r[1]!).ToArray());
    }

    [Fact]
    public void Describe_table_with_index_and_check_lists_them()
    {
        Execute("CREATE TABLE tt(a int, b text CHECK (b <> ''))");
        Execute("CREATE INDEX tt_b ON tt(b)");
        string oid = "'" + TableOid("tt") + "'";
        string[] more = LoadQueries("psql15-more.sql");
        string indexes = more.Single(q => q.Contains("pg_get_indexdef", StringComparison.Ordinal)).Replace(CapturedOid, oid, StringComparison.Ordinal);
        object?[] index = Assert.Single(Query(PgToDuckDbTranslator.Translate(indexes)));
        Assert.Equal("tt_b", index[0]);
        // psql prints what follows " USING ".
        Assert.EndsWith(" USING art (b)", (string?)index[5], StringComparison.Ordinal);

        string checks = more.Single(q => q.Contains("r.contype = 'c'", StringComparison.Ordinal)).Replace(CapturedOid, oid, StringComparison.Ordinal);
        object?[] check = Assert.Single(Query(PgToDuckDbTranslator.Translate(checks)));
        Assert.Contains("CHECK", (string?)check[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("select 't'::regclass = (select oid from pg_catalog.pg_class where relname = 't')", true)]
    [InlineData("select 'public.t'::regclass = (select oid from pg_catalog.pg_class where relname = 't')", true)]
    [InlineData("select 'nope'::regclass is null", true)]
    [InlineData("select 't'::regclass::text = 't'", true)]
    [InlineData("select (select oid from pg_class where relname = 't')::regclass::text = 't'", true)]
    [InlineData("select 'int4'::regtype = 23 and 'integer'::regtype = 23 and 'pg_catalog.text'::regtype = 25", true)]
    [InlineData("select 23::regtype::text = 'integer'", true)]
    [InlineData("select 'main'::regnamespace::text = 'main' and 'public'::regnamespace = 'main'::regnamespace", true)]
    [InlineData("select 'publicity.t'::regclass is null", true)]
    [InlineData("select 'array_in'::regproc = 750", true)]
    [InlineData("select count(*) = (select count(*) from pg_type where typcategory = 'A') from pg_type where typinput = 'pg_catalog.array_in'::regproc", true)]
    [InlineData("select 'abc' ~ 'b' and 'abc' !~ '^b' and 'ABC' ~* 'b' and not ('ABC' !~* 'b')", true)]
    [InlineData("select 'a\nb' ~ 'a.b'", true)]
    [InlineData("select sum(s) = 6 from generate_series(1, 3) s", true)]
    [InlineData("select count(*) = 1 from pg_catalog.pg_database where datctype = 'C.UTF-8' and datname = current_database()", true)]
    [InlineData("select 'x' = any (array['x', 'y']) and 1 = any (s) from (select [1, 2] as s)", true)]
    [InlineData("select array_upper([1, 2, 3], 1) = 3 and array_lower([1], 1) = 1", true)]
    public void Catalog_expressions_evaluate_like_PostgreSQL(string sql, bool expected)
    {
        object?[] row = Assert.Single(Query(PgToDuckDbTranslator.Translate(sql)));
        Assert.Equal(expected, row[0]);
    }

    [Fact]
    public void Every_array_type_in_pg_type_points_at_its_element()
    {
        List<object?[]> rows = Query("SELECT a.typname, e.typarray = a.oid FROM pg_type a JOIN pg_type e ON e.oid = a.typelem WHERE a.typcategory = 'A'");
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal(true, r[1]));
    }

    [Fact]
    public void Install_is_idempotent()
    {
        Execute(DuckDbPgCatalog.InstallSql);
        foreach (string statement in DuckDbPgCatalog.InstallStatements)
        {
            Execute(statement);
        }

        Assert.Single(RunPsql(q => q.Contains("c.relkind IN ('r','p','')", StringComparison.Ordinal)));
    }

    [Fact]
    public void Install_statements_split_naively_and_create_only_temp_objects()
    {
        Assert.Equal(DuckDbPgCatalog.InstallStatements.Count, DuckDbPgCatalog.InstallSql.Split(";\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.All(DuckDbPgCatalog.InstallStatements, s => Assert.StartsWith("CREATE OR REPLACE TEMP ", s, StringComparison.Ordinal));
        Assert.All(DuckDbPgCatalog.InstallStatements, s => Assert.DoesNotContain(';', s));

        string path = Path.Combine(Path.GetTempPath(), "lakeops-catalog-" + Guid.NewGuid().ToString("N") + ".duckdb");
        try
        {
            using (var file = new DuckDBConnection("DataSource=" + path))
            {
                file.Open();
                using DuckDBCommand command = file.CreateCommand();
                command.CommandText = "CREATE TABLE x(a int)";
                command.ExecuteNonQuery();
                command.CommandText = DuckDbPgCatalog.InstallSql;
                command.ExecuteNonQuery();
            }

            using var reopened = new DuckDBConnection("DataSource=" + path);
            reopened.Open();
            using DuckDBCommand check = reopened.CreateCommand();
            check.CommandText = "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal) + (SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' AND database_name <> 'system')";
            Assert.Equal(0L, Convert.ToInt64(check.ExecuteScalar(), CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".wal");
        }
    }

    private List<object?[]> RunPsql(Func<string, bool> pick)
    {
        string sql = LoadQueries("psql15-l-dt-d.sql").First(pick).Replace(CapturedOid, "'" + TableOid("t") + "'", StringComparison.Ordinal);
        return Query(PgToDuckDbTranslator.Translate(sql));
    }

    private long TableOid(string name)
    {
        using DuckDBCommand command = _connection.CreateCommand();
        command.CommandText = "SELECT table_oid FROM duckdb_tables() WHERE table_name = $name";
        command.Parameters.Add(new DuckDBParameter("name", name));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private void Execute(string sql)
    {
        using DuckDBCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private List<object?[]> Query(string sql)
    {
        using DuckDBCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    private static string[] LoadQueries(string file) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Translation", "Queries", file))
            .Split("\n;;\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(q => q.Length > 0)
            .ToArray();
}
