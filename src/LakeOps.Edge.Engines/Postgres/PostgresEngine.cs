using System.Globalization;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Pooling;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// A PostgreSQL cluster: one pool of server connections (<see cref="Pool"/>), shared by the Arrow path
/// (sessions from <see cref="OpenSessionAsync"/>, for clients that do not speak PostgreSQL) and the
/// PostgreSQL front door's same-protocol passthrough.
/// </summary>
public sealed class PostgresEngine : IEngine, IDrainableEngine
{
    /// <summary>Prefix of the prepared statement names the Arrow path uses on server connections.</summary>
    public const string StatementPrefix = "lakeops_a";

    private long _statementCounter;

    public PostgresEngine(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Engine != EngineKind.Postgres)
        {
            throw new ArgumentException($"cluster '{cluster.Name}' is a {cluster.Engine} cluster, not postgres", nameof(cluster));
        }

        if (cluster.Remote is null)
        {
            throw new ArgumentException($"cluster '{cluster.Name}' has no host/port/user to connect to", nameof(cluster));
        }

        Cluster = cluster;
        Pool = new ConnectionPool<PgServerConnection>(cluster.Name, cluster.Pool, ConnectAsync);
    }

    /// <summary>
    /// Startup parameters of every pooled connection: UTF-8, ISO dates and TimeZone UTC (the session contract;
    /// RESET ALL returns to these).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> StartupParameters { get; } =
    [
        new("application_name", "lakeops-edge"),
        new("client_encoding", "UTF8"),
        new("DateStyle", "ISO, MDY"),
        new("IntervalStyle", "postgres"),
        new("TimeZone", "UTC"),
        new("extra_float_digits", "3"),
    ];

    public ClusterConfig Cluster { get; }

    /// <summary>The cluster's server connections; both execution paths borrow from it.</summary>
    public ConnectionPool<PgServerConnection> Pool { get; }

    public string ClusterName => Cluster.Name;

    public SqlDialect Dialect => SqlDialect.Postgres;

    /// <summary>
    /// A session that borrows server connections per statement or transaction. While the pool holds no
    /// connection at all, one is opened first, so an unreachable server fails here (08006 naming the
    /// cluster) rather than at the first statement; a busy pool is not waited for.
    /// </summary>
    public async ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Pool.Statistics is { Idle: 0, InUse: 0 })
        {
            PgServerConnection connection = await Pool.RentAsync(cancellationToken).ConfigureAwait(false);
            Pool.Return(connection);
        }

        return new PgEngineSession(this);
    }

    public ValueTask DisposeAsync() => Pool.DisposeAsync();

    /// <summary>A server connection is lent out: a statement or transaction (Arrow path or passthrough) is running.</summary>
    public bool IsBusy => Pool.Statistics.InUse > 0;

    public void BeginDrain() => Pool.Drain();

    /// <summary>A name no other statement of this process uses.</summary>
    internal string NextStatementName() =>
        StatementPrefix + Interlocked.Increment(ref _statementCounter).ToString("x", CultureInfo.InvariantCulture);

    private ValueTask<PgServerConnection> ConnectAsync(CancellationToken cancellationToken) =>
        PgServerConnection.ConnectAsync(Cluster.Name, Cluster.Remote!, StartupParameters, Cluster.Pool.ConnectTimeout, cancellationToken);
}
