using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

public sealed class DuckDbDatabaseTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lakeops-duckdb-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_file_database_persists_across_engine_restarts()
    {
        string path = Path.Combine(_directory, "data.duckdb");
        await using (var engine = Engine(new DuckDbOptions { Path = path, Threads = 1, MemoryLimit = "256MB" }))
        await using (var session = await Session(engine))
        {
            await Run(session, "create table kept(i int, s varchar)");
            Assert.Equal(2, await Run(session, "insert into kept values (1, 'one'), (2, 'two')"));
            Assert.Equal("1", await Scalar(session, "select current_setting('threads')::varchar"));
        }

        Assert.True(File.Exists(path));
        await using (var engine = Engine(new DuckDbOptions { Path = path }))
        await using (var session = await Session(engine))
        {
            Assert.Equal([1, 2], (await Rows(session, "select i from kept order by i")).Select(r => r[0]));
        }
    }

    [Fact]
    public async Task A_read_only_database_rejects_writes()
    {
        string path = Path.Combine(_directory, "ro.duckdb");
        await using (var engine = Engine(new DuckDbOptions { Path = path }))
        await using (var session = await Session(engine))
        {
            await Run(session, "create table t(i int)");
            await Run(session, "insert into t values (1)");
        }

        await using (var engine = Engine(new DuckDbOptions { Path = path, ReadOnly = true }))
        await using (var session = await Session(engine))
        {
            Assert.Equal(1, await Scalar(session, "select i from t"));
            var insert = await Assert.ThrowsAsync<EngineException>(() => Run(session, "insert into t values (2)"));
            Assert.Equal("25006", insert.SqlState);
            var create = await Assert.ThrowsAsync<EngineException>(() => Run(session, "create table u(i int)"));
            Assert.Equal("25006", create.SqlState);
            Assert.Equal(1L, await Scalar(session, "select count(*) from t"));
        }
    }

    [Fact]
    public void Opening_a_missing_directory_fails_with_the_duckdb_reason()
    {
        var error = Assert.Throws<EngineException>(() => Engine(new DuckDbOptions { Path = Path.Combine(_directory, "missing", "x.duckdb") }));
        Assert.Equal(SqlStates.ConnectionException, error.SqlState);
        Assert.Contains("x.duckdb", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        var error = Assert.Throws<EngineException>(() => Engine(new DuckDbOptions { MemoryLimit = "lots" }));
        Assert.Contains("memory_limit", error.Message, StringComparison.Ordinal);
    }
}
