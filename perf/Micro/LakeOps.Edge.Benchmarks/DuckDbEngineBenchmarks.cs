using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// The engine's share of one pgbench transaction: the same statement as perf/Load/select.sql run
/// through the DuckDB adapter in-process (bind, execute, export the result to Arrow), with no
/// network and no PostgreSQL encoding. pgbench latency through Edge minus this is the gateway's cost.
/// </summary>
[MemoryDiagnoser]
public class DuckDbEngineBenchmarks
{
    private DuckDbEngine _engine = null!;
    private IEngineSession _session = null!;
    private IPreparedStatement _prepared = null!;
    private readonly ParameterValue[] _parameters = [ParameterValue.FromText("42"), ParameterValue.FromText("42")];

    /// <summary>DuckDB worker threads: 1 runs the query on the calling thread; more add hand-offs to workers.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _engine = new DuckDbEngine(new ClusterConfig { Name = "bench", Engine = EngineKind.DuckDb, DuckDb = new DuckDbOptions { Threads = Threads } });
        _session = await _engine.OpenSessionAsync(new EngineSessionOptions("bench", "local", "bench"), CancellationToken.None);
        _prepared = await _session.PrepareAsync("SELECT $1::integer + 1 AS next_id, 'row ' || $2 AS label", CancellationToken.None);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _prepared.Dispose();
        await _session.DisposeAsync();
        await _engine.DisposeAsync();
    }

    [Benchmark]
    public async Task<int> PreparedSelect()
    {
        await using IQueryResult result = await _prepared.ExecuteAsync(_parameters, CancellationToken.None);
        return await CountRows(result);
    }

    [Benchmark]
    public async Task<int> SimpleSelect()
    {
        await using IQueryResult result = await _session.ExecuteAsync("SELECT 42::integer + 1 AS next_id, 'row ' || 42 AS label", CancellationToken.None);
        return await CountRows(result);
    }

    private static async Task<int> CountRows(IQueryResult result)
    {
        int rows = 0;
        while (await result.ReadBatchAsync(CancellationToken.None) is { } batch)
        {
            rows += batch.Length;
        }

        return rows;
    }
}
