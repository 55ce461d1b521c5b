namespace LakeOps.Edge.Frontends.Admission;

/// <summary>
/// The cancellation of a session's admission queue waits: a cancel request, KILL QUERY or the statement timeout
/// (another thread) calls <see cref="Cancel"/>; the session takes a fresh token per wait with <see cref="Next"/>.
/// The source is reused (<see cref="CancellationTokenSource.TryReset"/>) until it was cancelled, so a wait
/// allocates nothing in the common case.
/// </summary>
internal sealed class QueueWait : IDisposable
{
    private CancellationTokenSource? _source;

    // The token the current source is linked to (default: none).
    private CancellationToken _linked;

    /// <summary>The token of the current (or last) wait; none before the first.</summary>
    public CancellationToken Token => Volatile.Read(ref _source)?.Token ?? CancellationToken.None;

    /// <summary>An uncancelled token for the next wait, cancelled also when <paramref name="stopping"/> is.</summary>
    public CancellationToken Next(CancellationToken stopping = default)
    {
        CancellationTokenSource? source = _source;
        if (source is null || _linked != stopping || !source.TryReset())
        {
            source?.Dispose();
            source = stopping.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(stopping) : new CancellationTokenSource();
            _linked = stopping;
            Volatile.Write(ref _source, source);
        }

        return source.Token;
    }

    /// <summary>Ends the current wait (from any thread); no effect when none waits.</summary>
    public void Cancel()
    {
        try
        {
            Volatile.Read(ref _source)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Replaced by the next wait's source (or the session ended) meanwhile.
        }
    }

    public void Dispose()
    {
        CancellationTokenSource? source = Interlocked.Exchange(ref _source, null);
        source?.Dispose();
    }
}
