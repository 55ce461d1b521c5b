using System.Text;
using LakeOps.Edge.Frontends.Postgres.Passthrough;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

public sealed class StatementEffectsTests
{
    private static StatementEffects? Of(string sql) => StatementEffects.Classify(Encoding.UTF8.GetBytes(sql));

    [Theory]
    [InlineData("select 1")]
    [InlineData("SELECT abalance FROM pgbench_accounts WHERE aid = $1")]
    [InlineData("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 3;")]
    [InlineData("begin")]
    [InlineData("END;")]
    [InlineData("insert into t values ('set x = 1')")]
    [InlineData("SET LOCAL work_mem = '64MB'")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")]
    [InlineData("select pg_advisory_xact_lock(1)")]
    [InlineData("select pg_advisory_unlock(1)")]
    [InlineData("create table t (a int)")]
    [InlineData("DECLARE c CURSOR FOR select 1")]
    [InlineData("PREPARE TRANSACTION 'x'")]
    [InlineData("DISCARD TEMP")]
    [InlineData("ROLLBACK")]
    [InlineData("")]
    public void Ordinary_statements_have_no_effect(string sql) => Assert.Null(Of(sql));

    [Theory]
    [InlineData("CREATE TEMP TABLE t (a int)", "temporary")]
    [InlineData("create temporary table t as select 1", "temporary")]
    [InlineData("Create Global Temporary Table t (a int)", "temporary")]
    [InlineData("create or replace temp view v as select 1", "temporary")]
    [InlineData("/* hi */ LISTEN channel", "LISTEN")]
    [InlineData("select pg_advisory_lock(42)", "advisory")]
    [InlineData("SELECT PG_TRY_ADVISORY_LOCK_SHARED(1, 2)", "advisory")]
    [InlineData("DECLARE c BINARY CURSOR WITH HOLD FOR select 1", "HOLD")]
    [InlineData("PREPARE q(int) AS select $1", "PREPARE")]
    [InlineData("select 1; listen x", "LISTEN")]
    [InlineData("-- comment\n(select pg_advisory_lock(1))", "advisory")]
    public void Session_bound_statements_pin(string sql, string reason)
    {
        StatementEffects? effects = Of(sql);
        Assert.NotNull(effects);
        Assert.Contains(reason, effects.PinReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SET search_path TO app, public", "Set", "search_path")]
    [InlineData("set TimeZone = 'Europe/Berlin'", "Set", "timezone")]
    [InlineData("SET SESSION statement_timeout = 5000", "Set", "statement_timeout")]
    [InlineData("SET TIME ZONE LOCAL", "Unset", "timezone")]
    [InlineData("SET work_mem TO DEFAULT", "Unset", "work_mem")]
    [InlineData("RESET search_path", "Unset", "search_path")]
    [InlineData("reset \"MyApp\".x", "Unset", "MyApp.x")]
    [InlineData("RESET ALL", "ResetAll", "")]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "Set", "\u0001session_characteristics")]
    public void Settings_changes_are_recognised(string sql, string kindName, string name)
    {
        SettingChangeKind kind = Enum.Parse<SettingChangeKind>(kindName);
        SettingChange change = Assert.Single(Of(sql)!.Changes);
        Assert.Equal(kind, change.Kind);
        Assert.Equal(name, change.Name);
        if (kind == SettingChangeKind.Set)
        {
            Assert.Equal(sql, change.Sql);
        }
    }

    [Fact]
    public void Several_statements_in_one_string_are_all_looked_at()
    {
        StatementEffects effects = Of("set a.b = 1; select 2; RESET c.d; create temp table x(a int)")!;
        Assert.Equal([SettingChangeKind.Set, SettingChangeKind.Unset], effects.Changes.Select(c => c.Kind));
        Assert.NotNull(effects.PinReason);

        // A semicolon inside a string does not make two statements, whatever the fast check thinks.
        Assert.Null(Of("select 'a;b'"));
    }

    [Fact]
    public void Discard_all_and_deallocate_all_drop_prepared_statements()
    {
        StatementEffects discard = Of("DISCARD ALL")!;
        Assert.True(discard.ClearsPreparedStatements);
        Assert.Equal(SettingChangeKind.ResetAll, Assert.Single(discard.Changes).Kind);
        Assert.True(Of("deallocate all")!.ClearsPreparedStatements);
        Assert.True(Of("DEALLOCATE PREPARE ALL")!.ClearsPreparedStatements);
        Assert.True(Of("ROLLBACK TO SAVEPOINT a")!.RollsBackToSavepoint);
    }

    [Theory]
    [InlineData("ROLLBACK", true)]
    [InlineData("  abort;", true)]
    [InlineData("commit", true)]
    [InlineData("END", true)]
    [InlineData("rollback; select 1", false)]
    [InlineData("select 1", false)]
    [InlineData("rollbacks", false)]
    public void Transaction_ends_are_recognised(string sql, bool ends) =>
        Assert.Equal(ends, StatementEffects.IsTransactionEnd(Encoding.UTF8.GetBytes(sql)));

    [Theory]
    [InlineData("select 1", false)]
    [InlineData("select 1;", false)]
    [InlineData("select 1; ; \n", false)]
    [InlineData("select 1; select 2", true)]
    [InlineData("select ';x'", true)]
    public void The_fast_multi_statement_check_errs_only_on_the_safe_side(string sql, bool second) =>
        Assert.Equal(second, StatementEffects.HasSecondStatement(Encoding.UTF8.GetBytes(sql)));
}
