using System.Collections.Concurrent;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>What <see cref="TrinoRegistry{T}"/> keeps: a query or a transaction.</summary>
internal interface ITrinoRegistryEntry : IAsyncDisposable
{
    /// <summary>128 random bits as hex: the entry's only key in the client's requests.</summary>
    string Id { get; }

    /// <summary>
    /// Claims the entry for the sweep when its client has been silent for <paramref name="timeout"/> and nothing of it
    /// runs now; false leaves it alone. A claimed entry is removed (disposed), then <see cref="EndSweep"/> is called.
    /// </summary>
    bool TryClaimForSweep(TimeSpan timeout);

    /// <summary>After the sweep removed a claimed entry.</summary>
    void EndSweep();

    /// <summary>The listener stops: interrupts what the entry runs, before it is removed.</summary>
    void Stop();
}

/// <summary>
/// The front door's live queries or open transactions by id. Bounded: a slot is reserved before the entry exists
/// (a full registry refuses before any engine work), then the entry is added. A timer sweeps entries whose client
/// stayed silent for longer than the client timeout (abandoned clients); disposing waits for a sweep that runs and
/// removes every entry. Removal disposes an entry once.
/// </summary>
internal sealed class TrinoRegistry<T> : IAsyncDisposable
    where T : class, ITrinoRegistryEntry
{
    private readonly ConcurrentDictionary<string, T> _entries = new(StringComparer.Ordinal);
    private readonly Func<TimeSpan> _clientTimeout;
    private readonly Func<int, TimeSpan, string> _sweptMessage;
    private readonly Timer _sweeper;
    private readonly Lock _sweepLock = new();
    private Task _sweep = Task.CompletedTask;
    private int _count;

    /// <summary>Sweeps every <paramref name="sweepInterval"/>; <paramref name="sweptMessage"/> is the log line for a sweep that removed entries (count, client timeout).</summary>
    public TrinoRegistry(Func<TimeSpan> clientTimeout, TimeSpan sweepInterval, Func<int, TimeSpan, string> sweptMessage)
    {
        _clientTimeout = clientTimeout;
        _sweptMessage = sweptMessage;
        _sweeper = new Timer(static s => ((TrinoRegistry<T>)s!).SweepOnTimer(), this, sweepInterval, sweepInterval);
    }

    /// <summary>Entries and reserved slots.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Reserves a slot unless <paramref name="limit"/> are taken; <see cref="AddReserved"/> or <see cref="Unreserve"/> follows.</summary>
    public bool TryReserve(int limit)
    {
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        return true;
    }

    public void Unreserve() => Interlocked.Decrement(ref _count);

    public void AddReserved(T entry) => _entries[entry.Id] = entry;

    /// <summary>Adds the entry unless <paramref name="limit"/> are live already.</summary>
    public bool TryAdd(T entry, int limit)
    {
        if (!TryReserve(limit))
        {
            return false;
        }

        AddReserved(entry);
        return true;
    }

    public T? Find(string id) => _entries.TryGetValue(id, out T? entry) ? entry : null;

    /// <summary>Forgets and disposes the entry (once, whoever calls first).</summary>
    public async ValueTask RemoveAsync(T entry)
    {
        if (_entries.TryRemove(new KeyValuePair<string, T>(entry.Id, entry)))
        {
            Interlocked.Decrement(ref _count);
            await entry.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Removes entries abandoned for longer than the client timeout; returns how many went.</summary>
    public async Task<int> SweepAsync()
    {
        TimeSpan timeout = _clientTimeout();
        int removed = 0;
        foreach (KeyValuePair<string, T> pair in _entries)
        {
            T entry = pair.Value;
            if (!entry.TryClaimForSweep(timeout))
            {
                continue;
            }

            try
            {
                await RemoveAsync(entry).ConfigureAwait(false);
                removed++;
            }
            finally
            {
                entry.EndSweep();
            }
        }

        if (removed > 0)
        {
            Log.Info(EventId.SessionFailed, _sweptMessage(removed, timeout));
        }

        return removed;
    }

    // One timer sweep at a time; DisposeAsync waits for the one that runs.
    private void SweepOnTimer()
    {
        lock (_sweepLock)
        {
            if (_sweep.IsCompleted)
            {
                _sweep = SweepAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        Task running;
        lock (_sweepLock)
        {
            running = _sweep;
        }

        await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (KeyValuePair<string, T> pair in _entries)
        {
            pair.Value.Stop();
            await RemoveAsync(pair.Value).ConfigureAwait(false);
        }
    }
}
