using System.Diagnostics;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using Xunit.Abstractions;
using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

/// <summary>Memory is measured process-wide, so this class runs alone, not beside other test classes.</summary>
[CollectionDefinition(nameof(DuckDbStreamingTests), DisableParallelization = true)]
public sealed class DuckDbStreamingCollection;

[Collection(nameof(DuckDbStreamingTests))]
public class DuckDbStreamingTests(ITestOutputHelper output)
{
    /// <summary>
    /// Ten million rows (about 250 MB if materialized by DuckDB, more again as Arrow) stream batch by batch:
    /// the managed heap stays within 64 MB and the process working set (which includes DuckDB's own
    /// memory) within 150 MB of where it started, sampled at every batch.
    /// </summary>
    [Fact]
    public async Task Ten_million_rows_stream_in_flat_memory()
    {
        const long Rows = 10_000_000;
        const long ManagedBound = 64L << 20;
        const long WorkingSetBound = 150L << 20;

        await using var engine = Engine();
        await using var session = await Session(engine);
        using Process process = Process.GetCurrentProcess();

        // Warm up DuckDB and the Arrow importer so the baseline includes their steady state.
        await Run(session, "select i, i::varchar from range(100000) t(i)");
        GC.Collect();
        long managedStart = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        long workingSetStart = process.WorkingSet64;

        long managedPeak = 0;
        long workingSetPeak = 0;
        long total = 0;
        long checksum = 0;
        int batches = 0;
        await using (IQueryResult result = await session.ExecuteAsync("select i, i::varchar from range(10000000) t(i)", default))
        {
            while (await result.ReadBatchAsync(default) is RecordBatch batch)
            {
                total += batch.Length;
                var numbers = (Int64Array)batch.Column(0);
                var texts = (StringArray)batch.Column(1);
                checksum += numbers.GetValue(0)!.Value;
                Assert.Equal(numbers.GetValue(batch.Length - 1)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), texts.GetString(batch.Length - 1));
                batches++;

                managedPeak = Math.Max(managedPeak, GC.GetTotalMemory(forceFullCollection: false) - managedStart);
                process.Refresh();
                workingSetPeak = Math.Max(workingSetPeak, process.WorkingSet64 - workingSetStart);
            }
        }

        output.WriteLine($"batches {batches}, managed peak +{managedPeak >> 20} MB, working set peak +{workingSetPeak >> 20} MB");
        Assert.Equal(Rows, total);
        Assert.True(batches >= Rows / 2048, $"{batches} batches");
        Assert.True(checksum > 0);
        Assert.InRange(managedPeak, long.MinValue, ManagedBound);
        Assert.InRange(workingSetPeak, long.MinValue, WorkingSetBound);
    }
}
