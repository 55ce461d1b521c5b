using System.Diagnostics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.Postgres.PgTestSupport;

namespace LakeOps.Edge.Engines.Tests.Postgres;

public class PgServerConnectionTests
{
    [Fact]
    public async Task Scram_login_reports_parameters_and_backend_key()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var connection = await ConnectAsync(server);
        Assert.False(connection.IsBroken);
        Assert.Equal(PgTransactionStatus.Idle, connection.TransactionStatus);
        Assert.NotEqual(0, connection.ProcessId);
        Assert.True(connection.ServerParameters.ContainsKey("server_version"));
        Assert.Equal("UTF8", connection.ServerParameters["client_encoding"]);
        Assert.Equal("edge-tests", connection.ServerParameters["application_name"]);
        Assert.True(connection.CreatedTimestamp <= Stopwatch.GetTimestamp());

        // The pid the server reports for this session is the one from BackendKeyData.
        var pid = await SimpleQueryAsync(connection, "select pg_backend_pid()");
        Assert.Equal(connection.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), pid[0]);
        Assert.Equal(server.User, (await SimpleQueryAsync(connection, "select current_user"))[0]);
    }

    [Theory]
    [InlineData(PostgresTestServer.ScramUser, PostgresTestServer.ScramPassword, "scram-sha-256")]
    [InlineData(PostgresTestServer.Md5User, PostgresTestServer.Md5Password, "md5")]
    [InlineData(PostgresTestServer.CleartextUser, PostgresTestServer.CleartextPassword, "password")]
    [InlineData(PostgresTestServer.TrustUser, "", "trust")]
    public async Task Each_auth_method_logs_in(string user, string password, string method)
    {
        var server = await PostgresTestServer.GetAsync();
        if (!server.IsOwned)
        {
            return; // the extra roles exist only on a server this test run started
        }

        await using var connection = await ConnectAsync(server, user, password);
        Assert.Equal(user, (await SimpleQueryAsync(connection, "select current_user"))[0]);

        // The first matching TCP rule of pg_hba_file_rules is the method the server used for this user.
        var rules = await server.PsqlAsync(
            $"select auth_method from pg_hba_file_rules where type = 'host' and ('{user}' = any(user_name) or 'all' = any(user_name)) order by line_number limit 1");
        Assert.Equal(method, rules);
    }

    [Theory]
    [InlineData(PostgresTestServer.ScramUser)]
    [InlineData(PostgresTestServer.Md5User)]
    [InlineData(PostgresTestServer.CleartextUser)]
    public async Task Wrong_password_fails_with_the_server_sqlstate_and_cluster_name(string user)
    {
        var server = await PostgresTestServer.GetAsync();
        if (!server.IsOwned)
        {
            return;
        }

        var error = await Assert.ThrowsAsync<EngineException>(async () => await ConnectAsync(server, user, "wrong"));
        Assert.Equal(SqlStates.InvalidPassword, error.SqlState);
        Assert.StartsWith("cluster 'pg': ", error.Message, StringComparison.Ordinal);
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_database_fails_with_3D000()
    {
        var server = await PostgresTestServer.GetAsync();
        RemoteEngineOptions remote = Remote(server) with { Database = "no_such_db_edge" };
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
            await PgServerConnection.ConnectAsync("pg", remote, [], ConnectTimeout, CancellationToken.None));
        Assert.Equal(SqlStates.InvalidCatalogName, error.SqlState);
        Assert.Contains("no_such_db_edge", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_fails_with_08006_naming_cluster_and_address()
    {
        int port = ClosedPort();
        var remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = port, User = "x" };
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
            await PgServerConnection.ConnectAsync("down", remote, [], ConnectTimeout, CancellationToken.None));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.StartsWith($"cluster 'down': cannot connect to 127.0.0.1:{port}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silent_server_times_out_with_08006()
    {
        // A listener that accepts TCP but never answers the startup packet.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = port, User = "x" };
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
            await PgServerConnection.ConnectAsync("mute", remote, [], TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(EngineTlsMode.Require)]
    [InlineData(EngineTlsMode.Prefer)]
    public async Task Tls_is_used_when_the_server_offers_it(EngineTlsMode mode)
    {
        var server = await PostgresTestServer.GetAsync();
        if (!server.IsOwned)
        {
            return; // TLS is on for the own server only
        }

        await using var connection = await ConnectAsync(server, tls: mode);
        Assert.True(connection.IsTls);
        Assert.Equal("t", (await SimpleQueryAsync(connection, "select ssl from pg_stat_ssl where pid = pg_backend_pid()"))[0]);
    }

    [Fact]
    public async Task Verify_full_accepts_the_server_certificate_from_a_ca_file()
    {
        var server = await PostgresTestServer.GetAsync();
        if (!server.IsOwned)
        {
            return;
        }

        RemoteEngineOptions remote = Remote(server) with { Tls = EngineTlsMode.VerifyFull, CaFile = server.CertificateFile };
        await using var connection = await PgServerConnection.ConnectAsync("pg", remote, [], ConnectTimeout, CancellationToken.None);
        Assert.True(connection.IsTls);

        // Without the CA file the self-signed certificate is not trusted.
        var error = await Assert.ThrowsAsync<EngineException>(async () =>
            await PgServerConnection.ConnectAsync("pg", remote with { CaFile = null }, [], ConnectTimeout, CancellationToken.None));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
    }

    [Fact]
    public async Task Plain_connection_is_not_tls()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var connection = await ConnectAsync(server);
        Assert.False(connection.IsTls);
    }

    [Fact]
    public async Task Ping_round_trips_and_fails_after_the_backend_is_terminated()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var connection = await ConnectAsync(server);
        Assert.True(await connection.PingAsync(CancellationToken.None));
        Assert.True(await connection.PingAsync(CancellationToken.None));
        Assert.False(connection.IsBroken);

        await server.PsqlAsync($"select pg_terminate_backend({connection.ProcessId})");
        Assert.False(await connection.PingAsync(CancellationToken.None));
        Assert.True(connection.IsBroken);
    }

    [Fact]
    public async Task Cancel_request_interrupts_a_running_query()
    {
        var server = await PostgresTestServer.GetAsync();
        await using var connection = await ConnectAsync(server);
        await using var observer = await ConnectAsync(server);
        var watch = Stopwatch.StartNew();
        Task<List<string?>> sleeping = SimpleQueryAsync(connection, "select pg_sleep(10)");

        // Cancel only once the server shows the query running, so the test does not depend on timing.
        await WaitUntilAsync(async () =>
            (await SimpleQueryAsync(observer, $"select count(*) from pg_stat_activity where pid = {connection.ProcessId} and state = 'active'"))[0] == "1");
        await connection.SendCancelRequestAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sleeping);
        Assert.StartsWith(SqlStates.QueryCanceled, error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(9));
        Assert.True(await connection.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Dispose_terminates_the_server_session()
    {
        var server = await PostgresTestServer.GetAsync();
        var connection = await ConnectAsync(server);
        int pid = connection.ProcessId;
        await connection.DisposeAsync();
        await connection.DisposeAsync(); // idempotent
        Assert.True(connection.IsBroken);
        Assert.False(await connection.PingAsync(CancellationToken.None));
        await WaitUntilAsync(async () => await server.PsqlAsync($"select count(*) from pg_stat_activity where pid = {pid}") == "0");
    }

    private static int ClosedPort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
