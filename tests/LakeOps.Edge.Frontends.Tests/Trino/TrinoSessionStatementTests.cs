using LakeOps.Edge.Frontends.Trino;
using Microsoft.AspNetCore.Http;

namespace LakeOps.Edge.Frontends.Tests.Trino;

public class TrinoSessionStatementTests
{
    [Theory]
    [InlineData("USE hive.sales", "hive", "sales")]
    [InlineData("use Sales;", null, "sales")]
    [InlineData("USE \"My Cat\".\"S\"", "My Cat", "S")]
    public void Use(string sql, string? catalog, string schema)
    {
        TrinoSessionStatement statement = TrinoSessionStatement.Parse(sql);
        Assert.Equal(TrinoSessionStatementKind.Use, statement.Kind);
        Assert.Equal(catalog, statement.Catalog);
        Assert.Equal(schema, statement.Schema);
    }

    [Theory]
    [InlineData("SET SESSION query_max_run_time = '10m'", "query_max_run_time", "10m")]
    [InlineData("set session hive.bucket_execution_enabled=false", "hive.bucket_execution_enabled", "false")]
    [InlineData("SET SESSION x = 'it''s'", "x", "it's")]
    public void Set_session(string sql, string name, string value)
    {
        TrinoSessionStatement statement = TrinoSessionStatement.Parse(sql);
        Assert.Equal(TrinoSessionStatementKind.SetSession, statement.Kind);
        Assert.Equal(name, statement.Name);
        Assert.Equal(value, statement.Value);
    }

    [Fact]
    public void Prepare_execute_deallocate_transactions()
    {
        TrinoSessionStatement prepare = TrinoSessionStatement.Parse("PREPARE q FROM SELECT * FROM t WHERE a = ?");
        Assert.Equal(TrinoSessionStatementKind.Prepare, prepare.Kind);
        Assert.Equal("q", prepare.Name);
        Assert.Equal("SELECT * FROM t WHERE a = ?", prepare.Value);

        TrinoSessionStatement execute = TrinoSessionStatement.Parse("EXECUTE q USING 1, 'a,b', f(2, 3)");
        Assert.Equal(TrinoSessionStatementKind.Execute, execute.Kind);
        Assert.Equal(["1", "'a,b'", "f(2, 3)"], execute.Parameters);

        Assert.Equal(TrinoSessionStatementKind.Deallocate, TrinoSessionStatement.Parse("DEALLOCATE PREPARE q").Kind);
        Assert.Equal(TrinoSessionStatementKind.ResetSession, TrinoSessionStatement.Parse("RESET SESSION a.b").Kind);
        Assert.Equal(TrinoSessionStatementKind.StartTransaction, TrinoSessionStatement.Parse("START TRANSACTION READ ONLY").Kind);
        Assert.Equal(TrinoSessionStatementKind.Commit, TrinoSessionStatement.Parse("commit").Kind);
        Assert.Equal(TrinoSessionStatementKind.Rollback, TrinoSessionStatement.Parse("ROLLBACK WORK").Kind);
        Assert.Equal(TrinoSessionStatementKind.None, TrinoSessionStatement.Parse("SELECT 'USE x'").Kind);
        Assert.Equal(TrinoSessionStatementKind.None, TrinoSessionStatement.Parse("USE").Kind);
    }

    [Fact]
    public void Bind_replaces_markers_outside_literals_and_comments()
    {
        Assert.Equal("SELECT 1, '?', \"?\" /* ? */ , 'x' -- ?\n", TrinoSessionStatement.Bind("SELECT ?, '?', \"?\" /* ? */ , ? -- ?\n", ["1", "'x'"]));
        Assert.Null(TrinoSessionStatement.Bind("SELECT ?, ?", ["1"]));
        Assert.Null(TrinoSessionStatement.Bind("SELECT ?", ["1", "2"]));
        Assert.Equal("SELECT 'it''s?'", TrinoSessionStatement.Bind("SELECT 'it''s?'", []));
    }

    [Fact]
    public void Headers_make_the_client_session_trino_wins_over_presto()
    {
        var headers = new HeaderDictionary
        {
            ["X-Trino-User"] = "alice",
            ["X-Presto-User"] = "bob",
            ["X-Presto-Catalog"] = "hive",
            ["X-Trino-Schema"] = "web",
            ["X-Trino-Source"] = "dbt",
            ["X-Trino-Client-Tags"] = "etl, nightly",
            ["X-Trino-Session"] = "a=1,b=x%20y",
            ["X-Trino-Prepared-Statement"] = "p=SELECT%20%3F",
            ["X-Trino-Transaction-Id"] = "NONE",
            ["X-Trino-Routing-Group"] = "batch",
            ["Accept"] = "*/*",
        };
        TrinoClientSession session = TrinoClientSession.FromHeaders(headers);
        Assert.Equal("alice", session.User);
        Assert.Equal("hive", session.Catalog);
        Assert.Equal("web", session.Schema);
        Assert.Equal("dbt", session.Source);
        Assert.Equal(["etl", "nightly"], session.ClientTags);
        Assert.Equal("x y", session.Properties["B"]);
        Assert.Equal("SELECT ?", session.PreparedStatements["p"]);
        Assert.Null(session.TransactionId);
        Assert.Equal("batch", session.RoutingGroup);
        Assert.Equal("hive", session.Headers["x-trino-catalog"]);
        Assert.False(session.Headers.ContainsKey("Accept"));
    }

    [Theory]
    [InlineData("insert into t values (1)", "INSERT")]
    [InlineData("  CREATE TABLE t (a int)", "CREATE TABLE")]
    [InlineData("drop view v", "DROP VIEW")]
    public void Update_type_is_the_leading_keywords(string sql, string expected) =>
        Assert.Equal(expected, TrinoFrontDoor.UpdateType(sql));
}
