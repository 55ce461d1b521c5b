using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// The transparent retry on the Arrow path with a real fault: MySQL clients (MySqlConnector) through Edge's MySQL
/// front door on a group of two PostgreSQL clusters (the shared test server and a second one this class stops).
/// Which cluster answered is what <c>inet_server_port()</c> says.
/// </summary>
public sealed class ArrowRetryTests : IAsyncLifetime
{
    private PostgresTestServer _shared = null!;
    private SecondPostgres _mine = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _shared = await PostgresTestServer.GetAsync();
        _mine = await SecondPostgres.CreateAsync();
        _edge = await EdgeProcess.StartAsync($$"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              mine:
                engine: postgres
                postgres: { host: {{_mine.Host}}, port: {{_mine.Port}}, user: postgres, database: postgres }
                pool: { connect_timeout: 2s }
                health: { probe_interval: 30s }
              shared:
                engine: postgres
                postgres: { host: {{_shared.Host}}, port: {{_shared.Port}}, user: {{_shared.User}}, password: "{{_shared.Password}}", database: {{_shared.Database}} }
                pool: { connect_timeout: 2s }
                health: { probe_interval: 30s }
            groups:
              two:
                clusters: [mine, shared]
            routing:
              default_group: two
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
    }

    [Fact]
    public async Task A_query_whose_cluster_died_runs_on_the_other_member_and_a_transaction_gets_a_clear_error()
    {
        await using MySqlConnection autocommit = await ConnectToAsync(_mine.Port);
        await using MySqlConnection inTransaction = await ConnectToAsync(_mine.Port);
        await ExecuteAsync(inTransaction, "START TRANSACTION");
        Assert.Equal(_mine.Port, await ServerPortAsync(inTransaction));

        await _mine.StopImmediateAsync();

        // Outside a transaction: the client sees the other cluster's answer, no error; the session stays there.
        Assert.Equal(_shared.Port, await ServerPortAsync(autocommit));
        Assert.Equal(_shared.Port, await ServerPortAsync(autocommit));
        Assert.Contains("retrying on 'shared' of group 'two'", _edge.Log, StringComparison.Ordinal);

        // Inside a transaction the statement is not moved: the client gets the failure, naming the cluster.
        MySqlException error = await Assert.ThrowsAsync<MySqlException>(() => ServerPortAsync(inTransaction));
        Assert.Contains("cluster 'mine'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_session_after_the_fault_is_served_by_the_other_member()
    {
        await using MySqlConnection first = await ConnectToAsync(_mine.Port);
        await _mine.StopImmediateAsync();
        for (int i = 0; i < 4; i++)
        {
            await using var connection = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "two"));
            await connection.OpenAsync();
            Assert.Equal(_shared.Port, await ServerPortAsync(connection));
        }

        Assert.Equal(_shared.Port, await ServerPortAsync(first));
    }

    /// <summary>A new session through Edge whose engine session is on the cluster listening on <paramref name="port"/>.</summary>
    private async Task<MySqlConnection> ConnectToAsync(int port)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var connection = new MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "two"));
            await connection.OpenAsync();
            if (await ServerPortAsync(connection) == port)
            {
                return connection;
            }

            await connection.DisposeAsync();
        }

        throw new InvalidOperationException($"no session reached port {port} in 10 tries");
    }

    private static async Task<int> ServerPortAsync(MySqlConnection connection)
    {
        await using var command = new MySqlCommand("select inet_server_port()", connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// The same retry on the PostgreSQL front door's Arrow path: Npgsql clients on a group of two MySQL-wire clusters in
/// failover order, the first of which nobody listens on (the engine session opens without connecting, so the
/// session starts there and its first statement fails to connect).
/// </summary>
public sealed class PgArrowRetryTests : IAsyncLifetime
{
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _mariaDb = await MariaDbTestServer.GetAsync();
        _edge = await EdgeProcess.StartAsync($$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              dead:
                engine: mysql
                mysql: { host: 127.0.0.1, port: {{EdgeProcess.FreePort()}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
                pool: { connect_timeout: 2s }
                health: { probe_interval: 0s, failure_threshold: 100 }
              maria:
                engine: mysql
                mysql: { host: {{_mariaDb.Host}}, port: {{_mariaDb.Port}}, user: {{_mariaDb.User}}, password: "{{_mariaDb.Password}}", database: {{_mariaDb.Database}} }
                health: { probe_interval: 0s }
            groups:
              two:
                clusters: [dead, maria]
                balancing: failover
            routing:
              default_group: two
            """);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    [Fact]
    public async Task A_statement_that_cannot_connect_runs_on_the_next_member_and_the_session_stays_there()
    {
        await using var connection = new Npgsql.NpgsqlConnection(_edge.ConnectionString(database: "two"));
        await connection.OpenAsync();
        await using (var command = new Npgsql.NpgsqlCommand("select 40 + 2", connection))
        {
            Assert.Equal(42L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Contains("cluster 'dead' failed before any result", _edge.Log, StringComparison.Ordinal);
        Assert.Contains("retrying on 'maria' of group 'two'", _edge.Log, StringComparison.Ordinal);
        int retries = System.Text.RegularExpressions.Regex.Matches(_edge.Log, "retrying on 'maria'").Count;

        // The session stays on the member that answered: no second retry.
        await using (var again = new Npgsql.NpgsqlCommand("select 7", connection))
        {
            Assert.Equal(7L, Convert.ToInt64(await again.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(retries, System.Text.RegularExpressions.Regex.Matches(_edge.Log, "retrying on 'maria'").Count);
    }
}
