using System.Collections.Concurrent;
using System.Diagnostics;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using Npgsql;
using Xunit.Abstractions;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Health, balancing and failover with real faults: one group of two PostgreSQL clusters (the shared test
/// server and a second one this class starts and stops), Npgsql clients through the passthrough. Which
/// cluster served a transaction is what <c>inet_server_port()</c> says.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly ITestOutputHelper _output;
    private PostgresTestServer _shared = null!;
    private SecondPostgres _own = null!;
    private EdgeProcess _edge = null!;

    public FailoverTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync()
    {
        _shared = await PostgresTestServer.GetAsync();
        _own = await SecondPostgres.CreateAsync();
        _edge = await EdgeProcess.StartAsync(Config("enabled", "enabled"));
    }

    public async Task DisposeAsync()
    {
        if (_edge is not null)
        {
            await _edge.DisposeAsync();
        }

        if (_own is not null)
        {
            await _own.DisposeAsync();
        }
    }

    /// <summary>Cluster "mine" is the second server, "shared" the shared one; probes every 200 ms, short backoff.</summary>
    private string Config(string mineState, string sharedState) => $$"""
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          mine:
            engine: postgres
            state: {{mineState}}
            postgres: { host: {{_own.Host}}, port: {{_own.Port}}, user: {{_own.User}}, database: postgres }
            pool: { max_size: 32, connect_timeout: 2s, health_check_after_idle: 0s }
            health: { probe_interval: 200ms, probe_timeout: 5s, failure_threshold: 2, open_base: 300ms, open_max: 1s }
          shared:
            engine: postgres
            state: {{sharedState}}
            postgres: { host: {{_shared.Host}}, port: {{_shared.Port}}, user: {{_shared.User}}, password: "{{_shared.Password}}", database: {{_shared.Database}} }
            pool: { max_size: 32, connect_timeout: 2s }
            health: { probe_interval: 200ms, probe_timeout: 5s, failure_threshold: 2, open_base: 300ms, open_max: 1s }
        groups:
          two:
            clusters: [mine, shared]
        routing:
          default_group: two
        """;

    [Fact]
    public async Task Stopping_a_cluster_moves_new_transactions_to_the_other_and_a_restart_brings_traffic_back()
    {
        await using var load = new Load(_edge, workers: 6);

        // Round robin at login: both clusters serve the load.
        await load.WaitAsync(() => load.Served(_own.Port) > 0 && load.Served(_shared.Port) > 0, "both clusters serving");

        Assert.Empty(load.FailuresStartedAfter(0));
        int opens = Occurrences("cluster 'mine': breaker open");
        await _own.StopImmediateAsync();
        await WaitForLogAsync("cluster 'mine': breaker open", opens + 1);
        long opened = Stopwatch.GetTimestamp();

        // New transactions keep succeeding, all on the other cluster.
        long servedAtOpen = load.Served(_shared.Port);
        await load.WaitAsync(() => load.Served(_shared.Port) >= servedAtOpen + 300, "300 transactions after the breaker opened");
        Assert.Empty(load.FailuresStartedAfter(opened));
        Assert.Equal(0, load.ServedAfter(opened, _own.Port));

        // Restart: the probe's trial closes the breaker; new sessions are balanced onto it again.
        int closes = Occurrences("cluster 'mine': breaker closed");
        await _own.StartAsync();
        await WaitForLogAsync("cluster 'mine': breaker closed", closes + 1);
        DateTime deadline = DateTime.UtcNow + Deadline;
        bool back = false;
        while (!back && DateTime.UtcNow < deadline)
        {
            await using var connection = new NpgsqlConnection(_edge.ConnectionString(database: "two"));
            await connection.OpenAsync();
            back = await ServerPortAsync(connection) == _own.Port;
        }

        Assert.True(back, "no new session reached the restarted cluster:\n" + _edge.Log);
        _output.WriteLine($"served: mine {load.Served(_own.Port)}, shared {load.Served(_shared.Port)}");
        await load.StopAsync();
        Assert.Empty(load.FailuresStartedAfter(opened));

        // Only transactions in flight when the server died (or sent before the breaker opened) failed, with a
        // connection error, and there are few.
        Failure[] inFlight = load.FailuresStartedAfter(0).ToArray();
        _output.WriteLine($"in-flight failures: {inFlight.Length}: {string.Join("; ", inFlight.Select(f => f.Text))}");
        Assert.True(inFlight.Length <= 6 * 2, $"{inFlight.Length} in-flight failures: {string.Join("; ", inFlight.Select(f => f.Text))}");
        Assert.All(inFlight, f => Assert.True(f.SqlState is { } state && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P0", StringComparison.Ordinal)), f.Text));
    }

    [Fact]
    public async Task Draining_by_reload_sends_new_transactions_elsewhere_and_lets_open_ones_finish()
    {
        // A transaction open on "mine" when it starts draining finishes there.
        await using var inTransaction = await ConnectToAsync(_own.Port);
        await using (var begin = new NpgsqlCommand("begin", inTransaction))
        {
            await begin.ExecuteNonQueryAsync();
        }

        await using var idle = await ConnectToAsync(_own.Port);
        await _edge.ReloadAsync(Config("draining", "enabled"));

        Assert.Equal(_own.Port, await ServerPortAsync(inTransaction));
        await using (var commit = new NpgsqlCommand("commit", inTransaction))
        {
            await commit.ExecuteNonQueryAsync();
        }

        // The next transactions of both sessions, and every new session, go to the other member.
        Assert.Equal(_shared.Port, await ServerPortAsync(inTransaction));
        Assert.Equal(_shared.Port, await ServerPortAsync(idle));
        for (int i = 0; i < 4; i++)
        {
            await using var connection = new NpgsqlConnection(_edge.ConnectionString(database: "two"));
            await connection.OpenAsync();
            Assert.Equal(_shared.Port, await ServerPortAsync(connection));
        }
    }

    [Fact]
    public async Task With_no_eligible_cluster_the_client_gets_the_reason()
    {
        await using var session = await ConnectToAsync(_shared.Port);
        await _edge.ReloadAsync(Config("disabled", "draining"));

        // An open session: its next transaction gets 08006 naming every member's state.
        PostgresException error = await Assert.ThrowsAsync<PostgresException>(() => ServerPortAsync(session));
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("no cluster of group 'two' can take the query", error.MessageText, StringComparison.Ordinal);
        Assert.Contains("mine disabled", error.MessageText, StringComparison.Ordinal);
        Assert.Contains("shared draining", error.MessageText, StringComparison.Ordinal);

        // A new session is refused at login with the same reason.
        await using var connection = new NpgsqlConnection(_edge.ConnectionString(database: "two"));
        PostgresException login = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal("08006", login.SqlState);
        Assert.Contains("mine disabled", login.MessageText, StringComparison.Ordinal);
    }

    /// <summary>A new session through Edge that landed on the cluster listening on <paramref name="port"/> (round robin: a few tries).</summary>
    private async Task<NpgsqlConnection> ConnectToAsync(int port)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var connection = new NpgsqlConnection(_edge.ConnectionString(database: "two"));
            try
            {
                await connection.OpenAsync();
            }
            catch (NpgsqlException ex) when (ex.InnerException is TimeoutException)
            {
                await connection.DisposeAsync();
                throw new InvalidOperationException($"connecting to Edge on port {_edge.Port} timed out; Edge log:\n{_edge.Log}", ex);
            }

            if (await ServerPortAsync(connection) == port)
            {
                return connection;
            }

            await connection.DisposeAsync();
        }

        throw new InvalidOperationException($"no session reached port {port} in 10 tries");
    }

    private static async Task<int> ServerPortAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("select inet_server_port()", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private int Occurrences(string text)
    {
        string log = _edge.Log;
        int count = 0;
        for (int at = log.IndexOf(text, StringComparison.Ordinal); at >= 0; at = log.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Waits until Edge has logged <paramref name="text"/> at least <paramref name="times"/> times.</summary>
    private async Task WaitForLogAsync(string text, int times)
    {
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (Occurrences(text) < times)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Edge did not log \"{text}\" in time:\n{_edge.Log}");
            await Task.Delay(20);
        }
    }

    private readonly record struct Failure(long Started, string? SqlState, string Text);

    /// <summary>
    /// Workers that each hold one session and run <c>select inet_server_port()</c> in a loop, recording which
    /// server answered and every failure with the time the transaction started.
    /// </summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly EdgeProcess _edge;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<(long Started, int Port)> _served = new();
        private readonly ConcurrentQueue<Failure> _failures = new();
        private readonly Task[] _workers;

        public Load(EdgeProcess edge, int workers)
        {
            _edge = edge;
            _workers = new Task[workers];
            for (int i = 0; i < workers; i++)
            {
                _workers[i] = Task.Run(RunAsync);
            }
        }

        public long Served(int port) => _served.Count(s => s.Port == port);

        public long ServedAfter(long time, int port) => _served.Count(s => s.Port == port && s.Started > time);

        public IEnumerable<Failure> FailuresStartedAfter(long time) => _failures.Where(f => f.Started > time);

        public async Task WaitAsync(Func<bool> condition, string what)
        {
            DateTime deadline = DateTime.UtcNow + Deadline;
            while (!condition())
            {
                Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; failures: {string.Join("; ", _failures.Select(f => f.Text))}\n{_edge.Log}");
                Assert.DoesNotContain(_workers, w => w.IsFaulted);
                await Task.Delay(20);
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_workers);
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            NpgsqlConnection? connection = null;
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    long started = Stopwatch.GetTimestamp();
                    try
                    {
                        if (connection is null)
                        {
                            connection = new NpgsqlConnection(_edge.ConnectionString(database: "two"));
                            await connection.OpenAsync();
                        }

                        _served.Enqueue((started, await ServerPortAsync(connection)));
                    }
                    catch (PostgresException ex)
                    {
                        _failures.Enqueue(new Failure(started, ex.SqlState, $"{ex.SqlState}: {ex.MessageText}"));
                    }
                    catch (NpgsqlException ex)
                    {
                        // The client connection itself broke: counted, and the worker reconnects.
                        _failures.Enqueue(new Failure(started, (ex.InnerException as PostgresException)?.SqlState, ex.Message));
                        if (connection is not null)
                        {
                            await connection.DisposeAsync();
                            connection = null;
                        }
                    }
                }
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }
    }
}
