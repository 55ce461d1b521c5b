namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>What the server (or Edge itself) still owes the client for one forwarded or answered message.</summary>
internal enum ResponseKind : byte
{
    /// <summary>Client's Parse: ParseComplete passes through.</summary>
    Parse,

    /// <summary>A Parse Edge injected (statement missing on this connection): its ParseComplete is swallowed.</summary>
    ParseSwallow,

    Bind,

    /// <summary>Describe of a statement: ParameterDescription, then RowDescription or NoData.</summary>
    DescribeStatement,

    /// <summary>Describe of a portal: RowDescription or NoData.</summary>
    DescribePortal,

    /// <summary>Execute: rows (or COPY), then CommandComplete, EmptyQueryResponse or PortalSuspended.</summary>
    Execute,

    Close,

    /// <summary>A Close Edge sent to evict a statement from a server connection: swallowed.</summary>
    CloseSwallow,

    /// <summary>Sync: ends at ReadyForQuery.</summary>
    Sync,

    /// <summary>A Sync Edge added after its own messages: everything up to its ReadyForQuery is swallowed.</summary>
    SyncSwallow,

    /// <summary>Simple Query or FunctionCall: anything, ending at ReadyForQuery.</summary>
    Query,

    /// <summary>A simple Query Edge sent (settings replay, cleanup): swallowed up to and including ReadyForQuery.</summary>
    QuerySwallow,

    /// <summary>Edge answers ParseComplete itself (the connection already had the statement).</summary>
    SyntheticParseComplete,

    /// <summary>Edge answers CloseComplete itself (client Close of a named statement).</summary>
    SyntheticCloseComplete,

    /// <summary>Edge answers ReadyForQuery itself (<see cref="PendingResponse.Status"/>), e.g. Sync with no server connection.</summary>
    SyntheticReady,

    /// <summary>Edge sends a prepared frame (<see cref="PendingResponse.Frame"/>), e.g. an ErrorResponse.</summary>
    SyntheticFrame,

    /// <summary>The client ended a COPY FROM STDIN (CopyDone or CopyFail); no response of its own.</summary>
    CopyEnd,
}

/// <summary>One entry of a <see cref="ResponseQueue"/>.</summary>
/// <param name="Kind">What is owed.</param>
/// <param name="Status">Transaction status for <see cref="ResponseKind.SyntheticReady"/>.</param>
/// <param name="Ref">
/// <see cref="ParseTicket"/> for Parse kinds, the list of <see cref="StatementEffects"/> for sync points
/// that changed session state, the frame bytes for <see cref="ResponseKind.SyntheticFrame"/>.
/// </param>
internal readonly record struct PendingResponse(ResponseKind Kind, byte Status = 0, object? Ref = null)
{
    public bool IsSynthetic => Kind is >= ResponseKind.SyntheticParseComplete and <= ResponseKind.SyntheticFrame;

    /// <summary>Ends at ReadyForQuery (and counts as a sync point).</summary>
    public bool IsSyncPoint => Kind is ResponseKind.Sync or ResponseKind.SyncSwallow or ResponseKind.Query or ResponseKind.QuerySwallow;

    public byte[]? Frame => Ref as byte[];

    public ParseTicket? Ticket => Ref as ParseTicket;

    public List<StatementEffects>? Effects => Ref as List<StatementEffects>;
}

/// <summary>A Parse sent to a server connection, so a failure can be undone in Edge's bookkeeping.</summary>
/// <param name="Statement">The statement; null for the unnamed statement.</param>
/// <param name="Connection">The connection that was told to prepare it.</param>
/// <param name="ClientName">The client's name for it when the client's own Parse was forwarded; null when Edge injected it.</param>
internal sealed record ParseTicket(ServerStatement? Statement, ServerConnectionState Connection, byte[]? ClientName);

/// <summary>A growable ring buffer of <see cref="PendingResponse"/>; not thread-safe.</summary>
internal sealed class ResponseQueue
{
    // Empty until first used: idle sessions hold several queues.
    private PendingResponse[] _items = [];
    private int _head;
    private int _count;

    public int Count => _count;

    public ref readonly PendingResponse Head => ref _items[_head];

    public PendingResponse this[int index] => _items[(_head + index) & (_items.Length - 1)];

    public void Add(in PendingResponse item)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) & (_items.Length - 1)] = item;
        _count++;
    }

    public PendingResponse RemoveHead()
    {
        PendingResponse item = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return item;
    }

    /// <summary>Removes the item at <paramref name="index"/> (counted from the head), keeping the order of the rest.</summary>
    public void RemoveAt(int index)
    {
        int mask = _items.Length - 1;
        for (int i = index; i < _count - 1; i++)
        {
            _items[(_head + i) & mask] = _items[(_head + i + 1) & mask];
        }

        _items[(_head + _count - 1) & mask] = default;
        _count--;
    }

    /// <summary>Moves every item of <paramref name="other"/> to the end of this queue.</summary>
    public void TakeAll(ResponseQueue other)
    {
        while (other._count > 0)
        {
            Add(other.RemoveHead());
        }
    }

    public void Clear()
    {
        while (_count > 0)
        {
            RemoveHead();
        }

        _head = 0;
    }

    private void Grow()
    {
        var larger = new PendingResponse[Math.Max(4, _items.Length * 2)];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _items[(_head + i) & (_items.Length - 1)];
        }

        _items = larger;
        _head = 0;
    }
}
