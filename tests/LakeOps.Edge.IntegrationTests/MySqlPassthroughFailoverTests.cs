using System.Globalization;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Failover in the MySQL passthrough: a group of three MySQL-wire clusters in failover order: "dead" (nobody
/// listens), then "m1" and "m2" (both the shared MariaDB). Which cluster served a command is what Edge logs when
/// a session moves, and what the audit log records.
/// </summary>
public sealed class MySqlPassthroughFailoverTests : IAsyncLifetime
{
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;
    private int _deadPort;

    public async Task InitializeAsync()
    {
        _mariaDb = await MariaDbTestServer.GetAsync();
        _deadPort = EdgeProcess.FreePort();
        _edge = await EdgeProcess.StartAsync(Config("enabled"));
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    private string Config(string m1State) => $$"""
        listeners:
          my:
            protocol: mysql
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          dead:
            engine: mysql
            mysql: { host: 127.0.0.1, port: {{_deadPort}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
            pool: { connect_timeout: 2s }
            health: { probe_interval: 0s, failure_threshold: 1, open_base: 60s, open_max: 60s }
          m1:
            engine: mysql
            state: {{m1State}}
            mysql: { host: {{_mariaDb.Host}}, port: {{_mariaDb.Port}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
            health: { probe_interval: 0s }
          m2:
            engine: mysql
            mysql: { host: {{_mariaDb.Host}}, port: {{_mariaDb.Port}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
            health: { probe_interval: 0s }
        groups:
          maria:
            clusters: [dead, m1, m2]
            balancing: failover
        routing:
          default_group: maria
        audit:
          enabled: true
          path: audit.jsonl
          include_sql: true
        """;

    [Fact]
    public async Task A_borrow_that_cannot_connect_moves_to_the_next_member_and_draining_moves_the_next_transaction()
    {
        // Login while "dead" is still the first choice: the first command's borrow fails to connect and is
        // retried on m1, transparently.
        await using var session = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria"));
        await session.OpenAsync();
        Assert.Equal("1", await ScalarAsync(session, "SELECT 1"));
        await WaitForLogAsync("moves from cluster 'dead' to 'm1' of group 'maria'");

        // A transaction open on m1 when it starts draining finishes there; the next one moves to m2.
        await ScalarAsync(session, "BEGIN");
        Assert.Equal("2", await ScalarAsync(session, "SELECT 2"));
        await _edge.ReloadAsync(Config("draining"));
        Assert.Equal("3", await ScalarAsync(session, "SELECT 3"));
        Assert.DoesNotContain("moves from cluster 'm1'", _edge.Log, StringComparison.Ordinal);
        await ScalarAsync(session, "COMMIT");
        Assert.Equal("4", await ScalarAsync(session, "SELECT 4"));
        await WaitForLogAsync("moves from cluster 'm1' to 'm2' of group 'maria'");

        // The audit records say where each command ran.
        Dictionary<string, string> clusters = await AuditClustersAsync("SELECT 4");
        Assert.Equal("m1", clusters["SELECT 1"]);
        Assert.Equal("m1", clusters["SELECT 3"]);
        Assert.Equal("m1", clusters["COMMIT"]);
        Assert.Equal("m2", clusters["SELECT 4"]);
    }

    /// <summary>Edge's log reaches the test through a pipe: a line written before the reply may arrive just after it.</summary>
    private async Task WaitForLogAsync(string text)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_edge.Log.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no log line with \"{text}\":\n{_edge.Log}");
            await Task.Delay(25);
        }
    }

    private static async Task<string?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Statement text to cluster from the audit log, once the record of <paramref name="last"/> is there.</summary>
    private async Task<Dictionary<string, string>> AuditClustersAsync(string last)
    {
        string path = Path.Combine(_edge.Directory, "audit.jsonl");
        await AuditLog.WaitForLineAsync(path, last, TimeSpan.FromSeconds(10), () => _edge.Log);
        var clusters = new Dictionary<string, string>();
        foreach (System.Text.Json.JsonElement record in AuditLog.Read(path))
        {
            if (record.TryGetProperty("sql", out var sql) && record.TryGetProperty("cluster", out var cluster))
            {
                clusters[sql.GetString()!] = cluster.GetString()!;
            }
        }

        return clusters;
    }

}
