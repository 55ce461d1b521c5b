using System.Collections.Concurrent;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// The front door's open transactions by id. Bounded (a full registry refuses new transactions); a sweep rolls
/// back and forgets transactions whose client sent no query for longer than the client timeout (abandoned
/// clients, as Trino's transaction idle timeout does); disposing rolls back every open one.
/// </summary>
internal sealed class TrinoTransactionRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TrinoTransaction> _transactions = new(StringComparer.Ordinal);
    private readonly Func<TimeSpan> _clientTimeout;
    private readonly Timer _sweeper;
    private int _count;

    public TrinoTransactionRegistry(Func<TimeSpan> clientTimeout, TimeSpan sweepInterval)
    {
        _clientTimeout = clientTimeout;
        _sweeper = new Timer(static s => _ = ((TrinoTransactionRegistry)s!).SweepAsync(), this, sweepInterval, sweepInterval);
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds the transaction unless <paramref name="limit"/> are open already.</summary>
    public bool TryAdd(TrinoTransaction transaction, int limit)
    {
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _transactions[transaction.Id] = transaction;
        return true;
    }

    /// <summary>The transaction <paramref name="id"/> of <paramref name="user"/>; another user's is as unknown as a made-up id.</summary>
    public TrinoTransaction? Find(string id, string user) =>
        _transactions.TryGetValue(id, out TrinoTransaction? transaction) && transaction.User == user ? transaction : null;

    /// <summary>
    /// Claims the transaction for one query of <paramref name="user"/>: the transaction, or Trino's error
    /// (unknown id, another query running, aborted by an earlier failure).
    /// </summary>
    public (TrinoTransaction? Transaction, TrinoError? Error) Enter(string id, string user)
    {
        TrinoTransaction? transaction = Find(id, user);
        if (transaction is null)
        {
            return (null, TrinoTransactionErrors.UnknownTransaction(id));
        }

        switch (transaction.TryEnter())
        {
            case TrinoTransactionEntry.Busy:
                return (null, TrinoTransactionErrors.Busy(id));
            case TrinoTransactionEntry.Closed:
                return (null, TrinoTransactionErrors.UnknownTransaction(id));
        }

        if (transaction.IsAborted)
        {
            transaction.Exit();
            return (null, TrinoTransactionErrors.AlreadyAborted());
        }

        return (transaction, null);
    }

    /// <summary>Forgets the transaction, rolls back what is open and closes its engine session (once).</summary>
    public async ValueTask RemoveAsync(TrinoTransaction transaction)
    {
        if (_transactions.TryRemove(new KeyValuePair<string, TrinoTransaction>(transaction.Id, transaction)))
        {
            Interlocked.Decrement(ref _count);
            await transaction.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Rolls back transactions idle (no query running) for longer than the client timeout; returns how many went.</summary>
    public async Task<int> SweepAsync()
    {
        TimeSpan timeout = _clientTimeout();
        int removed = 0;
        foreach (KeyValuePair<string, TrinoTransaction> entry in _transactions)
        {
            TrinoTransaction transaction = entry.Value;
            if (transaction.Idle < timeout || !transaction.TryClose())
            {
                continue;
            }

            await RemoveAsync(transaction).ConfigureAwait(false);
            removed++;
        }

        if (removed > 0)
        {
            Log.Info(EventId.SessionFailed, $"Trino front door: {removed} abandoned transaction{(removed == 1 ? "" : "s")} rolled back (no query for {timeout.TotalSeconds:0} s, client_timeout)");
        }

        return removed;
    }

    public async ValueTask DisposeAsync()
    {
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        foreach (KeyValuePair<string, TrinoTransaction> entry in _transactions)
        {
            await RemoveAsync(entry.Value).ConfigureAwait(false);
        }
    }
}
