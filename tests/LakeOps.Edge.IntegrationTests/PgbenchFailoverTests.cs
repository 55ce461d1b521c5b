using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LakeOps.Edge.IntegrationTests.Support;
using Xunit.Abstractions;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// A real fault under pgbench load: one group of two throwaway PostgreSQL servers behind the AOT binary
/// (PostgreSQL front door, passthrough), <c>pgbench -S -c 8</c> running, one server stopped with
/// <c>pg_ctl stop -m immediate</c> and started again. Which cluster served each transaction, and how it
/// ended, comes from Edge's audit log (one record per client request, with the cluster).
/// </summary>
public sealed partial class PgbenchFailoverTests : IAsyncLifetime
{
    private const int Clients = 8;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly ITestOutputHelper _output;
    private SecondPostgres _mine = null!;
    private SecondPostgres _other = null!;
    private EdgeProcess _edge = null!;
    private readonly List<Record> _records = [];
    private long _auditPosition;

    public PgbenchFailoverTests(ITestOutputHelper output) => _output = output;

    private string AuditPath => Path.Combine(_edge.Directory, "audit.jsonl");

    public async Task InitializeAsync()
    {
        Task<SecondPostgres> mine = SecondPostgres.CreateAsync();
        Task<SecondPostgres> other = SecondPostgres.CreateAsync();
        _mine = await mine;
        _other = await other;
        await Task.WhenAll(InitializeBenchAsync(_mine), InitializeBenchAsync(_other));
        _edge = await EdgeProcess.StartAsync($$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              mine:
                engine: postgres
                postgres: { host: {{_mine.Host}}, port: {{_mine.Port}}, user: postgres, database: postgres }
                pool: { max_size: 16, connect_timeout: 2s }
                health: { probe_interval: 200ms, probe_timeout: 2s, failure_threshold: 2, open_base: 300ms, open_max: 1s }
              other:
                engine: postgres
                postgres: { host: {{_other.Host}}, port: {{_other.Port}}, user: postgres, database: postgres }
                pool: { max_size: 16, connect_timeout: 2s }
                health: { probe_interval: 200ms, probe_timeout: 2s, failure_threshold: 2, open_base: 300ms, open_max: 1s }
            groups:
              two:
                clusters: [mine, other]
            routing:
              default_group: two
            audit:
              enabled: true
              path: audit.jsonl
            """);
    }

    public async Task DisposeAsync()
    {
        if (_edge is not null)
        {
            await _edge.DisposeAsync();
        }

        if (_mine is not null)
        {
            await _mine.DisposeAsync();
        }

        if (_other is not null)
        {
            await _other.DisposeAsync();
        }
    }

    [Fact]
    public async Task Pgbench_keeps_running_on_the_other_cluster_when_one_stops_and_traffic_returns_after_its_restart()
    {
        // 8 sessions, round robin at login: 4 on each cluster.
        Task<Tools.Result> bench = Pgbench(seconds: 14);
        await WaitAsync(() => Served("mine", DateTime.MinValue) >= 200 && Served("other", DateTime.MinValue) >= 200, "both clusters serving pgbench");

        int opens = Occurrences("cluster 'mine': breaker open");
        DateTime stopped = DateTime.UtcNow;
        await _mine.StopImmediateAsync();
        await WaitForLogAsync("cluster 'mine': breaker open", opens + 1);
        DateTime opened = DateTime.UtcNow;

        // After the breaker opened: every new transaction succeeds, on the other cluster.
        await WaitAsync(() => Served("other", opened) >= 500, "500 transactions on 'other' after the breaker opened");
        Assert.Equal(0, Served("mine", opened));
        Assert.Empty(Failed(opened));

        // Restart: the probe's trial closes the breaker; new sessions are balanced onto it again.
        int closes = Occurrences("cluster 'mine': breaker closed");
        await _mine.StartAsync();
        await WaitForLogAsync("cluster 'mine': breaker closed", closes + 1);
        DateTime closed = DateTime.UtcNow;
        Tools.Result second = await Pgbench(seconds: 2);
        Assert.True(second.ExitCode == 0, second.All);
        Assert.True(Served("mine", closed) > 0, "no transaction reached the restarted cluster");

        Tools.Result first = await bench;
        string[] aborted = AbortedRegex().Matches(first.All).Select(m => m.Value).ToArray();
        Record[] failures = Failed(DateTime.MinValue);
        _output.WriteLine($"pgbench: exit {first.ExitCode}; {ProcessedRegex().Match(first.StdOut).Value}; aborted clients: {aborted.Length}");
        foreach (string line in aborted)
        {
            _output.WriteLine("  " + line);
        }

        _output.WriteLine($"failed requests in the audit log: {failures.Length} (all started before the breaker opened, {(opened - stopped).TotalMilliseconds:0} ms after the stop)");
        foreach (Record failure in failures)
        {
            _output.WriteLine($"  {failure.Start:HH:mm:ss.fff} {failure.Cluster} {failure.SqlState}");
        }

        _output.WriteLine($"served: mine {Served("mine", DateTime.MinValue)} (after restart {Served("mine", closed)}), other {Served("other", DateTime.MinValue)} (after the breaker opened {Served("other", opened)})");

        // Only transactions in flight on 'mine' (or sent before the breaker opened) failed, each with a
        // connection-class error, and each ended its pgbench client: at most the clients that were on 'mine'.
        Assert.Empty(Failed(opened));
        Assert.InRange(failures.Length, 0, Clients / 2);
        Assert.InRange(aborted.Length, 0, Clients / 2);
        Assert.All(failures, f => Assert.True(f.Cluster == "mine" && (f.SqlState.StartsWith("08", StringComparison.Ordinal) || f.SqlState.StartsWith("57P0", StringComparison.Ordinal)), $"{f.Cluster} {f.SqlState}"));
        Assert.True(first.ExitCode is 0 or 2, first.All);
    }

    private static async Task InitializeBenchAsync(SecondPostgres server)
    {
        Tools.Result result = await Tools.RunAsync("pgbench", ["-i", "-q", "-s", "1", "-h", server.Host, "-p", Port(server.Port), "-U", server.User, "postgres"]);
        Assert.True(result.ExitCode == 0, result.All);
    }

    private Task<Tools.Result> Pgbench(int seconds) => Tools.RunAsync(
        "pgbench",
        ["-n", "-S", "-c", Clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds.ToString(CultureInfo.InvariantCulture),
            "-h", "127.0.0.1", "-p", Port(_edge.Port), "-U", "edge", "two"],
        timeoutSeconds: 60);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private readonly record struct Record(DateTime Start, string Cluster, string Outcome, string SqlState);

    /// <summary>The audit records so far (read incrementally: pgbench writes thousands a second).</summary>
    private List<Record> Records()
    {
        foreach (JsonElement root in AuditLog.ReadNew(AuditPath, ref _auditPosition))
        {
            _records.Add(new Record(
                root.GetProperty("start_time").GetDateTime().ToUniversalTime(),
                root.TryGetProperty("cluster", out JsonElement cluster) && cluster.ValueKind == JsonValueKind.String ? cluster.GetString()! : "",
                root.GetProperty("outcome").GetString()!,
                root.TryGetProperty("sqlstate", out JsonElement state) ? state.GetString() ?? "" : ""));
        }

        return _records;
    }

    private long Served(string cluster, DateTime after) => Records().Count(r => r.Outcome == "ok" && r.Cluster == cluster && r.Start > after);

    private Record[] Failed(DateTime after) => Records().Where(r => r.Outcome != "ok" && r.Start > after).ToArray();

    private int Occurrences(string text) => Regex.Matches(_edge.Log, Regex.Escape(text)).Count;

    private async Task WaitForLogAsync(string text, int times) =>
        await WaitAsync(() => Occurrences(text) >= times, $"Edge logging \"{text}\"");

    private async Task WaitAsync(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}:\n{_edge.Log}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"client \d+ (script \d+ )?aborted[^\n]*")]
    private static partial Regex AbortedRegex();

    [GeneratedRegex(@"number of transactions actually processed: \d+")]
    private static partial Regex ProcessedRegex();
}
