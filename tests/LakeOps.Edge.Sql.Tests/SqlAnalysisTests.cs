namespace LakeOps.Edge.Sql.Tests;

public class SqlAnalysisTests
{
    [Theory]
    [InlineData("SELECT * FROM a", new[] { "a" })]
    [InlineData("select * from Sales.Orders o join hr.emp e on o.id = e.id left outer join x using (id)", new[] { "sales.orders", "hr.emp", "x" })]
    [InlineData("SELECT * FROM a, b AS bb, c cc WHERE a.x = 1", new[] { "a", "b", "c" })]
    [InlineData("SELECT * FROM \"Sales\".\"Order\"\"s\"", new[] { "Sales.Order\"s" })]
    [InlineData("SELECT * FROM hive.web.events_2024", new[] { "hive.web.events_2024" })]
    [InlineData("SELECT * FROM (SELECT * FROM inner_t) s, LATERAL (SELECT * FROM lat_t) l", new[] { "inner_t", "lat_t" })]
    [InlineData("SELECT * FROM generate_series(1, 10) g, real_t", new[] { "real_t" })]
    [InlineData("SELECT extract(year FROM ts), substring(s FROM 2) FROM events", new[] { "events" })]
    [InlineData("SELECT * FROM a WHERE id IN (SELECT id FROM b) AND EXISTS (SELECT 1 FROM c)", new[] { "a", "b", "c" })]
    [InlineData("WITH recent AS (SELECT * FROM orders), top AS MATERIALIZED (SELECT * FROM recent) SELECT * FROM top JOIN users ON true", new[] { "orders", "users" })]
    [InlineData("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t", new string[0])]
    [InlineData("INSERT INTO sales.orders (id, x) SELECT id, x FROM staging.orders", new[] { "sales.orders", "staging.orders" })]
    [InlineData("UPDATE ONLY accounts SET balance = 0 FROM audit WHERE accounts.id = audit.id", new[] { "accounts", "audit" })]
    [InlineData("DELETE FROM t1 USING t2 WHERE t1.id = t2.id", new[] { "t1", "t2" })]
    [InlineData("MERGE INTO target t USING source s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v", new[] { "target", "source" })]
    [InlineData("CREATE TABLE IF NOT EXISTS sales.t2 (id int)", new[] { "sales.t2" })]
    [InlineData("DROP TABLE a, b", new[] { "a", "b" })]
    [InlineData("TRUNCATE TABLE staging.x", new[] { "staging.x" })]
    [InlineData("SELECT 'FROM fake' FROM real -- FROM commented\n", new[] { "real" })]
    [InlineData("SELECT * FROM a JOIN a ON true", new[] { "a" })]
    [InlineData("SELECT a, b FROM t ORDER BY a, b", new[] { "t" })]
    [InlineData("SELECT 1", new string[0])]
    [InlineData("SELECT * FROM t FOR UPDATE", new[] { "t" })]
    [InlineData("WITH x AS (SELECT id FROM src) UPDATE dst SET v = 1 FROM x WHERE dst.id = x.id", new[] { "src", "dst" })]
    [InlineData("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a", new[] { "t" })]
    [InlineData("SELECT * FROM a LEFT JOIN (b JOIN c ON b.id = c.id) ON a.id = b.id", new[] { "a", "b", "c" })]
    [InlineData("SELECT (SELECT max(x) FROM m), coalesce((SELECT y FROM n), 0) FROM o", new[] { "m", "n", "o" })]
    [InlineData("COPY t FROM '/tmp/x.csv'", new[] { "t" })]
    [InlineData("SELECT * FROM a JOIN b ON a.id = b.id, c WHERE c.x IN (1, 2), d", new[] { "a", "b", "c" })]
    [InlineData("SELECT * FROM a JOIN b ON f(a.x, b.y) = 1, c JOIN d ON true, e", new[] { "a", "b", "c", "d", "e" })]
    public void Tables_postgres(string sql, string[] tables) =>
        Assert.Equal(tables, SqlAnalysis.Analyze(sql, SqlSyntax.Postgres).Tables);

    [Theory]
    [InlineData("SELECT * FROM `Sales`.`orders` o JOIN db.x ON o.id = x.id", new[] { "Sales.orders", "db.x" })]
    [InlineData("INSERT IGNORE INTO t VALUES (1)", new[] { "t" })]
    [InlineData("REPLACE INTO t (a) VALUES (1)", new[] { "t" })]
    [InlineData("DELETE a FROM t1 a JOIN t2 b ON a.id = b.id, t3 WHERE b.x = 1", new[] { "t1", "t2", "t3" })]
    [InlineData("DELETE t1, t2 FROM t1 INNER JOIN t2 ON t1.id = t2.id", new[] { "t1", "t2" })]
    [InlineData("UPDATE a, b SET a.x = b.x WHERE a.id = b.id", new[] { "a", "b" })]
    [InlineData("SELECT \"FROM fake\" FROM real # FROM commented\n", new[] { "real" })]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE a = 1, b = 2", new[] { "t" })]
    public void Tables_mysql(string sql, string[] tables) =>
        Assert.Equal(tables, SqlAnalysis.Analyze(sql, SqlSyntax.MySql).Tables);

    [Fact]
    public void Tables_trino_quoted_three_part_names()
    {
        Assert.Equal(["hive.My Schema.t"], SqlAnalysis.Analyze("SELECT * FROM hive.\"My Schema\".t", SqlSyntax.Trino).Tables);
    }

    [Theory]
    [InlineData("SELECT 1", StatementCategory.Select)]
    [InlineData("(SELECT 1) UNION (SELECT 2)", StatementCategory.Select)]
    [InlineData("values (1)", StatementCategory.Select)]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", StatementCategory.Select)]
    [InlineData("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", StatementCategory.Insert)]
    [InlineData("WITH x AS (DELETE FROM t RETURNING *) DELETE FROM u", StatementCategory.Delete)]
    [InlineData("insert into t values (1)", StatementCategory.Insert)]
    [InlineData("update t set x = 1", StatementCategory.Update)]
    [InlineData("delete from t", StatementCategory.Delete)]
    [InlineData("merge into t using s on true when matched then delete", StatementCategory.Merge)]
    [InlineData("create table t (x int)", StatementCategory.Ddl)]
    [InlineData("ALTER TABLE t ADD c int", StatementCategory.Ddl)]
    [InlineData("drop view v", StatementCategory.Ddl)]
    [InlineData("truncate t", StatementCategory.Ddl)]
    [InlineData("GRANT SELECT ON t TO u", StatementCategory.Ddl)]
    [InlineData("SET search_path = x", StatementCategory.Utility)]
    [InlineData("SHOW tables", StatementCategory.Utility)]
    [InlineData("EXPLAIN SELECT 1", StatementCategory.Utility)]
    [InlineData("BEGIN", StatementCategory.Utility)]
    [InlineData("", StatementCategory.Utility)]
    [InlineData("/* edge: tags=x */ -- c\n SELECT 1", StatementCategory.Select)]
    public void Kind(string sql, StatementCategory kind) =>
        Assert.Equal(kind, SqlAnalysis.Analyze(sql, SqlSyntax.Postgres).Kind);

    [Fact]
    public void MySql_kinds_after_hash_comments()
    {
        Assert.Equal(StatementCategory.Insert, SqlAnalysis.Analyze("# note\nREPLACE INTO t VALUES (1)", SqlSyntax.MySql).Kind);
        Assert.Equal(StatementCategory.Utility, SqlAnalysis.Analyze("USE db", SqlSyntax.MySql).Kind);
    }

    [Fact]
    public void Leading_hint_comment_gives_tags_and_group()
    {
        SqlAnalysis analysis = SqlAnalysis.Analyze("  /* edge: tags=etl, nightly group=batch */ SELECT 1", SqlSyntax.Postgres);
        Assert.Equal(["etl"], analysis.Hint.Tags); // "nightly" after a space is a new (unknown) key, not a tag
        Assert.Equal("batch", analysis.Hint.Group);

        SqlAnalysis list = SqlAnalysis.Analyze("/*EDGE: tags=a,b,c */SELECT 1", SqlSyntax.MySql);
        Assert.Equal(["a", "b", "c"], list.Hint.Tags);
        Assert.Null(list.Hint.Group);
    }

    [Theory]
    [InlineData("SELECT 1 /* edge: tags=x */")]
    [InlineData("/* not an edge hint: tags=x */ SELECT 1")]
    [InlineData("-- edge: tags=x\nSELECT 1")]
    [InlineData("SELECT '/* edge: tags=x */'")]
    public void No_hint_unless_a_leading_edge_block_comment(string sql)
    {
        Assert.True(SqlAnalysis.Analyze(sql, SqlSyntax.Postgres).Hint.IsEmpty);
    }

    [Fact]
    public void Hint_after_a_mysql_hash_comment_still_leads()
    {
        Assert.Equal(["x"], SqlAnalysis.Analyze("# first\n/* edge: tags=x */ SELECT 1", SqlSyntax.MySql).Hint.Tags);
    }

    [Theory]
    [InlineData("SELECT * FROM t WHERE id = 1", SqlSyntax.Postgres)]
    [InlineData("select `a` from t where x in (1, 2, 3) # c", SqlSyntax.MySql)]
    [InlineData("SELECT * FROM hive.\"s\".t WHERE x = 'a'", SqlSyntax.Trino)]
    public void Fingerprint_is_the_one_sql_fingerprint_computes(string sql, SqlSyntax syntax) =>
        Assert.Equal(SqlFingerprint.Compute(sql, syntax), SqlAnalysis.Analyze(sql, syntax).Fingerprint);

    [Fact]
    public void Fingerprint_folds_literals_lists_whitespace_and_case_per_dialect()
    {
        Assert.Equal(
            SqlFingerprint.Compute("select `a` from t where x in (1, 2, 3) and s = 'x'", SqlSyntax.MySql),
            SqlFingerprint.Compute("SELECT a   FROM t # note\n WHERE x IN (7) AND s = \"it\\\"s\"", SqlSyntax.MySql));
        Assert.Equal(
            SqlFingerprint.Compute("SELECT $x$ a $x$, E'b\\'c' FROM t", SqlSyntax.Postgres),
            SqlFingerprint.Compute("select 'z', 'y' from T", SqlSyntax.Postgres));
        Assert.NotEqual(
            SqlFingerprint.Compute("SELECT a FROM t", SqlSyntax.Postgres),
            SqlFingerprint.Compute("SELECT b FROM t", SqlSyntax.Postgres));
        Assert.NotEqual(
            SqlFingerprint.Compute("SELECT \"A\" FROM t", SqlSyntax.Trino),
            SqlFingerprint.Compute("SELECT \"a\" FROM t", SqlSyntax.Trino));
        // The PostgreSQL overload is unchanged.
        Assert.Equal(SqlFingerprint.Compute("select 1"), SqlFingerprint.Compute("select 1", SqlSyntax.Postgres));
    }

    [Fact]
    public void Analysis_of_deeply_nested_text_does_not_fail()
    {
        string sql = "SELECT " + new string('(', 200) + "1" + new string(')', 200) + " FROM t";
        Assert.Equal(["t"], SqlAnalysis.Analyze(sql, SqlSyntax.Postgres).Tables);
    }

    [Fact]
    public void Random_token_soup_never_throws_and_keeps_the_fingerprint_consistent()
    {
        string[] pieces =
        [
            "SELECT ", "FROM ", "JOIN ", "WITH ", " AS ", "(", ")", ",", ".", "x", "\"Q\"", "`b`", "'s'", "E'\\''", "$$d$$", "$t$",
            "/*", "*/", "--", "#", "\n", " ", "INSERT INTO ", "UPDATE ", "USING ", "TABLE ", "1", ";", "/* edge: tags=a */", "IN (1, 2)",
        ];
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            var sql = new System.Text.StringBuilder();
            for (int n = random.Next(1, 30); n > 0; n--)
            {
                sql.Append(pieces[random.Next(pieces.Length)]);
            }

            string text = sql.ToString();
            foreach (SqlSyntax syntax in Enum.GetValues<SqlSyntax>())
            {
                SqlAnalysis analysis = SqlAnalysis.Analyze(text, syntax);
                Assert.Equal(SqlFingerprint.Compute(text, syntax), analysis.Fingerprint);
                Assert.All(analysis.Tables, t => Assert.NotEmpty(t));
            }
        }
    }
}
