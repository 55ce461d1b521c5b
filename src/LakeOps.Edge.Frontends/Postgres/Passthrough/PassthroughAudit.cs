using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// Audit records of one PostgreSQL passthrough session: one per client request, i.e. per simple Query (or
/// FunctionCall), or per extended-protocol batch up to its Sync (described by its first Parse, or by the
/// statement its Bind names). Every request gets exactly one ReadyForQuery, from the server or from Edge, in
/// order: the client loop queues a pending entry per request (<see cref="OnClientFrame"/>), the response
/// pump completes the oldest one at each ReadyForQuery it sends (<see cref="OnReady"/>), with the rows of
/// the CommandComplete tags and the SQLSTATE of the first error seen in between. A sync point the server
/// never answers (Sync during COPY FROM STDIN) merges into the request answered next. Exists only when
/// audit was on at login; the session and its forwarders test one field otherwise.
/// </summary>
internal sealed class PassthroughAudit
{
    private static readonly Statement Unknown = new("utility", 0, null);

    private readonly AuditLog _log;
    private readonly RouteRequest _route;
    private readonly string _clientAddress;
    private readonly IAuditPlacement _placement;

    // Client loop: the extended-protocol batch being sent, and what the client's statements are.
    private long _batchStart;
    private Statement? _batch;
    private Statement _unnamed = Unknown;
    private byte[] _unnamedSql = [];
    private Dictionary<byte[], Statement>? _named;
    private byte[] _scratch = [];

    // Shared: requests sent and not yet answered, oldest first.
    private readonly Lock _gate = new();
    private Pending[] _pending = new Pending[8];
    private int _head;
    private int _count;

    // Pump: what the responses of the oldest request said so far.
    private long _rows = -1;
    private string? _sqlState;
    private int _merge;

    public PassthroughAudit(AuditLog log, RouteRequest route, string clientAddress, RouteDecision decision, IAuditPlacement placement)
    {
        _log = log;
        _route = route;
        _clientAddress = clientAddress;
        Decision = decision;
        _placement = placement;
    }

    /// <summary>
    /// The decision that placed the session (set again by the client loop when routing moves it, read by the
    /// pump): boxed, so a reader never sees half of an old and half of a new decision.
    /// </summary>
    public RouteDecision Decision
    {
        get => Volatile.Read(ref _decision)!.Value;
        set => Volatile.Write(ref _decision, new StrongBox<RouteDecision>(value));
    }

    private StrongBox<RouteDecision>? _decision;

    /// <summary>Client loop: one client frame, before it is forwarded.</summary>
    public void OnClientFrame(byte type, in ReadOnlySequence<byte> frame)
    {
        switch (type)
        {
            case PgMessageTypes.Query:
                Push(Stopwatch.GetTimestamp(), Describe(CString(Body(frame))));
                break;
            case PgMessageTypes.FunctionCall:
                Push(Stopwatch.GetTimestamp(), Unknown);
                break;
            case PgMessageTypes.Parse:
                BeginBatch();
                Parse(Body(frame));
                break;
            case PgMessageTypes.Bind:
                BeginBatch();
                if (_batch is null)
                {
                    ReadOnlySpan<byte> body = Body(frame);
                    ReadOnlySpan<byte> afterPortal = body[(CString(body).Length + 1)..];
                    _batch = Lookup(CString(afterPortal));
                }

                break;
            case PgMessageTypes.Sync:
                Push(_batchStart != 0 ? _batchStart : Stopwatch.GetTimestamp(), _batch ?? Unknown);
                _batchStart = 0;
                _batch = null;
                break;
            case PgMessageTypes.DescribeMessage or PgMessageTypes.Execute:
                BeginBatch();
                break;
            case PgMessageTypes.Close:
                BeginBatch();
                ReadOnlySpan<byte> close = Body(frame);
                if (close.Length > 1 && close[0] == (byte)'S')
                {
                    _named?.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(CString(close[1..]));
                }

                break;
        }

        // One huge Query should not pin its copy for the session's life (as the forwarder does).
        if (_scratch.Length > 1024 * 1024)
        {
            _scratch = [];
        }
    }

    /// <summary>Client loop: the server dropped every prepared statement (DISCARD ALL, DEALLOCATE ALL).</summary>
    public void ClearStatements() => _named?.Clear();

    /// <summary>Pump: a CommandComplete of the current request.</summary>
    public void OnCommandComplete(byte type, in ReadOnlySequence<byte> frame)
    {
        if (type != PgMessageTypes.CommandComplete || frame.Length <= PgFrameScanner.HeaderLength)
        {
            return;
        }

        // "SELECT 5", "INSERT 0 3", "UPDATE 2": the count is the last word; "CREATE TABLE" has none.
        Span<byte> tail = stackalloc byte[24];
        ReadOnlySequence<byte> tag = frame.Slice(PgFrameScanner.HeaderLength);
        long take = Math.Min(tag.Length, tail.Length);
        tag.Slice(tag.Length - take).CopyTo(tail);
        ReadOnlySpan<byte> text = tail[..(int)take].TrimEnd((byte)0);
        int space = text.LastIndexOf((byte)' ');
        if (space >= 0 && System.Buffers.Text.Utf8Parser.TryParse(text[(space + 1)..], out long rows, out int consumed) && consumed == text.Length - space - 1)
        {
            _rows = Math.Max(_rows, 0) + rows;
        }
    }

    /// <summary>Pump: an ErrorResponse from the server for the current request.</summary>
    public void OnError(string sqlState) => _sqlState ??= sqlState;

    /// <summary>Pump: a frame Edge sends itself; an ErrorResponse counts like the server's.</summary>
    public void OnEdgeFrame(byte[]? frame)
    {
        if (frame is { Length: > 0 } && frame[0] == PgMessageTypes.ErrorResponse && _sqlState is null)
        {
            _sqlState = ErrorResponseMessage.Parse(frame.AsSpan(PgFrameScanner.HeaderLength)).SqlState;
        }
    }

    /// <summary>Pump: a sync point was dropped (the server will not answer it); it merges into the next answer.</summary>
    public void OnDropped() => _merge++;

    /// <summary>Pump: a ReadyForQuery went to the client: the oldest request is complete.</summary>
    public void OnReady()
    {
        Pending request;
        lock (_gate)
        {
            if (_count == 0)
            {
                _merge = 0;
                _rows = -1;
                _sqlState = null;
                return;
            }

            request = PopLocked();
            while (_merge > 0 && _count > 0)
            {
                PopLocked();
                _merge--;
            }

            _merge = 0;
        }

        string? sqlState = _sqlState;
        _log.TryWrite(AuditStatements.Record(
            _route, _clientAddress, _placement.GroupName, _placement.ClusterName, Decision, request.Start,
            request.Statement.Kind, request.Statement.Fingerprint, _rows, sqlState, request.Statement.Sql));
        _rows = -1;
        _sqlState = null;
    }

    private void BeginBatch()
    {
        if (_batchStart == 0)
        {
            _batchStart = Stopwatch.GetTimestamp();
        }
    }

    private void Parse(ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> name = CString(body);
        ReadOnlySpan<byte> sql = CString(body[(name.Length + 1)..]);
        Statement statement;
        if (name.IsEmpty)
        {
            // Drivers re-send the same unnamed Parse for every execution: describe it once.
            if (!sql.SequenceEqual(_unnamedSql))
            {
                _unnamed = Describe(sql);
                _unnamedSql = sql.ToArray();
            }

            statement = _unnamed;
        }
        else
        {
            statement = Describe(sql);
            // Named statements are described once, when prepared; their executions only look them up.
            _named ??= new Dictionary<byte[], Statement>(ByteKeyComparer.Instance);
            _named.GetAlternateLookup<ReadOnlySpan<byte>>()[name] = statement;
        }

        _batch ??= statement;
    }

    private Statement Lookup(ReadOnlySpan<byte> name) =>
        name.IsEmpty ? _unnamed
        : _named is not null && _named.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out Statement statement) ? statement
        : Unknown;

    private Statement Describe(ReadOnlySpan<byte> sql)
    {
        (string kind, ulong fingerprint, string? text) = AuditStatements.Describe(sql, SqlSyntax.Postgres, _log.IncludeSql);
        return new Statement(kind, fingerprint, text);
    }

    private void Push(long start, Statement statement)
    {
        lock (_gate)
        {
            if (_count == _pending.Length)
            {
                var larger = new Pending[_pending.Length * 2];
                for (int i = 0; i < _count; i++)
                {
                    larger[i] = _pending[(_head + i) % _pending.Length];
                }

                _pending = larger;
                _head = 0;
            }

            _pending[(_head + _count) % _pending.Length] = new Pending(start, statement);
            _count++;
        }
    }

    private Pending PopLocked()
    {
        Pending item = _pending[_head];
        _pending[_head] = default;
        _head = (_head + 1) % _pending.Length;
        _count--;
        return item;
    }

    private ReadOnlySpan<byte> Body(in ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment)
        {
            return frame.FirstSpan[PgFrameScanner.HeaderLength..];
        }

        int length = (int)frame.Length;
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, 1024)];
        }

        frame.CopyTo(_scratch);
        return _scratch.AsSpan(PgFrameScanner.HeaderLength, length - PgFrameScanner.HeaderLength);
    }

    /// <summary>The bytes up to the first NUL (the forwarder rejects frames without one).</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return end < 0 ? bytes : bytes[..end];
    }

    private readonly record struct Statement(string Kind, ulong Fingerprint, string? Sql);

    private readonly record struct Pending(long Start, Statement Statement);
}

/// <summary>Where a passthrough session's statements run now (routing may move it between transactions).</summary>
internal interface IAuditPlacement
{
    string GroupName { get; }

    string ClusterName { get; }
}
