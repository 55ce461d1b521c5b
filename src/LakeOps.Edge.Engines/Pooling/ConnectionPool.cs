using System.Globalization;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines.Pooling;

/// <summary>A server connection that a <see cref="ConnectionPool{T}"/> can lend out.</summary>
public interface IPooledConnection : IAsyncDisposable
{
    /// <summary>Set by the owner when the socket failed or the protocol state is unknown; the pool then closes it.</summary>
    bool IsBroken { get; }

    /// <summary>One round trip to the server; false (or an exception) means the connection is unusable.</summary>
    ValueTask<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>Counters of one pool, read without locking (each value is individually current).</summary>
public readonly record struct PoolStatistics(int Idle, int InUse, int Waiting, long Opened, long Closed);

/// <summary>
/// Server connections of one cluster, lent out one borrower at a time (a transaction, or a statement).
/// At most <see cref="PoolOptions.MaxSize"/> connections exist; borrowers beyond that wait up to
/// <see cref="PoolOptions.ConnectTimeout"/>. Idle connections are reused last-in first-out, so a
/// quiet pool keeps a few warm connections and lets the rest reach the idle timeout.
/// </summary>
/// <remarks>
/// The fast path (an idle connection that needs no health check) completes synchronously and
/// allocates nothing: a semaphore slot, then a pop under a short lock.
/// </remarks>
public sealed class ConnectionPool<T> : IAsyncDisposable
    where T : class, IPooledConnection
{
    private readonly string _clusterName;
    private readonly PoolOptions _options;
    private readonly Func<CancellationToken, ValueTask<T>> _connect;
    private readonly TimeProvider _time;

    // One slot per connection that is lent out or being opened; idle connections hold none.
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();

    // Idle connections; the end of the list is the most recently returned (LIFO reuse, oldest first for the reaper).
    private readonly List<IdleEntry> _idle = [];

    // Creation time of every open connection, idle or lent out.
    private readonly Dictionary<T, long> _created = new(ReferenceEqualityComparer.Instance);
    private readonly ITimer? _reaper;
    private int _waiting;
    private long _opened;
    private long _closed;
    private bool _disposed;
    private bool _draining;

    // Idle connections given back before this time are pinged before reuse: a broken connection came back
    // since (a server that died or restarted leaves every idle connection dead, without a sign until used).
    private long _suspectUntil = long.MinValue;

    public ConnectionPool(string clusterName, PoolOptions options, Func<CancellationToken, ValueTask<T>> connect, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(clusterName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connect);
        _clusterName = clusterName;
        _options = options;
        _connect = connect;
        _time = time ?? TimeProvider.System;
        _slots = new SemaphoreSlim(options.MaxSize, options.MaxSize);
        TimeSpan period = ReaperPeriod(options);
        if (period > TimeSpan.Zero)
        {
            _reaper = _time.CreateTimer(static state => ((ConnectionPool<T>)state!).Reap(), this, period, period);
        }
    }

    public string ClusterName => _clusterName;

    public PoolOptions Options => _options;

    public PoolStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new PoolStatistics(_idle.Count, _created.Count - _idle.Count, Volatile.Read(ref _waiting), _opened, _closed);
            }
        }
    }

    /// <summary>
    /// An idle connection (checked with a ping when it sat idle longer than health_check_after_idle) or
    /// a new one. Throws <see cref="EngineException"/> naming the cluster when none can be had in time.
    /// </summary>
    public ValueTask<T> RentAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        bool holdsSlot = _slots.Wait(0);
        if (holdsSlot && TryTakeReadyIdle(out T? ready))
        {
            return new ValueTask<T>(ready);
        }

        return RentSlowAsync(holdsSlot, cancellationToken);
    }

    /// <summary>Gives a connection back. Broken or too old connections are closed; others wait for the next borrower.</summary>
    public void Return(T connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        long now = _time.GetTimestamp();
        bool keep;
        lock (_gate)
        {
            keep = !_disposed && !_draining && !connection.IsBroken && _created.TryGetValue(connection, out long created) && !IsTooOld(created, now);
            if (keep)
            {
                _idle.Add(new IdleEntry(connection, now));
            }
            else
            {
                _created.Remove(connection);
                if (connection.IsBroken)
                {
                    Volatile.Write(ref _suspectUntil, now);
                }
            }
        }

        if (!keep)
        {
            CloseInBackground(connection, connection.IsBroken ? "broken" : Volatile.Read(ref _draining) ? null : "reached max_lifetime");
        }

        _slots.Release();
    }

    /// <summary>Opens connections until min_size exist. Failures are logged, not thrown: the engine may come up later.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_disposed || _draining || _created.Count >= _options.MinSize)
                {
                    return;
                }
            }

            if (!await _slots.WaitAsync(0, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                T connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _idle.Add(new IdleEntry(connection, _time.GetTimestamp()));
                }
            }
            catch (EngineException ex)
            {
                Log.Warn(EventId.PoolWarmUpFailed, $"cluster '{_clusterName}': could not open min_size connections: {ex.Message}");
                return;
            }
            finally
            {
                _slots.Release();
            }
        }
    }

    /// <summary>
    /// The cluster is going away (a reload removed or replaced it): idle connections close now, connections
    /// in use close when they come back, and min_size is no longer kept. Borrowing still works, so a statement
    /// of a session that started before the reload can still run until the engine is disposed.
    /// </summary>
    public void Drain()
    {
        List<IdleEntry> idle;
        lock (_gate)
        {
            if (_disposed || _draining)
            {
                return;
            }

            _draining = true;
            idle = [.. _idle];
            foreach (IdleEntry entry in _idle)
            {
                _created.Remove(entry.Connection);
            }

            _idle.Clear();
        }

        foreach (IdleEntry entry in idle)
        {
            CloseInBackground(entry.Connection, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<IdleEntry> idle;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            idle = [.. _idle];
            foreach (IdleEntry entry in _idle)
            {
                _created.Remove(entry.Connection);
            }

            _idle.Clear();
        }

        if (_reaper is not null)
        {
            await _reaper.DisposeAsync().ConfigureAwait(false);
        }

        foreach (IdleEntry entry in idle)
        {
            await CloseAsync(entry.Connection).ConfigureAwait(false);
        }
    }

    private async ValueTask<T> RentSlowAsync(bool holdsSlot, CancellationToken cancellationToken)
    {
        // Either no slot was free, or a slot was taken but no idle connection was ready to lend as is.
        if (!holdsSlot)
        {
            await WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            while (TryTakeIdle(out IdleEntry entry))
            {
                if (await IsHealthyAsync(entry, cancellationToken).ConfigureAwait(false))
                {
                    return entry.Connection;
                }

                Forget(entry.Connection);
                CloseInBackground(entry.Connection, "failed its health check");
            }

            return await OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    private bool TryTakeReadyIdle([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? connection)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            int last = _idle.Count - 1;
            if (last >= 0 && !NeedsCheck(_idle[last], now))
            {
                connection = _idle[last].Connection;
                _idle.RemoveAt(last);
                return true;
            }
        }

        connection = null;
        return false;
    }

    private bool TryTakeIdle(out IdleEntry entry)
    {
        lock (_gate)
        {
            int last = _idle.Count - 1;
            if (last >= 0)
            {
                entry = _idle[last];
                _idle.RemoveAt(last);
                return true;
            }
        }

        entry = default;
        return false;
    }

    private async ValueTask WaitForSlotAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            if (!await _slots.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false))
            {
                throw new EngineException(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"cluster '{_clusterName}': all {_options.MaxSize} server connections are busy; waited {_options.ConnectTimeout.TotalSeconds:0.###}s (pool.max_size, pool.connect_timeout)"),
                    SqlStates.TooManyConnections);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private async ValueTask<bool> IsHealthyAsync(IdleEntry entry, CancellationToken cancellationToken)
    {
        long now = _time.GetTimestamp();
        if (entry.Connection.IsBroken || IsTooOld(CreatedAt(entry.Connection), now))
        {
            return false;
        }

        if (!NeedsCheck(entry, now))
        {
            return true;
        }

        try
        {
            return await entry.Connection.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Opens a connection; the caller holds a slot.</summary>
    private async ValueTask<T> OpenAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        T connection;
        try
        {
            connection = await _connect(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"cluster '{_clusterName}': connecting timed out after {_options.ConnectTimeout.TotalSeconds:0.###}s (pool.connect_timeout)"),
                SqlStates.ConnectionFailure);
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.PoolConnectFailed, ex.Message);
            throw;
        }

        bool disposed;
        lock (_gate)
        {
            disposed = _disposed;
            if (!disposed)
            {
                _created[connection] = _time.GetTimestamp();
                _opened++;
            }
        }

        if (disposed)
        {
            await CloseAsync(connection).ConfigureAwait(false);
            throw new EngineException($"cluster '{_clusterName}' is shutting down", SqlStates.AdminShutdown);
        }

        return connection;
    }

    /// <summary>Closes idle connections past idle_timeout (above min_size) or max_lifetime, then refills to min_size.</summary>
    internal void Reap()
    {
        List<T>? expired = null;
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            for (int i = 0; i < _idle.Count;)
            {
                IdleEntry entry = _idle[i];
                bool idleTooLong = _options.IdleTimeout > TimeSpan.Zero
                    && _created.Count > _options.MinSize
                    && _time.GetElapsedTime(entry.ReturnedAt, now) >= _options.IdleTimeout;
                if (idleTooLong || IsTooOld(_created[entry.Connection], now))
                {
                    _idle.RemoveAt(i);
                    _created.Remove(entry.Connection);
                    (expired ??= []).Add(entry.Connection);
                }
                else
                {
                    i++;
                }
            }
        }

        if (expired is not null)
        {
            foreach (T connection in expired)
            {
                CloseInBackground(connection, null);
            }
        }

        if (_options.MinSize > 0)
        {
            _ = WarmUpAsync(CancellationToken.None);
        }
    }

    private bool NeedsCheck(IdleEntry entry, long now) =>
        entry.Connection.IsBroken || entry.ReturnedAt < Volatile.Read(ref _suspectUntil) || _time.GetElapsedTime(entry.ReturnedAt, now) >= _options.HealthCheckAfterIdle;

    private bool IsTooOld(long created, long now) =>
        _options.MaxLifetime > TimeSpan.Zero && _time.GetElapsedTime(created, now) >= _options.MaxLifetime;

    private long CreatedAt(T connection)
    {
        lock (_gate)
        {
            return _created.TryGetValue(connection, out long created) ? created : 0;
        }
    }

    private void Forget(T connection)
    {
        lock (_gate)
        {
            _created.Remove(connection);
        }
    }

    private void CloseInBackground(T connection, string? reason)
    {
        if (reason is not null)
        {
            Log.Info(EventId.PoolConnectionDropped, $"cluster '{_clusterName}': closing a server connection that {reason}");
        }

        _ = CloseAsync(connection);
    }

    private async Task CloseAsync(T connection)
    {
        Interlocked.Increment(ref _closed);
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or EngineException or System.Net.Sockets.SocketException)
        {
            // The connection is being thrown away; a failing goodbye changes nothing.
        }
    }

    private static TimeSpan ReaperPeriod(PoolOptions options)
    {
        TimeSpan shortest = TimeSpan.MaxValue;
        if (options.IdleTimeout > TimeSpan.Zero)
        {
            shortest = options.IdleTimeout;
        }

        if (options.MaxLifetime > TimeSpan.Zero && options.MaxLifetime < shortest)
        {
            shortest = options.MaxLifetime;
        }

        if (shortest == TimeSpan.MaxValue)
        {
            return options.MinSize > 0 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero;
        }

        // Check a few times per period, but not more than once a second or less than once a minute.
        TimeSpan period = shortest / 4;
        return period < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : period > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : period;
    }

    private readonly record struct IdleEntry(T Connection, long ReturnedAt);
}
