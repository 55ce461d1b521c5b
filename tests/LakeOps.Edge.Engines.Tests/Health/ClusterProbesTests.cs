using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;
using LakeOps.Edge.Engines.Health;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Engines.Tests.MySql;
using LakeOps.Edge.Engines.Tests.Postgres;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.Health;

/// <summary>The health probes against real servers (and a port nothing listens on).</summary>
public sealed class ClusterProbesTests
{
    [Fact]
    public async Task In_process_engines_are_not_probed()
    {
        await using var duck = new DuckDbEngine(new ClusterConfig { Name = "duck", Engine = EngineKind.DuckDb });
        Assert.Null(ClusterProbes.Create(duck));
        Assert.Null(ClusterProbes.Create(null));
    }

    [Fact]
    public async Task A_postgres_probe_answers_again_and_again()
    {
        PostgresTestServer server = await PostgresTestServer.GetAsync();
        await using var engine = new PostgresEngine(PgTestSupport.Cluster(server, name: "pg_probe"));
        IClusterProbe probe = ClusterProbes.Create(engine)!;
        for (int i = 0; i < 3; i++)
        {
            await probe.ProbeAsync(CancellationToken.None);
        }

        // Outside the pool: the cluster's pool opened nothing.
        Assert.Equal(0, engine.Pool.Statistics.Opened);
    }

    [Fact]
    public async Task A_mysql_probe_answers_with_com_ping()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        await using var engine = new MySqlEngine(MySqlTestSupport.Cluster(server, name: "maria_probe"));
        IClusterProbe probe = ClusterProbes.Create(engine)!;
        await probe.ProbeAsync(CancellationToken.None);
        await probe.ProbeAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_probe_of_a_server_that_is_not_there_fails_as_a_connect_failure()
    {
        int port;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        var cluster = new ClusterConfig
        {
            Name = "pg_gone",
            Engine = EngineKind.Postgres,
            Remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = port, User = "nobody", Password = "x", Database = "none", Tls = EngineTlsMode.Disable },
            Pool = new PoolOptions { ConnectTimeout = TimeSpan.FromSeconds(2) },
        };
        await using var engine = new PostgresEngine(cluster);
        IClusterProbe probe = ClusterProbes.Create(engine)!;
        EngineException error = await Assert.ThrowsAsync<EngineException>(() => probe.ProbeAsync(CancellationToken.None).AsTask());
        Assert.StartsWith("08", error.SqlState, StringComparison.Ordinal);
        Assert.Contains("pg_gone", error.Message, StringComparison.Ordinal);
    }
}
