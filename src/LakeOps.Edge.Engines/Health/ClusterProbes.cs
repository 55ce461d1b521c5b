using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Engines.Trino;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Engines.Health;

/// <summary>
/// The active health probe of each engine kind, for <see cref="HealthMonitor"/>: PostgreSQL an empty query
/// (the cheapest round trip, as <c>SELECT 1</c>), MySQL COM_PING, Trino GET /v1/info, each over a connection of its own
/// outside the pool (Trino: a probe HTTP client without the pool's max_size cap), so a busy pool never makes a healthy
/// cluster look dead. In-process engines (DuckDB) are not probed.
/// </summary>
public static class ClusterProbes
{
    /// <summary>The probe for <paramref name="engine"/>, or null when the engine kind is not probed.</summary>
    public static IClusterProbe? Create(IEngine? engine) => engine switch
    {
        PostgresEngine postgres => new ConnectionProbe<PgServerConnection>(
            postgres.ClusterName,
            cancellationToken => PgServerConnection.ConnectAsync(
                postgres.ClusterName, postgres.Cluster.Remote!, PostgresEngine.StartupParameters, postgres.Cluster.Pool.ConnectTimeout, cancellationToken)),
        MySqlEngine mysql => new ConnectionProbe<MySqlServerConnection>(
            mysql.ClusterName,
            cancellationToken => mysql.ConnectAsync(new MySqlConnectOptions(mysql.ClusterName, mysql.Remote, MySqlCapabilities.None), cancellationToken)),
        TrinoEngine trino => new TrinoInfoProbe(trino),
        _ => null,
    };
}
