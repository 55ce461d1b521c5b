using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests.Systemd;

/// <summary>
/// SIGTERM under load against the AOT binary: a PostgreSQL listener (group "pg" passes through to a real
/// PostgreSQL, group "local" runs on DuckDB) and a MySQL listener on DuckDB.
/// </summary>
public sealed class GracefulShutdownTests
{
    private static async Task<(EdgeProcess Edge, int MySqlPort, PostgresTestServer Postgres)> StartAsync(string shutdownTimeout)
    {
        PostgresTestServer postgres = await PostgresTestServer.GetAsync();
        int mysqlPort = EdgeProcess.FreePort();
        string config = $$"""
            server:
              shutdown_timeout: {{shutdownTimeout}}
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
              my:
                protocol: mysql
                address: 127.0.0.1:{{mysqlPort}}
                auth: trust
            clusters:
              pg:
                engine: postgres
                postgres: {{Configs.Engine(postgres)}}
              duckdb:
                engine: duckdb
                duckdb:
                  path: ":memory:"
            groups:
              pg:
                clusters: [pg]
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        return (await EdgeProcess.StartAsync(config), mysqlPort, postgres);
    }

    [Fact]
    public async Task Sigterm_lets_running_statements_finish_tells_idle_clients_and_exits_zero()
    {
        (EdgeProcess edge, int mysqlPort, PostgresTestServer postgres) = await StartAsync("30s");
        await using (edge)
        {
            string marker = "edge_drain_" + Guid.NewGuid().ToString("N")[..8];
            await using var running = new NpgsqlConnection(edge.ConnectionString(database: "pg"));
            await running.OpenAsync();
            await using var idlePassthrough = await OpenIdleAsync(edge.ConnectionString(database: "pg"));
            await using var idleDuckDb = await OpenIdleAsync(edge.ConnectionString(database: "local"));
            await using var idleMySql = new MySqlConnection(MySqlConnectionStrings.For(mysqlPort, "edge"));
            await idleMySql.OpenAsync();
            await using (var ping = new MySqlCommand("select 1", idleMySql))
            {
                Assert.Equal(1, Convert.ToInt32(await ping.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
            }

            await using var sleep = new NpgsqlCommand($"select pg_sleep(1.5), '{marker}'", running);
            Task<object?> sleeping = ReadSecondColumnAsync(sleep);
            await WaitUntilAsync(async () => await postgres.PsqlAsync(
                $"select count(*) from pg_stat_activity where query like 'select pg_sleep(1.5), ''{marker}''%' and state = 'active'") == "1");

            edge.SendSignal(15);
            await WaitUntilAsync(() => Task.FromResult(edge.Log.Contains("[1002 Stopping] stopping", StringComparison.Ordinal)));

            // No new connections once the drain started.
            using (var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                SocketException error = await Assert.ThrowsAsync<SocketException>(async () => await refused.ConnectAsync(new IPEndPoint(IPAddress.Loopback, edge.Port)));
                Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
            }

            // The running statement finishes and returns its row.
            Assert.Equal(marker, await sleeping);

            // Idle clients were told, in their protocol, that the server shuts down.
            await AssertAdminShutdownAsync(idlePassthrough);
            await AssertAdminShutdownAsync(idleDuckDb);
            await AssertServerShutdownAsync(idleMySql);

            Assert.Equal(0, await edge.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("[1003 Stopped] stopped", edge.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_client_whose_statement_finishes_during_the_drain_gets_57P01_instead_of_its_next_query()
    {
        (EdgeProcess edge, _, PostgresTestServer postgres) = await StartAsync("30s");
        await using (edge)
        {
            string marker = "edge_next_" + Guid.NewGuid().ToString("N")[..8];
            await using var connection = new NpgsqlConnection(edge.ConnectionString(database: "pg"));
            await connection.OpenAsync();
            await using var sleep = new NpgsqlCommand($"select pg_sleep(1), '{marker}'", connection);
            Task<object?> sleeping = ReadSecondColumnAsync(sleep);
            await WaitUntilAsync(async () => await postgres.PsqlAsync(
                $"select count(*) from pg_stat_activity where query like 'select pg_sleep(1), ''{marker}''%' and state = 'active'") == "1");

            edge.SendSignal(15);
            Assert.Equal(marker, await sleeping);
            await AssertAdminShutdownAsync(connection);
            Assert.Equal(0, await edge.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
    }

    [Fact]
    public async Task The_shutdown_timeout_ends_a_drain_that_takes_too_long()
    {
        (EdgeProcess edge, _, PostgresTestServer postgres) = await StartAsync("1s");
        await using (edge)
        {
            string marker = "edge_timeout_" + Guid.NewGuid().ToString("N")[..8];
            await using var connection = new NpgsqlConnection(edge.ConnectionString(database: "pg"));
            await connection.OpenAsync();
            await using var sleep = new NpgsqlCommand($"select pg_sleep(20), '{marker}'", connection);
            Task<object?> sleeping = ReadSecondColumnAsync(sleep);
            await WaitUntilAsync(async () => await postgres.PsqlAsync(
                $"select count(*) from pg_stat_activity where query like 'select pg_sleep(20), ''{marker}''%' and state = 'active'") == "1");

            DateTime signalled = DateTime.UtcNow;
            edge.SendSignal(15);
            Assert.Equal(3, await edge.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.InRange(DateTime.UtcNow - signalled, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
            Assert.Contains("[1004 ShutdownForced]", edge.Log, StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<Exception>(() => sleeping);
            await postgres.PsqlAsync($"select pg_cancel_backend(pid) from pg_stat_activity where query like 'select pg_sleep(20), ''{marker}''%'");
        }
    }

    [Fact]
    public async Task A_second_sigterm_exits_at_once()
    {
        (EdgeProcess edge, _, PostgresTestServer postgres) = await StartAsync("60s");
        await using (edge)
        {
            string marker = "edge_twice_" + Guid.NewGuid().ToString("N")[..8];
            await using var connection = new NpgsqlConnection(edge.ConnectionString(database: "pg"));
            await connection.OpenAsync();
            await using var sleep = new NpgsqlCommand($"select pg_sleep(20), '{marker}'", connection);
            Task<object?> sleeping = ReadSecondColumnAsync(sleep);
            await WaitUntilAsync(async () => await postgres.PsqlAsync(
                $"select count(*) from pg_stat_activity where query like 'select pg_sleep(20), ''{marker}''%' and state = 'active'") == "1");

            edge.SendSignal(15);
            await WaitUntilAsync(() => Task.FromResult(edge.Log.Contains("[1002 Stopping] stopping", StringComparison.Ordinal)));
            Assert.False(edge.HasExited);
            edge.SendSignal(15);
            Assert.Equal(3, await edge.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("second stop signal", edge.Log, StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<Exception>(() => sleeping);
            await postgres.PsqlAsync($"select pg_cancel_backend(pid) from pg_stat_activity where query like 'select pg_sleep(20), ''{marker}''%'");
        }
    }

    [Fact]
    public async Task Mysql_passthrough_finishes_the_running_command_and_tells_idle_clients_error_1053()
    {
        MariaDbTestServer mariaDb = await MariaDbTestServer.GetAsync();
        string config = $$"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              maria:
                engine: mysql
                mysql: {{Configs.Engine(mariaDb)}}
            groups:
              maria:
                clusters: [maria]
            routing:
              default_group: maria
            """;
        await using EdgeProcess edge = await EdgeProcess.StartAsync(config);
        string connectionString = MySqlConnectionStrings.For(edge.Port, "edge", "maria");
        await using var running = new MySqlConnection(connectionString);
        await running.OpenAsync();
        await using var idle = new MySqlConnection(connectionString);
        await idle.OpenAsync();
        await using (var ping = new MySqlCommand("select 1", idle))
        {
            Assert.Equal(1, Convert.ToInt32(await ping.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        }

        string marker = "edge_mysql_drain_" + Guid.NewGuid().ToString("N")[..8];
        await using var sleep = new MySqlCommand($"select sleep(1.5), '{marker}'", running);
        Task<object?> sleeping = ReadSecondColumnAsync(sleep);
        await using (var direct = new MySqlConnection(mariaDb.ConnectionString()))
        {
            await direct.OpenAsync();
            await WaitUntilAsync(async () =>
            {
                await using var count = new MySqlCommand($"select count(*) from information_schema.processlist where info like 'select sleep(1.5), ''{marker}''%'", direct);
                return Convert.ToInt64(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture) == 1;
            });
        }

        edge.SendSignal(15);
        Assert.Equal(marker, await sleeping);
        await AssertServerShutdownAsync(idle);
        await AssertServerShutdownAsync(running);
        Assert.Equal(0, await edge.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    private static async Task AssertServerShutdownAsync(MySqlConnection connection)
    {
        await using var next = new MySqlCommand("select 1", connection);
        MySqlException error = await Assert.ThrowsAsync<MySqlException>(() => next.ExecuteScalarAsync());
        Assert.Equal(MySqlErrorCode.ServerShutdown, error.ErrorCode);
        Assert.Contains("Edge", error.Message, StringComparison.Ordinal);
    }

    private static async Task<object?> ReadSecondColumnAsync(MySqlCommand command)
    {
        await using MySqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetValue(1);
    }

    private static async Task<NpgsqlConnection> OpenIdleAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
        return connection;
    }

    private static async Task AssertAdminShutdownAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("select 1", connection);
        PostgresException error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.Equal("57P01", error.SqlState);
        Assert.Equal("FATAL", error.Severity);
        Assert.Contains("terminating connection due to administrator command", error.MessageText, StringComparison.Ordinal);
        Assert.Contains("Edge", error.MessageText, StringComparison.Ordinal);
    }

    private static async Task<object?> ReadSecondColumnAsync(NpgsqlCommand command)
    {
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetValue(1);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 15 s");
            await Task.Delay(20);
        }
    }
}
