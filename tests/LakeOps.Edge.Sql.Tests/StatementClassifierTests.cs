namespace LakeOps.Edge.Sql.Tests;

public class StatementClassifierTests
{
    [Theory]
    [InlineData("", StatementKind.Empty, "")]
    [InlineData("  -- nothing\n /* at all */ ", StatementKind.Empty, "")]
    [InlineData("select 1", StatementKind.Select, "SELECT")]
    [InlineData("  /* c */ SELECT * FROM t", StatementKind.Select, "SELECT")]
    [InlineData("(select 1) union (select 2)", StatementKind.Select, "SELECT")]
    [InlineData("TABLE t", StatementKind.Select, "SELECT")]
    [InlineData("values (1), (2)", StatementKind.Values, "SELECT")]
    [InlineData("insert into t values (1)", StatementKind.Insert, "INSERT")]
    [InlineData("UPDATE t SET a = 1", StatementKind.Update, "UPDATE")]
    [InlineData("delete from t", StatementKind.Delete, "DELETE")]
    [InlineData("merge into t using s on true when matched then do nothing", StatementKind.Merge, "MERGE")]
    [InlineData("with x as (select 1) select * from x", StatementKind.Select, "SELECT")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r", StatementKind.Select, "SELECT")]
    [InlineData("with x as (select 1), y as materialized (delete from t returning *) insert into u select * from y", StatementKind.Insert, "INSERT")]
    [InlineData("with x as (select 1) update t set a = 1", StatementKind.Update, "UPDATE")]
    [InlineData("with x as (select 1) delete from t", StatementKind.Delete, "DELETE")]
    [InlineData("with x as (select 1) values (1)", StatementKind.Values, "SELECT")]
    [InlineData("begin", StatementKind.Begin, "BEGIN")]
    [InlineData("BEGIN ISOLATION LEVEL SERIALIZABLE", StatementKind.Begin, "BEGIN")]
    [InlineData("start transaction read only", StatementKind.Begin, "START TRANSACTION")]
    [InlineData("commit", StatementKind.Commit, "COMMIT")]
    [InlineData("COMMIT WORK", StatementKind.Commit, "COMMIT")]
    [InlineData("end", StatementKind.Commit, "COMMIT")]
    [InlineData("commit prepared 'x'", StatementKind.Other, "COMMIT PREPARED")]
    [InlineData("rollback", StatementKind.Rollback, "ROLLBACK")]
    [InlineData("abort", StatementKind.Rollback, "ROLLBACK")]
    [InlineData("rollback to savepoint s", StatementKind.RollbackToSavepoint, "ROLLBACK")]
    [InlineData("ROLLBACK WORK TO s", StatementKind.RollbackToSavepoint, "ROLLBACK")]
    [InlineData("rollback prepared 'x'", StatementKind.Other, "ROLLBACK PREPARED")]
    [InlineData("savepoint s", StatementKind.Savepoint, "SAVEPOINT")]
    [InlineData("release savepoint s", StatementKind.Release, "RELEASE")]
    [InlineData("set x = 1", StatementKind.Set, "SET")]
    [InlineData("set constraints all deferred", StatementKind.Set, "SET CONSTRAINTS")]
    [InlineData("show all", StatementKind.Show, "SHOW")]
    [InlineData("reset all", StatementKind.Reset, "RESET")]
    [InlineData("discard all", StatementKind.Discard, "DISCARD ALL")]
    [InlineData("discard temporary", StatementKind.Discard, "DISCARD TEMP")]
    [InlineData("create table t (a int)", StatementKind.Create, "CREATE TABLE")]
    [InlineData("CREATE TEMP TABLE t (a int GENERATED ALWAYS AS (1) STORED)", StatementKind.Create, "CREATE TABLE")]
    [InlineData("create table if not exists t (a int)", StatementKind.Create, "CREATE TABLE")]
    [InlineData("create table t as select 1", StatementKind.CreateTableAs, "SELECT")]
    [InlineData("create table t (a) as select 1", StatementKind.CreateTableAs, "SELECT")]
    [InlineData("create materialized view m as select 1", StatementKind.CreateTableAs, "SELECT")]
    [InlineData("create or replace view v as select 1", StatementKind.Create, "CREATE VIEW")]
    [InlineData("create unique index concurrently i on t (a)", StatementKind.Create, "CREATE INDEX")]
    [InlineData("create or replace temp macro m(x) as x", StatementKind.Create, "CREATE MACRO")]
    [InlineData("create user bob", StatementKind.Create, "CREATE ROLE")]
    [InlineData("create user mapping for bob server s", StatementKind.Create, "CREATE USER MAPPING")]
    [InlineData("create foreign table f (a int) server s", StatementKind.Create, "CREATE FOREIGN TABLE")]
    [InlineData("create text search configuration c (copy = english)", StatementKind.Create, "CREATE TEXT SEARCH CONFIGURATION")]
    [InlineData("create constraint trigger tr after insert on t for each row execute function f()", StatementKind.Create, "CREATE TRIGGER")]
    [InlineData("create widget w", StatementKind.Create, "CREATE WIDGET")]
    [InlineData("drop table t", StatementKind.Drop, "DROP TABLE")]
    [InlineData("drop materialized view if exists m", StatementKind.Drop, "DROP MATERIALIZED VIEW")]
    [InlineData("drop user bob", StatementKind.Drop, "DROP ROLE")]
    [InlineData("drop owned by bob", StatementKind.Drop, "DROP OWNED")]
    [InlineData("alter table t add column b int", StatementKind.Alter, "ALTER TABLE")]
    [InlineData("alter default privileges grant select on tables to bob", StatementKind.Alter, "ALTER DEFAULT PRIVILEGES")]
    [InlineData("alter system set work_mem = '1MB'", StatementKind.Alter, "ALTER SYSTEM")]
    [InlineData("truncate t", StatementKind.Truncate, "TRUNCATE TABLE")]
    [InlineData("copy t from stdin", StatementKind.Copy, "COPY")]
    [InlineData("explain select 1", StatementKind.Explain, "EXPLAIN")]
    [InlineData("prepare p as select 1", StatementKind.Prepare, "PREPARE")]
    [InlineData("prepare transaction 'x'", StatementKind.Other, "PREPARE TRANSACTION")]
    [InlineData("execute p", StatementKind.Execute, "EXECUTE")]
    [InlineData("deallocate p", StatementKind.Deallocate, "DEALLOCATE")]
    [InlineData("deallocate prepare all", StatementKind.Deallocate, "DEALLOCATE ALL")]
    [InlineData("listen c", StatementKind.Listen, "LISTEN")]
    [InlineData("notify c", StatementKind.Notify, "NOTIFY")]
    [InlineData("unlisten *", StatementKind.Unlisten, "UNLISTEN")]
    [InlineData("declare c cursor for select 1", StatementKind.Declare, "DECLARE CURSOR")]
    [InlineData("fetch 10 from c", StatementKind.Fetch, "FETCH")]
    [InlineData("close all", StatementKind.Close, "CLOSE CURSOR ALL")]
    [InlineData("close c", StatementKind.Close, "CLOSE CURSOR")]
    [InlineData("grant select on t to bob", StatementKind.Grant, "GRANT")]
    [InlineData("vacuum analyze t", StatementKind.Vacuum, "VACUUM")]
    [InlineData("analyse t", StatementKind.Analyze, "ANALYZE")]
    [InlineData("lock table t", StatementKind.Other, "LOCK TABLE")]
    [InlineData("do $$ begin end $$", StatementKind.Do, "DO")]
    [InlineData("call p()", StatementKind.Call, "CALL")]
    [InlineData("pragma version", StatementKind.Other, "PRAGMA")]
    [InlineData("attach 'x.db'", StatementKind.Other, "ATTACH")]
    [InlineData("'not a statement'", StatementKind.Other, "")]
    public void Classifies_statements_with_PostgreSQL_command_tags(string sql, StatementKind kind, string tag)
    {
        Assert.Equal(new StatementInfo(kind, tag), StatementClassifier.Classify(sql));
    }

    [Fact]
    public void Common_statements_do_not_allocate()
    {
        string[] statements = ["select 1", "insert into t values (1)", "BEGIN", "commit", "create table t (a int)", "with x as (select 1) select 1"];
        Assert.Equal(0, Allocations.Of(() =>
        {
            foreach (string sql in statements)
            {
                StatementClassifier.Classify(sql);
            }
        }));
    }
}
