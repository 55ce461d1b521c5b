using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.MySql.MySqlTestSupport;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>Handshake, authentication, TLS and connection-level commands against real MariaDB.</summary>
public sealed class MySqlServerConnectionTests
{
    [Fact]
    public async Task Native_password_authenticates_and_negotiates_the_expected_capabilities()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        await using MySqlServerConnection connection = await ConnectAsync(server);

        Assert.Equal(MySqlAuthPackets.NativePassword, connection.AuthPlugin);
        Assert.Contains("MariaDB", connection.ServerVersion, StringComparison.Ordinal);
        Assert.False(connection.ServerVersion.StartsWith("5.5.5-", StringComparison.Ordinal));
        Assert.True(connection.ConnectionId > 0);
        MySqlCapabilities caps = connection.Capabilities;
        Assert.True(caps.HasFlag(MySqlCapabilities.Protocol41 | MySqlCapabilities.SecureConnection | MySqlCapabilities.PluginAuth | MySqlCapabilities.MultiStatements | MySqlCapabilities.MultiResults | MySqlCapabilities.DeprecateEof | MySqlCapabilities.Transactions));
        Assert.False(caps.HasFlag(MySqlCapabilities.LocalFiles));
        Assert.False(caps.HasFlag(MySqlCapabilities.Ssl));
        Assert.True(await connection.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_server_connection_id_is_the_one_the_server_reports()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        await using var engine = new MySqlEngine(Cluster(server, maxSize: 1));
        await using IEngineSession session = await OpenAsync(engine);

        object? id = await ScalarAsync(session, "SELECT CONNECTION_ID()");
        MySqlServerConnection pooled = await engine.Pool.RentAsync(CancellationToken.None);
        engine.Pool.Return(pooled);
        Assert.Equal((ulong)pooled.ConnectionId, Convert.ToUInt64(id, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task An_empty_password_authenticates()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        if (!(server.IsOwned))
        {
            return; // needs the extra users of an owned server (an external EDGE_TEST_MYSQL_* server)
        }

        await using MySqlServerConnection connection = await ConnectAsync(server, MariaDbTestServer.EmptyPasswordUser, "");
        Assert.True(await connection.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_wrong_password_fails_with_08006_naming_the_cluster_and_keeping_the_server_message()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await ConnectAsync(server, password: "wrong"));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cluster 'maria'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{server.Host}:{server.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Access denied for user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_auth_switch_request_is_answered_with_the_plugin_the_server_asks_for()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();

        // Answering the greeting with caching_sha2_password makes MariaDB switch to the user's plugin.
        await using MySqlServerConnection connection = await ConnectAsync(server, initialPlugin: MySqlAuthPackets.CachingSha2Password);
        Assert.Equal(MySqlAuthPackets.NativePassword, connection.AuthPlugin);
        Assert.True(await connection.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_auth_switch_with_a_wrong_password_still_fails_cleanly()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () =>
            await ConnectAsync(server, password: "nope", initialPlugin: MySqlAuthPackets.CachingSha2Password));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("Access denied", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EngineTlsMode.Prefer)]
    [InlineData(EngineTlsMode.Require)]
    public async Task Tls_is_negotiated_when_asked_for(EngineTlsMode mode)
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        if (!(server.HasTls))
        {
            return; // the server has no TLS (an external EDGE_TEST_MYSQL_* server)
        }

        await using MySqlServerConnection connection = await ConnectAsync(server, tls: mode);
        Assert.True(connection.IsTls);
        Assert.True(connection.Capabilities.HasFlag(MySqlCapabilities.Ssl));

        await using var engine = new MySqlEngine(Cluster(server) with { Remote = Remote(server, tls: mode) });
        await using IEngineSession session = await OpenAsync(engine);
        List<object?[]> rows = await RowsAsync(session, "SHOW SESSION STATUS LIKE 'Ssl_cipher'");
        Assert.False(string.IsNullOrEmpty((string?)rows[0][1]));
    }

    [Fact]
    public async Task Verify_full_accepts_a_certificate_from_the_configured_ca_file()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        if (!(server.CertificatePath is not null))
        {
            return; // needs the owned server's certificate (an external EDGE_TEST_MYSQL_* server)
        }

        RemoteEngineOptions remote = Remote(server, tls: EngineTlsMode.VerifyFull) with { CaFile = server.CertificatePath };
        await using MySqlServerConnection connection = await MySqlServerConnection.ConnectAsync(new MySqlConnectOptions("maria", remote, MySqlEngine.DefaultFormat), CancellationToken.None);
        Assert.True(connection.IsTls);
    }

    [Fact]
    public async Task Verify_full_rejects_a_certificate_it_cannot_trust()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        if (!(server.HasTls))
        {
            return; // the server has no TLS (an external EDGE_TEST_MYSQL_* server)
        }

        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await ConnectAsync(server, tls: EngineTlsMode.VerifyFull));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_engine_that_is_down_gives_08006_naming_the_cluster()
    {
        int port = UnusedPort();
        var cluster = new ClusterConfig
        {
            Name = "down",
            Engine = EngineKind.MySql,
            Remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = port, User = "x", Password = "y" },
            Pool = new PoolOptions { MaxSize = 2, ConnectTimeout = TimeSpan.FromSeconds(5) },
        };
        await using var engine = new MySqlEngine(cluster);
        await using IEngineSession session = await OpenAsync(engine);
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await session.ExecuteAsync("SELECT 1", CancellationToken.None));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cluster 'down'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_session_drops_session_state_and_restores_the_base_state()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        await using var engine = new MySqlEngine(Cluster(server, maxSize: 1));
        MySqlServerConnection connection = await engine.Pool.RentAsync(CancellationToken.None);
        try
        {
            await ExecAsync(connection, "SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+05:00', NAMES latin1");
            await ExecAsync(connection, "USE mysql");
            await ExecAsync(connection, "SET @v = 1");
            await connection.ResetSessionAsync(CancellationToken.None);
            Assert.Equal("", connection.AppliedState);
        }
        finally
        {
            engine.Pool.Return(connection);
        }

        await using IEngineSession session = await OpenAsync(engine);
        List<object?[]> rows = await RowsAsync(session, "SELECT @@sql_mode LIKE '%ANSI_QUOTES%', @@time_zone, @@character_set_client, DATABASE(), @v");
        Assert.Equal(0L, Convert.ToInt64(rows[0][0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("+00:00", rows[0][1]);
        Assert.Equal("utf8mb4", rows[0][2]);
        Assert.Equal(server.Database, rows[0][3]);
        Assert.Null(rows[0][4]);
    }

    private static int UnusedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
