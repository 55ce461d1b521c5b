using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>
/// <see cref="TrinoSchemaCache"/>: which X-Trino-Schema values cost an engine statement, against a real DuckDB engine
/// and a real PostgreSQL server (<see cref="PostgresTestServer"/>).
/// </summary>
public sealed class TrinoSchemaCacheTests : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly ManualClock _clock = new();
    private PostgresTestServer _postgres = null!;
    private ConfigStore _store = null!;
    private EngineRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        _store = new ConfigStore(Load());
        _registry = await EngineRegistry.StartAsync(_store.Current);
    }

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    private EdgeConfig Load()
    {
        string yaml = $$"""
            listeners:
              t: { protocol: trino, address: 127.0.0.1:65000, auth: trust }
            clusters:
              duckdb:
                engine: duckdb
              pg:
                engine: postgres
                postgres:
                  host: {{_postgres.Host}}
                  port: {{_postgres.Port}}
                  user: {{_postgres.User}}
                  password: "{{_postgres.Password}}"
                  database: {{_postgres.Database}}
            groups:
              local: { clusters: [duckdb] }
            routing:
              default_group: local
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config!;
    }

    private async Task<RecordingSession> OpenAsync(string cluster) =>
        new(await _registry.Find(cluster)!.OpenSessionAsync(new EngineSessionOptions("edge", "edge", ""), CancellationToken.None));

    [Fact]
    public async Task Duckdb_default_schema_costs_nothing_and_a_missing_one_fails_once_per_cluster()
    {
        var cache = new TrinoSchemaCache(_store, TimeSpan.FromSeconds(10), _clock);
        await using RecordingSession session = await OpenAsync("duckdb");

        Assert.True(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", "main", CancellationToken.None));
        Assert.Empty(session.Statements);

        // presto-client's "default": refused by the engine once, then known to be missing.
        Assert.False(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", "default", CancellationToken.None));
        Assert.Single(session.Statements);
        Assert.False(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", "default", CancellationToken.None));
        Assert.Single(session.Statements);

        // Remembered for a short time only, and only until the next config reload.
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.False(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", "default", CancellationToken.None));
        Assert.Equal(2, session.Statements.Count);
        _store.Publish(Load());
        Assert.False(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", "default", CancellationToken.None));
        Assert.Equal(3, session.Statements.Count);
    }

    [Fact]
    public async Task Duckdb_schema_that_exists_is_set_on_every_session()
    {
        var cache = new TrinoSchemaCache(_store, TimeSpan.FromSeconds(10), _clock);
        string schema = "c_" + _suffix;
        await using RecordingSession setup = await OpenAsync("duckdb");
        await (await setup.ExecuteAsync($"CREATE SCHEMA {schema}", CancellationToken.None)).DisposeAsync();

        for (int i = 1; i <= 2; i++)
        {
            await using RecordingSession session = await OpenAsync("duckdb");
            Assert.True(await cache.ApplyAsync(session, SqlDialect.DuckDb, "duckdb", schema, CancellationToken.None));
            Assert.Equal([TrinoSchema.UseStatement(SqlDialect.DuckDb, schema)!], session.Statements);
        }
    }

    [Fact]
    public async Task Postgres_looks_a_schema_up_once_and_then_sets_only_one_that_exists()
    {
        var cache = new TrinoSchemaCache(_store, TimeSpan.FromSeconds(10), _clock);
        string schema = "pc_" + _suffix;
        await using RecordingSession setup = await OpenAsync("pg");
        await (await setup.ExecuteAsync($"CREATE SCHEMA {schema}", CancellationToken.None)).DisposeAsync();
        try
        {
            await using RecordingSession first = await OpenAsync("pg");
            Assert.False(await cache.ApplyAsync(first, SqlDialect.Postgres, "pg", "default", CancellationToken.None));
            Assert.True(await cache.ApplyAsync(first, SqlDialect.Postgres, "pg", schema, CancellationToken.None));
            Assert.Equal(3, first.Statements.Count);

            await using RecordingSession second = await OpenAsync("pg");
            Assert.False(await cache.ApplyAsync(second, SqlDialect.Postgres, "pg", "default", CancellationToken.None));
            Assert.True(await cache.ApplyAsync(second, SqlDialect.Postgres, "pg", schema, CancellationToken.None));
            Assert.Equal([TrinoSchema.UseStatement(SqlDialect.Postgres, schema)!], second.Statements);
        }
        finally
        {
            await (await setup.ExecuteAsync($"DROP SCHEMA {schema}", CancellationToken.None)).DisposeAsync();
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
