using System.Globalization;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// A MySQL-wire engine cluster (MySQL, MariaDB, StarRocks, Doris, TiDB). Owns the pool of server
/// connections that both the Arrow path (<see cref="OpenSessionAsync"/>, used by non-MySQL front doors)
/// and the same-protocol passthrough for MySQL clients borrow from, under transaction pooling.
/// </summary>
/// <remarks>
/// Connections differ in the capabilities that change the wire format (<see cref="FormatFlagMask"/>), so
/// the passthrough can forward bytes unchanged only over connections negotiated like its client's: there
/// is one pool per combination actually used (<see cref="PoolFor"/>); <see cref="Pool"/> is the usual
/// one (DEPRECATE_EOF only). pool.max_size applies to each of them.
/// </remarks>
public sealed class MySqlEngine : IEngine, IDrainableEngine
{
    /// <summary>Client capabilities that change how responses are encoded.</summary>
    public const MySqlCapabilities FormatFlagMask =
        MySqlCapabilities.DeprecateEof | MySqlCapabilities.SessionTrack | MySqlCapabilities.FoundRows | MySqlCapabilities.IgnoreSpace;

    /// <summary>The format of <see cref="Pool"/>.</summary>
    public const MySqlCapabilities DefaultFormat = MySqlCapabilities.DeprecateEof;

    private readonly Lock _gate = new();
    private readonly Dictionary<MySqlCapabilities, ConnectionPool<MySqlServerConnection>> _pools = [];
    private readonly int _maxSessions;
    private int _sessionCount;
    private int _disposed;
    private long _serverCapabilities = -1;

    public MySqlEngine(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Engine != EngineKind.MySql)
        {
            throw new ArgumentException($"cluster '{cluster.Name}' is a {cluster.Engine} cluster, not mysql", nameof(cluster));
        }

        Cluster = cluster;
        Remote = cluster.Remote ?? throw new ArgumentException($"cluster '{cluster.Name}' has no remote (host, port, user) settings", nameof(cluster));
        _maxSessions = cluster.Limits.MaxSessions;
        Pool = PoolFor(DefaultFormat);
        if (cluster.Pool.MinSize > 0)
        {
            _ = Pool.WarmUpAsync(CancellationToken.None);
        }
    }

    public ClusterConfig Cluster { get; }

    public RemoteEngineOptions Remote { get; }

    public string ClusterName => Cluster.Name;

    public SqlDialect Dialect => SqlDialect.MySql;

    /// <summary>The pool of connections with the default wire format (shared by the Arrow path and most passthrough clients).</summary>
    public ConnectionPool<MySqlServerConnection> Pool { get; }

    /// <summary>Engine sessions (Arrow path) open now.</summary>
    public int SessionCount => Volatile.Read(ref _sessionCount);

    /// <summary>The server's capabilities, once any connection was made; null before.</summary>
    public MySqlCapabilities? ServerCapabilities
    {
        get
        {
            long value = Interlocked.Read(ref _serverCapabilities);
            return value < 0 ? null : (MySqlCapabilities)value;
        }
    }

    /// <summary>The pool whose connections negotiate <paramref name="formatFlags"/> (masked by <see cref="FormatFlagMask"/>).</summary>
    public ConnectionPool<MySqlServerConnection> PoolFor(MySqlCapabilities formatFlags)
    {
        formatFlags &= FormatFlagMask;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (!_pools.TryGetValue(formatFlags, out ConnectionPool<MySqlServerConnection>? pool))
            {
                var options = new MySqlConnectOptions(ClusterName, Remote, formatFlags);
                pool = new ConnectionPool<MySqlServerConnection>(ClusterName, Cluster.Pool, ct => ConnectAsync(options, ct));
                _pools[formatFlags] = pool;
            }

            return pool;
        }
    }

    /// <summary>Gives a connection back to the pool it came from.</summary>
    public void Return(MySqlServerConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ConnectionPool<MySqlServerConnection>? pool;
        lock (_gate)
        {
            _pools.TryGetValue(connection.Options.FormatFlags, out pool);
        }

        if (pool is not null)
        {
            pool.Return(connection);
        }
        else
        {
            _ = connection.DisposeAsync();
        }
    }

    /// <summary>Opens a connection outside any pool (the connect delegate of the pools, and KILL QUERY).</summary>
    public async ValueTask<MySqlServerConnection> ConnectAsync(MySqlConnectOptions options, CancellationToken cancellationToken)
    {
        MySqlServerConnection connection = await MySqlServerConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _serverCapabilities, (long)(uint)connection.ServerCapabilities);
        return connection;
    }

    /// <summary>
    /// Sends KILL QUERY for the server connection <paramref name="connectionId"/> over a separate, short-lived
    /// connection. <paramref name="stillWanted"/> is checked right before sending, so a statement that ended
    /// meanwhile (and whose connection another session may now use) is not killed. Never throws.
    /// </summary>
    public async Task KillQueryAsync(uint connectionId, Func<bool>? stillWanted = null)
    {
        try
        {
            using var timeout = new CancellationTokenSource(Cluster.Pool.ConnectTimeout + TimeSpan.FromSeconds(5));
            MySqlServerConnection killer = await ConnectAsync(new MySqlConnectOptions(ClusterName, Remote, MySqlCapabilities.None), timeout.Token).ConfigureAwait(false);
            await using (killer.ConfigureAwait(false))
            {
                if (stillWanted is null || stillWanted())
                {
                    await killer.ExecuteSimpleAsync(
                        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"KILL QUERY {connectionId}")), timeout.Token).ConfigureAwait(false);
                    Log.Info(EventId.CancelRequested, string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}': KILL QUERY {connectionId}"));
                }
            }
        }
        catch (Exception ex) when (ex is EngineException or OperationCanceledException or IOException)
        {
            Log.Warn(EventId.CancelRequested, $"cluster '{ClusterName}': could not cancel a statement: {ex.Message}");
        }
    }

    public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Increment(ref _sessionCount) > _maxSessions)
        {
            Interlocked.Decrement(ref _sessionCount);
            throw new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"too many sessions on cluster '{ClusterName}' (limits.max_sessions = {_maxSessions})"),
                SqlStates.TooManyConnections);
        }

        return new ValueTask<IEngineSession>(new MySqlEngineSession(this));
    }

    internal void OnSessionClosed() => Interlocked.Decrement(ref _sessionCount);

    /// <summary>A server connection of any of the pools is lent out: a statement or transaction is running.</summary>
    public bool IsBusy
    {
        get
        {
            foreach (ConnectionPool<MySqlServerConnection> pool in Pools())
            {
                if (pool.Statistics.InUse > 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public void BeginDrain()
    {
        foreach (ConnectionPool<MySqlServerConnection> pool in Pools())
        {
            pool.Drain();
        }
    }

    private ConnectionPool<MySqlServerConnection>[] Pools()
    {
        lock (_gate)
        {
            return [.. _pools.Values];
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ConnectionPool<MySqlServerConnection>[] pools;
        lock (_gate)
        {
            pools = [.. _pools.Values];
        }

        foreach (ConnectionPool<MySqlServerConnection> pool in pools)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }
    }
}
