using LakeOps.Edge.IntegrationTests.Support;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>Large results stream through Edge batch by batch: the gateway's memory stays flat.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task Ten_million_rows_stream_with_flat_gateway_memory()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.Trust);
        await using var connection = new NpgsqlConnection(edge.ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select i, 'row-' || i::varchar as label from range(10000000) t(i)", connection) { CommandTimeout = 300 };
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();

        long rows = 0;
        long baseline = 0;
        long peak = 0;
        long expected = 0;
        while (await reader.ReadAsync())
        {
            Assert.Equal(expected++, reader.GetInt64(0));
            rows++;
            if (rows == 200_000)
            {
                baseline = edge.ResidentBytes();
            }
            else if (rows % 500_000 == 0)
            {
                peak = Math.Max(peak, edge.ResidentBytes());
            }
        }

        Assert.Equal(10_000_000, rows);
        // A buffered 10M-row result would be hundreds of MB; streaming keeps growth within DuckDB's working set.
        long growth = peak - baseline;
        Assert.True(growth < 150L * 1024 * 1024, $"Edge RSS grew by {growth / (1024 * 1024)} MiB while streaming (baseline {baseline / (1024 * 1024)} MiB, peak {peak / (1024 * 1024)} MiB)");
    }
}
