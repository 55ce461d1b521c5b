using System.Buffers;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

internal enum ForwardStop : byte
{
    /// <summary>Everything complete was forwarded; the rest (if any) is a partial frame.</summary>
    NeedMoreData,

    /// <summary>A ReadyForQuery ended a sync point; see <see cref="ServerResponseForwarder.LastStatus"/> and friends.</summary>
    SyncPoint,

    /// <summary>The server sent something the bookkeeping cannot place; the connection cannot be trusted.</summary>
    Desynchronized,
}

/// <summary>
/// The server-to-client half of the passthrough: scans server bytes frame by frame (type and length
/// only) and copies them to the client in runs, while matching them against the queue of responses
/// the client is owed. Rows and COPY data are never decoded; frames larger than what has arrived are
/// streamed as they come. Only ReadyForQuery, ErrorResponse, completion messages, ParameterStatus
/// and notices are looked at: to pop the queue, to swallow responses to messages Edge injected, and to
/// put Edge's own answers (ParseComplete, CloseComplete, ...) at the right place in the stream.
/// After an ErrorResponse to an extended-protocol message the server skips to the next Sync, and so
/// does the queue (dropping Edge's answers for the skipped messages). Pure: no I/O, not thread-safe.
/// </summary>
internal sealed class ServerResponseForwarder
{
    private readonly ResponseQueue _queue = new();
    private long _passRemaining;
    private bool _skipUntilSync;
    private bool _dropSyncsUntilCopyEnd;
    private bool _errorSinceSync;
    private bool _endedWithRollback;

    /// <summary>Look at CommandComplete tags so <see cref="LastEndedWithRollback"/> is known (only while a transaction holds SETs).</summary>
    public bool TrackTransactionEnd { get; set; }

    /// <summary>Number of responses still owed.</summary>
    public int Pending => _queue.Count;

    /// <summary>A frame was partly forwarded: the client's stream is mid-message.</summary>
    public bool InFrame => _passRemaining > 0;

    /// <summary>Status of the last sync point's ReadyForQuery.</summary>
    public byte LastStatus { get; private set; } = PgTransactionStatus.Idle;

    /// <summary>Session effects of the statements of the last sync point (null for none).</summary>
    public List<StatementEffects>? LastEffects { get; private set; }

    /// <summary>An ErrorResponse arrived within the last sync point.</summary>
    public bool LastHadError { get; private set; }

    /// <summary>The last sync point was Edge's own (replay, eviction, cleanup); nothing of it reached the client.</summary>
    public bool LastSwallowed { get; private set; }

    /// <summary>With <see cref="TrackTransactionEnd"/>: the last CommandComplete of the sync point was ROLLBACK.</summary>
    public bool LastEndedWithRollback { get; private set; }

    /// <summary>Why the stream was found <see cref="ForwardStop.Desynchronized"/>.</summary>
    public string? DesyncReason { get; private set; }

    /// <summary>A FATAL error the server sent before closing the connection (swallowed; the owner reports the loss).</summary>
    public PgError? FatalError { get; private set; }

    /// <summary>Sync points that will never see a ReadyForQuery (skipped by the server); the owner subtracts and resets this.</summary>
    public int DroppedSyncPoints { get; set; }

    /// <summary>Parses that failed or were skipped (null until the first); the owner undoes their bookkeeping and clears the list.</summary>
    public List<ParseTicket>? FailedParses { get; private set; }

    /// <summary>The session's audit (null when off): told about completions, errors and every ReadyForQuery the client gets.</summary>
    public PassthroughAudit? Audit { get; set; }

    /// <summary>Adds what the client is owed for messages that were just forwarded or answered.</summary>
    public void Enqueue(in PendingResponse item)
    {
        if (_skipUntilSync)
        {
            if (item.Kind is ResponseKind.Sync or ResponseKind.SyncSwallow)
            {
                _skipUntilSync = false;
                _queue.Add(item);
            }
            else
            {
                Drop(item);
            }

            return;
        }

        if (_dropSyncsUntilCopyEnd)
        {
            // The server ignores Sync while it is in COPY FROM STDIN (libpq sends one after Execute and one after CopyDone).
            if (item.Kind == ResponseKind.Sync)
            {
                DroppedSyncPoints++;
                Audit?.OnDropped();
                return;
            }

            if (item.Kind == ResponseKind.CopyEnd)
            {
                _dropSyncsUntilCopyEnd = false;
                return;
            }
        }

        _queue.Add(item);
    }

    /// <summary>
    /// Forwards complete frames from <paramref name="buffer"/> to <paramref name="client"/> and leaves
    /// <paramref name="buffer"/> at the first byte not yet handled. Stops after each sync point so the
    /// owner can decide to release the server connection.
    /// </summary>
    public ForwardStop Forward(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> client)
    {
        EmitSynthetic(client);
        ReadOnlySequence<byte> all = buffer;
        ReadOnlySequence<byte> rest = buffer;
        SequencePosition runStart = rest.Start;
        ForwardStop stop = ForwardStop.NeedMoreData;
        while (true)
        {
            if (_passRemaining > 0)
            {
                if (rest.IsEmpty)
                {
                    break;
                }

                long take = Math.Min(_passRemaining, rest.Length);
                rest = rest.Slice(take);
                _passRemaining -= take;
                continue;
            }

            PgFrameStatus status = PgFrameScanner.TryReadFrame(rest, int.MaxValue, out byte type, out int length);
            if (status == PgFrameStatus.Incomplete)
            {
                // Big rows and COPY data stream through without waiting for the whole frame.
                if (length > 0 && type is PgMessageTypes.DataRow or PgMessageTypes.CopyData && !IsSwallowing)
                {
                    _passRemaining = length - rest.Length;
                    rest = rest.Slice(rest.Length);
                }

                break;
            }

            if (status != PgFrameStatus.Complete)
            {
                DesyncReason = $"malformed {PgMessageTypes.DescribeBackend(type)} header from the server";
                stop = ForwardStop.Desynchronized;
                break;
            }

            Verdict verdict = Judge(type, rest.Slice(0, length));
            if (verdict == Verdict.Desynchronized)
            {
                stop = ForwardStop.Desynchronized;
                break;
            }

            if (verdict is Verdict.Swallow or Verdict.SwallowAndStop)
            {
                Copy(client, all.Slice(runStart, rest.Start));
                rest = rest.Slice(length);
                runStart = rest.Start;
            }
            else
            {
                rest = rest.Slice(length);
            }

            if (_queue.Count > 0 && IsOwnedByEdge(_queue.Head.Kind))
            {
                Copy(client, all.Slice(runStart, rest.Start));
                runStart = rest.Start;
                EmitSynthetic(client);
            }

            if (verdict is Verdict.PassAndStop or Verdict.SwallowAndStop)
            {
                stop = ForwardStop.SyncPoint;
                break;
            }
        }

        Copy(client, all.Slice(runStart, rest.Start));
        buffer = rest;
        return stop;
    }

    /// <summary>Writes the answers Edge owes at the head of the queue (they need no server). True when something was written.</summary>
    public bool EmitSynthetic(IBufferWriter<byte> client)
    {
        bool wrote = false;
        while (_queue.Count > 0)
        {
            ref readonly PendingResponse head = ref _queue.Head;
            switch (head.Kind)
            {
                case ResponseKind.SyntheticParseComplete:
                    PgBackendWriter.WriteParseComplete(client);
                    break;
                case ResponseKind.SyntheticCloseComplete:
                    PgBackendWriter.WriteCloseComplete(client);
                    break;
                case ResponseKind.SyntheticReady:
                    PgBackendWriter.WriteReadyForQuery(client, head.Status);
                    Audit?.OnReady();
                    break;
                case ResponseKind.SyntheticFrame:
                    client.Write(head.Frame);
                    Audit?.OnEdgeFrame(head.Frame);
                    break;
                case ResponseKind.CopyEnd:
                    break;
                default:
                    return wrote;
            }

            _queue.RemoveHead();
            wrote = true;
        }

        return wrote;
    }

    /// <summary>
    /// The server connection is gone: answers what the client is still owed with one
    /// <paramref name="errorFrame"/> and a ReadyForQuery (<paramref name="status"/>) per outstanding
    /// sync point, and forgets everything else. Returns false when nothing was owed.
    /// </summary>
    public bool Abort(IBufferWriter<byte> client, byte[] errorFrame, byte status)
    {
        EmitSynthetic(client);
        bool owed = _queue.Count > 0;
        if (owed)
        {
            client.Write(errorFrame);
        }

        while (_queue.Count > 0)
        {
            PendingResponse item = _queue.RemoveHead();
            if (item.IsSyncPoint || item.Kind == ResponseKind.SyntheticReady)
            {
                PgBackendWriter.WriteReadyForQuery(client, status);
                if (Audit is { } audit && item.Kind is not (ResponseKind.QuerySwallow or ResponseKind.SyncSwallow))
                {
                    // Every request still owed fails with the same error.
                    audit.OnEdgeFrame(errorFrame);
                    audit.OnReady();
                }
            }
            else if (item.Ticket is { } ticket)
            {
                (FailedParses ??= []).Add(ticket);
            }
        }

        _passRemaining = 0;
        FatalError = null;
        _skipUntilSync = false;
        _dropSyncsUntilCopyEnd = false;
        _errorSinceSync = false;
        _endedWithRollback = false;
        return owed;
    }

    private enum Verdict : byte
    {
        Pass,
        Swallow,
        PassAndStop,
        SwallowAndStop,
        Desynchronized,
    }

    private bool IsSwallowing => _queue.Count > 0 && _queue.Head.Kind is ResponseKind.QuerySwallow or ResponseKind.SyncSwallow;

    private static bool IsOwnedByEdge(ResponseKind kind) =>
        kind is >= ResponseKind.SyntheticParseComplete and <= ResponseKind.CopyEnd;

    /// <summary>Decides what to do with one complete server frame, updating the queue.</summary>
    private Verdict Judge(byte type, in ReadOnlySequence<byte> frame)
    {
        bool hasHead = _queue.Count > 0;
        ResponseKind kind = hasHead ? _queue.Head.Kind : default;
        switch (type)
        {
            case PgMessageTypes.ReadyForQuery:
                return ReadyForQuery(frame);
            case PgMessageTypes.ErrorResponse:
                if (IsFatal(frame, out PgError fatal))
                {
                    // The server is closing this connection, not the client's session with Edge: the client
                    // gets 08006 (with this text) once the connection is gone, and keeps its session.
                    FatalError = fatal;
                    return Verdict.Swallow;
                }

                if (Audit is { } audit && !IsSwallowing)
                {
                    audit.OnError(fatal.SqlState);
                }

                return hasHead ? Error(kind) : Verdict.Pass;
            case PgMessageTypes.NoticeResponse or PgMessageTypes.ParameterStatus:
                return IsSwallowing ? Verdict.Swallow : Verdict.Pass;
            case PgMessageTypes.NotificationResponse:
                return Verdict.Pass;
        }

        if (!hasHead)
        {
            return Verdict.Pass;
        }

        switch (kind)
        {
            case ResponseKind.Parse or ResponseKind.ParseSwallow when type == PgMessageTypes.ParseComplete:
                if (_queue.Head.Ticket is { Statement: { } statement } ticket)
                {
                    statement.VerifiedOn = ticket.Connection.ClusterName;
                }

                _queue.RemoveHead();
                return kind == ResponseKind.Parse ? Verdict.Pass : Verdict.Swallow;
            case ResponseKind.Bind when type == PgMessageTypes.BindComplete:
            case ResponseKind.Close when type == PgMessageTypes.CloseComplete:
            case ResponseKind.DescribeStatement or ResponseKind.DescribePortal when type is PgMessageTypes.RowDescription or PgMessageTypes.NoData:
                _queue.RemoveHead();
                return Verdict.Pass;
            case ResponseKind.CloseSwallow when type == PgMessageTypes.CloseComplete:
                _queue.RemoveHead();
                return Verdict.Swallow;
            case ResponseKind.Execute:
                if (type is PgMessageTypes.CommandComplete or PgMessageTypes.EmptyQueryResponse or PgMessageTypes.PortalSuspended)
                {
                    NoteCommand(type, frame);
                    _queue.RemoveHead();
                }
                else if (type == PgMessageTypes.CopyInResponse)
                {
                    BeginCopyIn();
                }

                return Verdict.Pass;
            case ResponseKind.Query:
                if (type == PgMessageTypes.CommandComplete)
                {
                    NoteCommand(type, frame);
                }
                else if (type == PgMessageTypes.CopyInResponse)
                {
                    BeginCopyIn();
                }

                return Verdict.Pass;
            case ResponseKind.QuerySwallow or ResponseKind.SyncSwallow:
                return Verdict.Swallow;
            default:
                return Verdict.Pass;
        }
    }

    private Verdict ReadyForQuery(in ReadOnlySequence<byte> frame)
    {
        if (_queue.Count == 0 || !_queue.Head.IsSyncPoint || frame.Length != 6)
        {
            DesyncReason = _queue.Count == 0
                ? "ReadyForQuery from the server with no Sync or Query outstanding"
                : $"ReadyForQuery from the server while {_queue.Head.Kind} was outstanding";
            return Verdict.Desynchronized;
        }

        byte status = frame.Slice(5).FirstSpan[0];
        PendingResponse item = _queue.RemoveHead();
        LastStatus = status;
        LastEffects = item.Effects;
        LastHadError = _errorSinceSync;
        LastEndedWithRollback = _endedWithRollback;
        LastSwallowed = item.Kind is ResponseKind.QuerySwallow or ResponseKind.SyncSwallow;
        if (!LastSwallowed)
        {
            Audit?.OnReady();
        }

        _errorSinceSync = false;
        _endedWithRollback = false;
        return LastSwallowed ? Verdict.SwallowAndStop : Verdict.PassAndStop;
    }

    private Verdict Error(ResponseKind kind)
    {
        _errorSinceSync = true;
        switch (kind)
        {
            case ResponseKind.Query or ResponseKind.Sync:
                return Verdict.Pass;
            case ResponseKind.QuerySwallow or ResponseKind.SyncSwallow:
                return Verdict.Swallow;
            default:
                // An extended-protocol message failed: the server now ignores everything up to Sync.
                Drop(_queue.RemoveHead());
                _dropSyncsUntilCopyEnd = false;
                while (_queue.Count > 0 && _queue.Head.Kind is not (ResponseKind.Sync or ResponseKind.SyncSwallow))
                {
                    Drop(_queue.RemoveHead());
                }

                _skipUntilSync = _queue.Count == 0;
                return Verdict.Pass;
        }
    }

    private void Drop(in PendingResponse item)
    {
        if (item.IsSyncPoint)
        {
            DroppedSyncPoints++;
            if (item.Kind is ResponseKind.Query or ResponseKind.Sync)
            {
                Audit?.OnDropped();
            }
        }
        else if (item.Ticket is { } ticket)
        {
            (FailedParses ??= []).Add(ticket);
        }
    }

    /// <summary>COPY FROM STDIN began: Syncs the client sent before ending the copy are ignored by the server.</summary>
    private void BeginCopyIn()
    {
        for (int i = 1; i < _queue.Count; i++)
        {
            ResponseKind kind = _queue[i].Kind;
            if (kind == ResponseKind.CopyEnd)
            {
                _queue.RemoveAt(i);
                return;
            }

            if (kind == ResponseKind.Sync)
            {
                _queue.RemoveAt(i);
                DroppedSyncPoints++;
                Audit?.OnDropped();
                i--;
            }
        }

        _dropSyncsUntilCopyEnd = true;
    }

    private void NoteCommand(byte type, in ReadOnlySequence<byte> frame)
    {
        Audit?.OnCommandComplete(type, frame);
        if (TrackTransactionEnd && type == PgMessageTypes.CommandComplete)
        {
            ReadOnlySequence<byte> tag = frame.Slice(5);
            Span<byte> start = stackalloc byte[8];
            _endedWithRollback = tag.Length >= 8 && CopyPrefix(tag, start) && start.SequenceEqual("ROLLBACK"u8);
        }
    }

    private static bool IsFatal(in ReadOnlySequence<byte> frame, out PgError error)
    {
        error = ErrorResponseMessage.Parse(frame.Slice(PgFrameScanner.HeaderLength).ToArray());
        return error.Severity is PgSeverity.Fatal or PgSeverity.Panic;
    }

    private static bool CopyPrefix(in ReadOnlySequence<byte> source, Span<byte> destination)
    {
        source.Slice(0, destination.Length).CopyTo(destination);
        return true;
    }

    private static void Copy(IBufferWriter<byte> client, in ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment)
        {
            if (!bytes.FirstSpan.IsEmpty)
            {
                client.Write(bytes.FirstSpan);
            }

            return;
        }

        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            client.Write(segment.Span);
        }
    }
}
