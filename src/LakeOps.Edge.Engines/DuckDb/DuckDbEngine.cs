using System.Collections.Concurrent;
using System.Globalization;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// An embedded DuckDB database serving one cluster. The database (a file, or ":memory:") is opened
/// once and shared by every session of the cluster, so an in-memory database is one database for all
/// clients. Each session gets its own DuckDB connection, so SET, temp objects and transactions follow
/// the client.
/// <para>
/// All DuckDB calls are synchronous: the ValueTasks this engine returns complete synchronously on the
/// calling thread. A long statement therefore occupies the caller's thread; <see cref="IEngineSession.Cancel"/>
/// from another thread interrupts it.
/// </para>
/// </summary>
public sealed class DuckDbEngine : IEngine, IDrainableEngine
{
    private readonly DatabaseHandle _database;
    private readonly ConcurrentDictionary<DuckDbSession, byte> _sessions = new();
    private readonly int _maxSessions;
    private int _sessionCount;
    private int _disposed;

    public DuckDbEngine(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ClusterName = cluster.Name;
        _maxSessions = cluster.Limits.MaxSessions;
        Options = cluster.DuckDb ?? new DuckDbOptions();
        _database = Open(Options);
        StartSessionsInUtc();
    }

    /// <summary>
    /// New sessions start in UTC whatever the host's zone (the <see cref="IEngineSession"/> contract);
    /// front doors change the zone per session. DuckDB reads TimeZone only once ICU is loaded, so it
    /// is set globally on a first connection rather than in the open config.
    /// </summary>
    private void StartSessionsInUtc()
    {
        // Not registered as a client session: it neither counts against max_sessions nor outlives this call.
        DuckDbSession bootstrap = DuckDbSession.Open(this, _database);
        try
        {
            // DuckDB calls complete synchronously; the result of a SET closes as soon as it is read.
            bootstrap.Execute(bootstrap.Prepare("SET GLOBAL TimeZone = 'UTC'"), [], ownsStatement: true).Close();
        }
        finally
        {
            _ = bootstrap.DisposeAsync();
        }
    }

    public string ClusterName { get; }

    public SqlDialect Dialect => SqlDialect.DuckDb;

    /// <summary>The options the database was opened with.</summary>
    public DuckDbOptions Options { get; }

    /// <summary>Sessions open now.</summary>
    public int SessionCount => Volatile.Read(ref _sessionCount);

    /// <summary>A session is open (each holds its own DuckDB connection and may be inside a transaction).</summary>
    public bool IsBusy => SessionCount > 0;

    /// <summary>Nothing idle to close: sessions own their connections.</summary>
    public void BeginDrain()
    {
    }

    public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Increment(ref _sessionCount) > _maxSessions)
        {
            Interlocked.Decrement(ref _sessionCount);
            throw new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"too many sessions on cluster \"{ClusterName}\" (limits.max_sessions = {_maxSessions})"),
                SqlStates.TooManyConnections);
        }

        // Cheap: the DuckDB connection itself opens with the session's first statement.
        DuckDbSession session = DuckDbSession.Open(this, _database);
        _sessions.TryAdd(session, 0);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Lost a race with DisposeAsync, which may not have seen this session (closing it also uncounts it).
            _ = session.DisposeAsync();
            throw new ObjectDisposedException(nameof(DuckDbEngine));
        }

        return new ValueTask<IEngineSession>(session);
    }

    internal void OnSessionClosed(DuckDbSession session)
    {
        if (_sessions.TryRemove(session, out _))
        {
            Interlocked.Decrement(ref _sessionCount);
        }
    }

    /// <summary>Closes every session still open, then the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (DuckDbSession session in _sessions.Keys)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _database.Dispose();
    }

    private static unsafe DatabaseHandle Open(DuckDbOptions options)
    {
        nint config = 0;
        if (DuckDbNative.duckdb_create_config(&config) != DuckDbState.Success)
        {
            throw new EngineException("DuckDB could not create a configuration", SqlStates.ConnectionException);
        }

        try
        {
            if (options.ReadOnly)
            {
                SetOption(config, "access_mode", "READ_ONLY");
            }

            if (options.Threads is int threads)
            {
                SetOption(config, "threads", threads.ToString(CultureInfo.InvariantCulture));
            }

            if (!string.IsNullOrEmpty(options.MemoryLimit))
            {
                SetOption(config, "memory_limit", options.MemoryLimit);
            }

            var handle = new DatabaseHandle();
            nint database = 0;
            byte* error = null;
            byte[]? rented = null;
            try
            {
                Span<byte> path = Utf8.EncodeZ(options.Path, stackalloc byte[256], ref rented);
                DuckDbState state;
                fixed (byte* p = path)
                {
                    state = DuckDbNative.duckdb_open_ext(p, &database, config, &error);
                }

                if (state != DuckDbState.Success)
                {
                    string? message = Utf8.ReadAndFree(error);
                    throw new EngineException($"cannot open DuckDB database \"{options.Path}\": {message}", SqlStates.ConnectionException);
                }

                handle.Attach(database);
                return handle;
            }
            finally
            {
                Utf8.Return(rented);
            }
        }
        finally
        {
            DuckDbNative.duckdb_destroy_config(&config);
        }
    }

    private static unsafe void SetOption(nint config, string name, string value)
    {
        byte[]? rentedName = null;
        byte[]? rentedValue = null;
        try
        {
            Span<byte> nameZ = Utf8.EncodeZ(name, stackalloc byte[64], ref rentedName);
            Span<byte> valueZ = Utf8.EncodeZ(value, stackalloc byte[128], ref rentedValue);
            fixed (byte* n = nameZ)
            fixed (byte* v = valueZ)
            {
                if (DuckDbNative.duckdb_set_config(config, n, v) != DuckDbState.Success)
                {
                    throw new EngineException($"invalid DuckDB option {name} = \"{value}\"", SqlStates.InvalidParameterValue);
                }
            }
        }
        finally
        {
            Utf8.Return(rentedName);
            Utf8.Return(rentedValue);
        }
    }
}
