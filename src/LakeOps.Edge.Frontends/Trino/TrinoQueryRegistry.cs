using System.Collections.Concurrent;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// The front door's live queries by id. Bounded (a full registry refuses new queries); a sweep cancels and
/// forgets queries whose client asked for no page within the client timeout (abandoned clients).
/// </summary>
internal sealed class TrinoQueryRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TrinoQuery> _queries = new(StringComparer.Ordinal);
    private readonly Func<TimeSpan> _clientTimeout;
    private readonly Timer _sweeper;
    private int _count;

    public TrinoQueryRegistry(Func<TimeSpan> clientTimeout, TimeSpan sweepInterval)
    {
        _clientTimeout = clientTimeout;
        _sweeper = new Timer(static s => _ = ((TrinoQueryRegistry)s!).SweepAsync(), this, sweepInterval, sweepInterval);
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds the query unless <paramref name="limit"/> queries are live already.</summary>
    public bool TryAdd(TrinoQuery query, int limit)
    {
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _queries[query.Id] = query;
        return true;
    }

    public TrinoQuery? Find(string id) => _queries.TryGetValue(id, out TrinoQuery? query) ? query : null;

    /// <summary>Forgets and releases the query (once).</summary>
    public async ValueTask RemoveAsync(TrinoQuery query)
    {
        if (_queries.TryRemove(new KeyValuePair<string, TrinoQuery>(query.Id, query)))
        {
            Interlocked.Decrement(ref _count);
            await query.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Cancels queries idle for longer than the client timeout; returns how many went.</summary>
    public async Task<int> SweepAsync()
    {
        TimeSpan timeout = _clientTimeout();
        int removed = 0;
        foreach (KeyValuePair<string, TrinoQuery> entry in _queries)
        {
            TrinoQuery query = entry.Value;
            if (query.Idle < timeout || !query.Gate.Wait(0))
            {
                continue;
            }

            try
            {
                query.Fail(Protocols.Trino.TrinoError.UserCanceled($"Query abandoned: no page requested for {timeout.TotalSeconds:0} s (client_timeout)"));
                query.Cancel();
                await RemoveAsync(query).ConfigureAwait(false);
                removed++;
            }
            finally
            {
                query.Gate.Release();
            }
        }

        if (removed > 0)
        {
            Log.Info(EventId.SessionFailed, $"Trino front door: {removed} abandoned quer{(removed == 1 ? "y" : "ies")} cancelled");
        }

        return removed;
    }

    public async ValueTask DisposeAsync()
    {
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        foreach (KeyValuePair<string, TrinoQuery> entry in _queries)
        {
            entry.Value.Cancel();
            await RemoveAsync(entry.Value).ConfigureAwait(false);
        }
    }
}
