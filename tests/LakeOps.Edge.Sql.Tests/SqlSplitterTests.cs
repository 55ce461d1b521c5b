namespace LakeOps.Edge.Sql.Tests;

public class SqlSplitterTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    [InlineData(";")]
    [InlineData(" ; ;; ")]
    [InlineData("-- only a comment")]
    [InlineData("/* c */ ; -- d\n;")]
    public void Strings_without_statements_give_an_empty_list(string sql)
    {
        Assert.Empty(SqlSplitter.Split(sql));
        Assert.Equal(0, SqlSplitter.Count(sql));
    }

    [Fact]
    public void Single_statement_is_returned_as_the_same_instance()
    {
        const string sql = "select 1";
        IReadOnlyList<string> statements = SqlSplitter.Split(sql);
        Assert.Single(statements);
        Assert.Same(sql, statements[0]);
    }

    [Theory]
    [InlineData("select 1;", new[] { "select 1" })]
    [InlineData("  select a from t \n", new[] { "select a from t" })]
    [InlineData("  select 1 ;  ", new[] { "select 1" })]
    [InlineData("select 1;;select 2", new[] { "select 1", "select 2" })]
    [InlineData("select 1; -- trailing comment", new[] { "select 1" })]
    [InlineData("select 1 -- c\n; select 2", new[] { "select 1", "select 2" })]
    [InlineData("select ';' ; select 2", new[] { "select ';'", "select 2" })]
    [InlineData("select E'\\';' ; select 2", new[] { "select E'\\';'", "select 2" })]
    [InlineData("select $$;$$; select $x$ ; $$ ; $x$", new[] { "select $$;$$", "select $x$ ; $$ ; $x$" })]
    [InlineData("select \";\" from t; select 2", new[] { "select \";\" from t", "select 2" })]
    [InlineData("select /* ; /* ; */ ; */ 1; select 2", new[] { "select /* ; /* ; */ ; */ 1", "select 2" })]
    [InlineData("select (select 1; ); select 2", new[] { "select (select 1; )", "select 2" })]
    [InlineData("select 1; -- c\nselect 2", new[] { "select 1", "-- c\nselect 2" })]
    public void Splits_at_top_level_semicolons_only(string sql, string[] expected)
    {
        Assert.Equal(expected, SqlSplitter.Split(sql));
        Assert.Equal(expected.Length, SqlSplitter.Count(sql));
    }

    [Fact]
    public void Begin_atomic_function_bodies_stay_whole()
    {
        const string create = """
            CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
              SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;
              SELECT a;
            END
            """;
        IReadOnlyList<string> statements = SqlSplitter.Split(create + "; select 2");
        Assert.Equal([create, "select 2"], statements);
    }

    [Fact]
    public void Transaction_begin_is_not_a_function_body()
    {
        Assert.Equal(["BEGIN", "select 1", "END"], SqlSplitter.Split("BEGIN; select 1; END;"));
    }

    [Fact]
    public void Npgsql_startup_batch_splits_into_its_four_queries()
    {
        string batch = NpgsqlStartupBatch.Text;
        IReadOnlyList<string> statements = SqlSplitter.Split(batch);
        Assert.Equal(4, statements.Count);
        Assert.Equal("SELECT version()", statements[0]);
        Assert.StartsWith("SELECT ns.nspname", statements[1], StringComparison.Ordinal);
        Assert.StartsWith("-- Load field definitions", statements[2], StringComparison.Ordinal);
        Assert.StartsWith("-- Load enum fields", statements[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Unterminated_string_keeps_the_rest_in_one_statement()
    {
        Assert.Equal(["select 1", "select 'oops; select 3"], SqlSplitter.Split("select 1; select 'oops; select 3"));
    }
}
