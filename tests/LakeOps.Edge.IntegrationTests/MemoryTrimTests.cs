using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>server.memory_trim: memory a login burst left committed goes back to the OS once the gateway is quiet.</summary>
public sealed partial class MemoryTrimTests
{
    private const int IdleConnections = 3000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(0, 64L << 20, 0, true)] // quiet, grown a lot
    [InlineData(MemoryTrimmer.QuietAllocationBytes - 1, MemoryTrimmer.MinGrowthBytes, 0, true)] // just quiet, just grown enough
    [InlineData(MemoryTrimmer.QuietAllocationBytes, 64L << 20, 0, false)] // busy: never pause it
    [InlineData(0, (8L << 20) + MemoryTrimmer.MinGrowthBytes - 1, 8L << 20, false)] // quiet, but not grown enough since the last trim
    [InlineData(0, 2L << 20, 8L << 20, false)] // shrunk on its own
    public void Trims_only_a_quiet_process_that_grew(long allocatedInPeriod, long residentNow, long residentAfterLastTrim, bool expected) =>
        Assert.Equal(expected, MemoryTrimmer.ShouldTrim(allocatedInPeriod, residentNow, residentAfterLastTrim));

    [Fact]
    public async Task Memory_of_a_login_burst_goes_back_once_the_connections_are_idle()
    {
        const string config = """
            server:
              memory_trim: 1s
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
                limits: { max_connections: 5000 }
            clusters:
              duckdb:
                engine: duckdb
                duckdb: { path: ":memory:" }
                limits: { max_sessions: 5000 }
            groups:
              local: { clusters: [duckdb] }
            routing:
              default_group: local
            """;
        await using EdgeProcess edge = await EdgeProcess.StartAsync(config);
        var clients = new List<RawPgClient>(IdleConnections);
        try
        {
            for (int opened = 0; opened < IdleConnections; opened += 50)
            {
                clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => RawPgClient.ConnectReadyAsync(edge.Port))));
            }

            // A trim may already have run after start-up; the one that counts follows the burst.
            int trimsSoFar = TrimLine().Matches(edge.Log).Count;
            long residentWithBurst = edge.ResidentBytes();
            Match trim = await WaitForTrimAsync(edge, trimsSoFar);
            double before = double.Parse(trim.Groups["before"].Value, CultureInfo.InvariantCulture);
            double after = double.Parse(trim.Groups["after"].Value, CultureInfo.InvariantCulture);
            Assert.True(after < before, $"the trim freed nothing: {trim.Value}");
            Assert.True(edge.ResidentBytes() < residentWithBurst, "RSS did not go down after the trim");

            // Nothing the idle sessions hold was lost: the first and the last still answer.
            foreach (RawPgClient client in new[] { clients[0], clients[^1] })
            {
                await client.SendAsync(w => PgFrontendWriter.WriteQuery(w, "SELECT 42"));
                List<(char Type, byte[] Body)> answer = await client.ReadUntilAsync('Z');
                Assert.Contains(answer, m => m.Type == 'D');
                Assert.DoesNotContain(answer, m => m.Type == 'E');
            }
        }
        finally
        {
            foreach (RawPgClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<Match> WaitForTrimAsync(EdgeProcess edge, int seenBefore)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            MatchCollection trims = TrimLine().Matches(edge.Log);
            if (trims.Count > seenBefore)
            {
                return trims[^1];
            }

            Assert.True(clock.Elapsed < Deadline, $"no memory trim after the burst; log:\n{edge.Log}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"memory trim: resident (?<before>[0-9.]+) -> (?<after>[0-9.]+) MB")]
    private static partial Regex TrimLine();
}
