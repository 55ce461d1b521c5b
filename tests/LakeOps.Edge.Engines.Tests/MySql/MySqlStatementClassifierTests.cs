using System.Text;
using LakeOps.Edge.Engines.MySql;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>Statement splitting and state classification over MySQL text (pure, no server).</summary>
public sealed class MySqlStatementClassifierTests
{
    private static List<(string Text, MySqlStatementEffect Effect)> Split(string sql)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(sql);
        var result = new List<(string, MySqlStatementEffect)>();
        int position = 0;
        while (MySqlStatementClassifier.TryNext(bytes, ref position, out MySqlStatementInfo statement))
        {
            result.Add((Encoding.UTF8.GetString(bytes, statement.Start, statement.Length), statement.Effect));
        }

        return result;
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData(" ;; -- nothing\n /* at all */ # really", 0)]
    [InlineData("SELECT 1", 1)]
    [InlineData("SELECT 1;", 1)]
    [InlineData("SELECT 1; SELECT 2", 2)]
    [InlineData("SELECT ';' , \";\", `a;b` FROM t", 1)]
    [InlineData("SELECT 'it''s; fine', 'back\\'slash;'", 1)]
    [InlineData("SELECT 1 -- ; comment\n; SELECT 2", 2)]
    [InlineData("SELECT 1 --not a comment; SELECT 2", 2)]
    [InlineData("SELECT 1 /* ; */ ; /*! SELECT 2 */", 2)]
    [InlineData("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", 1)]
    [InlineData("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", 1)]
    [InlineData("BEGIN; SELECT 1; COMMIT", 3)]
    public void Counts_statements(string sql, int expected) =>
        Assert.Equal(expected, MySqlStatementClassifier.Count(Encoding.UTF8.GetBytes(sql)));

    [Fact]
    public void Statements_come_back_trimmed_without_separators()
    {
        List<(string Text, MySqlStatementEffect Effect)> parts = Split("  SELECT 1 ;\n  select 'a;b'  ;");
        Assert.Equal(["SELECT 1", "select 'a;b'"], parts.Select(p => p.Text));
    }

    [Theory]
    [InlineData("SELECT 1", MySqlStatementEffect.None)]
    [InlineData("SET sql_mode = 'ANSI'", MySqlStatementEffect.SessionSetting)]
    [InlineData("set session wait_timeout = 10", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET @@session.sql_mode = ''", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET @@sql_mode = ''", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET NAMES utf8mb4", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET CHARACTER SET latin1", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET autocommit = 0", MySqlStatementEffect.SessionSetting)]
    [InlineData("SET GLOBAL max_connections = 10", MySqlStatementEffect.None)]
    [InlineData("SET @@global.max_connections = 10", MySqlStatementEffect.None)]
    [InlineData("SET PASSWORD = 'x'", MySqlStatementEffect.None)]
    [InlineData("SET STATEMENT max_statement_time = 1 FOR SELECT 1", MySqlStatementEffect.None)]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", MySqlStatementEffect.HoldsForNextStatement)]
    [InlineData("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", MySqlStatementEffect.SessionSetting)]
    [InlineData("USE mydb", MySqlStatementEffect.ChangesDatabase)]
    [InlineData("use `my db`", MySqlStatementEffect.ChangesDatabase)]
    [InlineData("SET @x = 1", MySqlStatementEffect.Pins)]
    [InlineData("SELECT @x := 1", MySqlStatementEffect.Pins)]
    [InlineData("SELECT 1 INTO @x", MySqlStatementEffect.Pins)]
    [InlineData("SELECT a, b INTO @x, @y FROM t", MySqlStatementEffect.Pins)]
    [InlineData("SELECT @x", MySqlStatementEffect.None)]
    [InlineData("CREATE TEMPORARY TABLE t (x INT)", MySqlStatementEffect.Pins)]
    [InlineData("CREATE TABLE temporary_things (x INT)", MySqlStatementEffect.None)]
    [InlineData("SELECT GET_LOCK('a', 1)", MySqlStatementEffect.Pins)]
    [InlineData("SELECT 'GET_LOCK(' AS text", MySqlStatementEffect.None)]
    [InlineData("LOCK TABLES t READ", MySqlStatementEffect.Pins)]
    [InlineData("FLUSH TABLES WITH READ LOCK", MySqlStatementEffect.Pins)]
    [InlineData("FLUSH PRIVILEGES", MySqlStatementEffect.None)]
    [InlineData("PREPARE s FROM 'SELECT 1'", MySqlStatementEffect.Pins)]
    [InlineData("XA START 'x'", MySqlStatementEffect.Pins)]
    [InlineData("HANDLER t OPEN", MySqlStatementEffect.Pins)]
    [InlineData("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */", MySqlStatementEffect.Pins)]
    [InlineData("/*!40101 SET NAMES utf8 */", MySqlStatementEffect.SessionSetting)]
    [InlineData("/* SET NAMES utf8 */ SELECT 1", MySqlStatementEffect.None)]
    [InlineData("START TRANSACTION", MySqlStatementEffect.None)]
    public void Classifies_effects(string sql, MySqlStatementEffect expected) => Assert.Equal(expected, Split(sql).Single().Effect);

    [Theory]
    [InlineData("SET sql_mode = 'ANSI'", "SQL_MODE")]
    [InlineData("SET SESSION sql_mode = 'ANSI'", "SQL_MODE")]
    [InlineData("set local Sql_Mode = 'ANSI'", "SQL_MODE")]
    [InlineData("SET @@session.sql_mode = ''", "SQL_MODE")]
    [InlineData("SET @@sql_mode = ''", "SQL_MODE")]
    [InlineData("SET NAMES latin1", "NAMES")]
    [InlineData("SET CHARACTER SET latin1", "NAMES")]
    [InlineData("SET a = 1, b = CONCAT('x', 'y')", "SET a = 1, b = CONCAT('x', 'y')")]
    [InlineData("SET a = CONCAT('x', 'y')", "A")]
    public void Setting_keys_identify_the_variable(string sql, string expected) =>
        Assert.Equal(expected, MySqlStatementClassifier.SettingKey(Encoding.UTF8.GetBytes(sql)));

    [Fact]
    public void Session_state_keeps_the_last_value_per_setting_in_order()
    {
        var state = new MySqlSessionState();
        Assert.Equal("", state.Signature);
        Assert.False(state.Record("SET sql_mode = 'A'; USE db1; SET wait_timeout = 5"u8));
        string first = state.Signature;
        state.Record("set SQL_MODE = 'B'"u8);
        Assert.NotEqual(first, state.Signature);
        Assert.Equal(["USE db1", "SET wait_timeout = 5", "set SQL_MODE = 'B'"], state.ReplayStatements.Select(Encoding.UTF8.GetString));
        Assert.False(state.IsPinned);

        Assert.True(state.Record("SET TRANSACTION READ ONLY"u8));
        state.Record("SET @v = 1"u8);
        Assert.True(state.IsPinned);
        state.Reset();
        Assert.Equal("", state.Signature);
        Assert.False(state.IsPinned);
        Assert.Empty(state.ReplayStatements);
    }

    [Fact]
    public void Set_names_utf8mb4_is_the_base_state_and_not_replayed()
    {
        var state = new MySqlSessionState();
        state.Record("SET NAMES latin1"u8);
        Assert.Equal(["SET NAMES latin1"], state.ReplayStatements.Select(Encoding.UTF8.GetString));
        state.Record("set names 'utf8mb4';"u8);
        Assert.Empty(state.ReplayStatements);
        Assert.Equal("", state.Signature);
        state.Record("SET NAMES utf8mb4 COLLATE utf8mb4_bin"u8);
        Assert.Single(state.ReplayStatements);
    }

    [Fact]
    public void Too_many_distinct_settings_pin_instead_of_growing()
    {
        var state = new MySqlSessionState();
        for (int i = 0; i <= MySqlSessionState.MaxReplayStatements; i++)
        {
            state.Record(Encoding.UTF8.GetBytes($"SET v{i} = 1"));
        }

        Assert.True(state.IsPinned);
        Assert.Equal(MySqlSessionState.MaxReplayStatements, state.Count);
    }
}
