using LakeOps.Edge.Frontends.MySql;

namespace LakeOps.Edge.Frontends.Tests.MySql;

public class MySqlGatewayStatementTests
{
    private static readonly MySqlSessionVariables Variables = new("8.0.36-LakeOps-Edge", 1 << 26, 13306, tlsAvailable: false, "utf8mb4_0900_ai_ci");

    private static MySqlGatewayStatement? Classify(string sql) => MySqlGatewayStatement.Classify(sql, Variables);

    [Theory]
    [InlineData("select @@version_comment limit 1", "@@version_comment", "version_comment", "")]
    [InlineData("SELECT @@session.auto_increment_increment AS auto_increment_increment", "auto_increment_increment", "auto_increment_increment", "session")]
    [InlineData("/* ApplicationName=x */ SELECT @@GLOBAL.max_allowed_packet;", "@@GLOBAL.max_allowed_packet", "max_allowed_packet", "global")]
    [InlineData("select DATABASE()", "DATABASE()", "DATABASE", "")]
    [InlineData("select connection_id() id", "id", "CONNECTION_ID", "")]
    public void Connect_time_selects_are_answered_by_the_gateway(string sql, string column, string name, string scope)
    {
        MySqlGatewayStatement statement = Assert.IsType<MySqlGatewayStatement>(Classify(sql));
        Assert.Equal(MySqlGatewayKind.Select, statement.Kind);
        MySqlSelectItem item = Assert.Single(statement.Items);
        Assert.Equal((column, name, scope), (item.ColumnName, item.Name, item.Scope));
    }

    [Fact]
    public void Several_items_and_a_limit_are_kept()
    {
        MySqlGatewayStatement statement = Classify("SELECT CONNECTION_ID(), VERSION(), @@tx_isolation LIMIT 0")!;
        Assert.Equal(["CONNECTION_ID", "VERSION", "tx_isolation"], statement.Items.Select(i => i.Name));
        Assert.Equal(0, statement.Limit);
    }

    [Theory]
    [InlineData("select 1")]
    [InlineData("select @@version, 1")]
    [InlineData("select @@version from t")]
    [InlineData("select now()")]
    [InlineData("set threads = 4")]
    [InlineData("set @user_var = 1")]
    [InlineData("set sql_mode = concat(@@sql_mode, ',X')")]
    [InlineData("show tables")]
    [InlineData("use")]
    [InlineData("kill query abc")]
    [InlineData("rollback to savepoint s")]
    [InlineData("select 'unterminated")]
    [InlineData("")]
    public void Everything_else_goes_to_the_engine(string sql) => Assert.Null(Classify(sql));

    [Fact]
    public void Set_names_and_session_variables_are_recognised()
    {
        MySqlGatewayStatement names = Classify("SET NAMES utf8mb4 COLLATE utf8mb4_bin")!;
        Assert.Equal((MySqlGatewayKind.Set, "utf8mb4", "utf8mb4_bin"), (names.Kind, names.Names, names.Collation));

        MySqlGatewayStatement many = Classify("SET autocommit=1, SESSION sql_mode='STRICT_TRANS_TABLES', @@session.time_zone = '+00:00', character_set_results = NULL, net_write_timeout = DEFAULT")!;
        Assert.Equal(
            [("autocommit", "1", false), ("sql_mode", "STRICT_TRANS_TABLES", false), ("time_zone", "+00:00", false), ("character_set_results", null, false), ("net_write_timeout", null, true)],
            many.Assignments.Select(a => (a.Name, a.Value, a.IsDefault)));

        MySqlGatewayStatement isolation = Classify("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")!;
        Assert.Equal(("transaction_isolation", "READ-COMMITTED"), (isolation.Assignments[0].Name, isolation.Assignments[0].Value));
        Assert.Equal("utf8", Classify("SET CHARACTER SET utf8")!.Names);
        Assert.Equal("-1", Classify("set sql_select_limit = -1")!.Assignments[0].Value);
    }

    [Fact]
    public void Show_use_kill_and_transactions_are_recognised()
    {
        Assert.Equal(MySqlGatewayKind.ShowDatabases, Classify("SHOW DATABASES")!.Kind);
        Assert.Equal("l%", Classify("show schemas like 'l%'")!.Like);
        Assert.Equal(("sql_mode", MySqlGatewayKind.ShowVariables), (Classify("SHOW SESSION VARIABLES LIKE 'sql_mode'")!.Like, Classify("show variables")!.Kind));
        Assert.Equal(MySqlGatewayKind.ShowWarnings, Classify("SHOW WARNINGS LIMIT 10")!.Kind);
        Assert.Equal("my db", Classify("USE `my db`")!.Database);
        Assert.Equal((7u, false), (Classify("KILL QUERY 7")!.KillId, Classify("KILL QUERY 7")!.KillConnection));
        Assert.True(Classify("kill connection 8")!.KillConnection);
        Assert.True(Classify("KILL 9")!.KillConnection);
        Assert.Equal(MySqlTransactionKind.Begin, Classify("START TRANSACTION READ ONLY")!.Transaction);
        Assert.Equal(MySqlTransactionKind.Begin, Classify("begin work")!.Transaction);
        Assert.Equal(MySqlTransactionKind.Commit, Classify("COMMIT")!.Transaction);
        Assert.Equal(MySqlTransactionKind.Rollback, Classify("rollback;")!.Transaction);
    }

    [Fact]
    public void Mysql_text_splits_at_top_level_semicolons_only()
    {
        Assert.Equal(
            ["select 'a;b'", "select \"c\\\";d\"", "select `e;f`", "select 1 -- x;y", "/* c;d */ select 2"],
            MySqlLexer.Split("select 'a;b'; select \"c\\\";d\"; select `e;f`;select 1 -- x;y\n; /* c;d */ select 2;;  ;"));
        Assert.Empty(MySqlLexer.Split(" ; -- only a comment\n"));
        Assert.Equal(["select 'it''s'", "# hash comment; still comment\nselect 3"], MySqlLexer.Split("select 'it''s'; # hash comment; still comment\nselect 3"));
    }

    [Theory]
    [InlineData("sql_mode", "sql%", true)]
    [InlineData("sql_mode", "SQL_MODE", true)]
    [InlineData("sql_mode", "sql\\_mode", true)]
    [InlineData("sqlxmode", "sql\\_mode", false)]
    [InlineData("local", "l_c%", true)]
    [InlineData("local", "%x%", false)]
    [InlineData("", "%", true)]
    public void Like_matches_percent_and_underscore(string text, string pattern, bool expected) => Assert.Equal(expected, MySqlLike.Matches(text, pattern));

    [Fact]
    public void Session_variables_keep_types_and_reset()
    {
        var variables = new MySqlSessionVariables("v", 1024, 1, true, "utf8mb4_general_ci");
        Assert.True(variables.TryGet("MAX_ALLOWED_PACKET", out object? packet));
        Assert.Equal(1024L, packet);
        variables.Set("autocommit", "OFF", isDefault: false);
        Assert.True(variables.TryGet("autocommit", out object? autocommit));
        Assert.Equal(0L, autocommit);
        variables.SetNames("latin1", null);
        Assert.True(variables.TryGet("collation_connection", out object? collation));
        Assert.Equal("latin1_general_ci", collation);
        variables.Set("tx_isolation", "READ-COMMITTED", false);
        Assert.True(variables.TryGet("transaction_isolation", out object? isolation));
        Assert.Equal("READ-COMMITTED", isolation);
        variables.Reset();
        Assert.True(variables.TryGet("autocommit", out autocommit));
        Assert.Equal(1L, autocommit);
        Assert.False(variables.TryGet("no_such_variable", out _));
        Assert.True(variables.Owns("character_set_filesystem"));
        Assert.False(variables.Owns("threads"));
    }
}
