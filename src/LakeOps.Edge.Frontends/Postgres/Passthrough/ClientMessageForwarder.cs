using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

internal enum ClientStep : byte
{
    Continue,

    /// <summary>The message needs a server connection and none is attached: attach one and pass the same frame again.</summary>
    NeedServer,

    /// <summary>The client sent Terminate.</summary>
    Terminate,
}

/// <summary>
/// The client-to-server half of the passthrough: takes the client's frames one at a time, writes them
/// (or a rewritten form) to the attached server connection, and records in <see cref="Staged"/> what
/// the client is owed for each. Named prepared statements follow the client: the client's names map to
/// <see cref="ServerStatement"/>s, a statement the server connection lacks is prepared just before
/// it is used, a Parse of one it already has is answered by Edge, and a Close of one is answered by
/// Edge and not forwarded. Pure: no I/O, not thread-safe (the session's client loop owns it).
/// </summary>
internal sealed class ClientMessageForwarder
{
    private static readonly byte[] RollbackComplete = CommandComplete("ROLLBACK");
    private static readonly byte[] BindCompleteFrame = [PgMessageTypes.BindComplete, 0, 0, 0, 4];
    private static readonly byte[] NoDataFrame = [PgMessageTypes.NoData, 0, 0, 0, 4];
    private static readonly byte[] NoParametersFrame = [PgMessageTypes.ParameterDescription, 0, 0, 0, 6, 0, 0];

    // The client's named statements: made at the first one (idle sessions are many, most never prepare).
    private Dictionary<byte[], ServerStatement>? _statements;
    private Dictionary<byte[], ServerStatement>.AlternateLookup<ReadOnlySpan<byte>> _statementsBySpan;
    private IBufferWriter<byte>? _server;
    private ServerConnectionState? _state;
    private long _attachment;
    private List<StatementEffects>? _batchEffects;
    private byte[] _scratch = [];

    // The client's unnamed statement (its last Parse ""), re-sent when a Bind/Describe of it lands on another connection.
    private byte[] _unnamedParse = [];
    private int _unnamedLength;
    private long _unnamedAttachment = -1;
    private StatementEffects? _unnamedEffects;
    private bool _unnamedEndsTransaction;

    // While emulating a failed transaction: whether this batch is a ROLLBACK/COMMIT, and whether it ran.
    private bool _emulatedEnd;
    private bool _emulatedEnded;

    public ClientMessageForwarder(string clusterName = "")
    {
        ClusterName = clusterName;
    }

    /// <summary>
    /// Answers <c>EXPLAIN ROUTE</c> (simple Query or Parse): given the query text, the SELECT the server runs
    /// in its place, or null when the text is something else.
    /// </summary>
    public Func<string, string?>? ExplainRoute { get; init; }

    /// <summary>The cluster the session's statements run on (changes when routing moves the session).</summary>
    public string ClusterName { get; set; }

    /// <summary>What the client is owed for the messages of this batch, in order.</summary>
    public ResponseQueue Staged { get; } = new();

    /// <summary>Sync points (Sync, Query, FunctionCall, Edge's own) written to the server in this batch.</summary>
    public int SyncPoints { get; set; }

    /// <summary>Extended-protocol messages were sent without their Sync yet.</summary>
    public bool HalfBatch { get; private set; }

    /// <summary>Why a statement of this batch pins the server connection; null when none does.</summary>
    public string? PinReason { get; private set; }

    /// <summary>Bytes were written to the server in this batch (it needs a flush).</summary>
    public bool Wrote { get; private set; }

    /// <summary>An error was answered by Edge: like PostgreSQL, ignore messages up to the next Sync.</summary>
    public bool SkipUntilSync { get; set; }

    /// <summary>An error to answer the next request with (the server connection was lost between requests).</summary>
    public byte[]? PendingError { get; set; }

    /// <summary>
    /// The server connection died inside a transaction: like PostgreSQL in a failed transaction, every
    /// statement fails with 25P02 until ROLLBACK (or COMMIT, which also rolls back).
    /// </summary>
    public bool EmulatingFailedTransaction { get; set; }

    public bool IsAttached => _server is not null;

    /// <summary>Named statements the client has.</summary>
    public int StatementCount => _statements?.Count ?? 0;

    public void Attach(IBufferWriter<byte> server, ServerConnectionState state)
    {
        _server = server;
        _state = state;
        _attachment++;
    }

    public void Detach()
    {
        _server = null;
        _state = null;
    }

    /// <summary>Clears the per-batch outputs (after the owner published <see cref="Staged"/>).</summary>
    public void EndBatch()
    {
        Staged.Clear();
        SyncPoints = 0;
        PinReason = null;
        Wrote = false;
        if (_scratch.Length > 1024 * 1024)
        {
            _scratch = [];
        }
    }

    /// <summary>The server dropped all prepared statements (DISCARD ALL, DEALLOCATE ALL), so the client's are gone too.</summary>
    public void ClearStatements()
    {
        _statements?.Clear();
        _unnamedLength = 0;
    }

    /// <summary>A forwarded client Parse failed: the client's name does not exist after all.</summary>
    public void ForgetFailedParse(ParseTicket ticket)
    {
        if (ticket.ClientName is { } name && _statements is not null && _statements.TryGetValue(name, out ServerStatement? current) && ReferenceEquals(current, ticket.Statement))
        {
            _statements.Remove(name);
        }
    }

    private bool TryGetStatement(ReadOnlySpan<byte> name, [NotNullWhen(true)] out ServerStatement? statement)
    {
        if (_statements is null)
        {
            statement = null;
            return false;
        }

        return _statementsBySpan.TryGetValue(name, out statement);
    }

    private void AddStatement(byte[] name, ServerStatement statement)
    {
        if (_statements is null)
        {
            _statements = new Dictionary<byte[], ServerStatement>(ByteKeyComparer.Instance);
            _statementsBySpan = _statements.GetAlternateLookup<ReadOnlySpan<byte>>();
        }

        _statements[name] = statement;
    }

    /// <summary>Writes a simple Query whose whole response is swallowed (settings replay).</summary>
    public void StageHiddenQuery(string sql)
    {
        PgFrontendWriter.WriteQuery(_server!, sql);
        Staged.Add(new PendingResponse(ResponseKind.QuerySwallow));
        SyncPoints++;
        Wrote = true;
    }

    /// <summary>Closes evicted statements on the server, with a Sync of their own; all swallowed.</summary>
    public void StageEvictions(List<ServerStatement> evicted)
    {
        foreach (ServerStatement statement in evicted)
        {
            PgFrontendWriter.WriteClose(_server!, StatementOrPortal.Statement, statement.Name);
            Staged.Add(new PendingResponse(ResponseKind.CloseSwallow));
        }

        PgFrontendWriter.WriteSync(_server!);
        Staged.Add(new PendingResponse(ResponseKind.SyncSwallow));
        SyncPoints++;
        Wrote = true;
    }

    /// <summary>
    /// Answers the current message with an error instead of running it (e.g. no server connection could
    /// be had): a ReadyForQuery follows at once for a simple query, at the next Sync otherwise.
    /// </summary>
    public void Reject(byte type, byte[] errorFrame, byte status = PgTransactionStatus.Idle)
    {
        Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: errorFrame));
        if (type is PgMessageTypes.Query or PgMessageTypes.FunctionCall)
        {
            Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, status));
        }
        else if (type == PgMessageTypes.Sync)
        {
            Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, status));
            HalfBatch = false;
        }
        else
        {
            SkipUntilSync = true;
            HalfBatch = true;
        }
    }

    /// <summary>Handles one complete client frame (header included).</summary>
    public ClientStep Process(byte type, in ReadOnlySequence<byte> frame)
    {
        if (type == PgMessageTypes.Terminate)
        {
            return ClientStep.Terminate;
        }

        if (SkipUntilSync)
        {
            if (type != PgMessageTypes.Sync)
            {
                return ClientStep.Continue;
            }

            SkipUntilSync = false;
        }
        else if (PendingError is { } error && type is PgMessageTypes.Query or PgMessageTypes.FunctionCall or PgMessageTypes.Parse
            or PgMessageTypes.Bind or PgMessageTypes.DescribeMessage or PgMessageTypes.Execute or PgMessageTypes.Close or PgMessageTypes.Sync)
        {
            PendingError = null;
            Reject(type, error, EmulatingFailedTransaction ? PgTransactionStatus.Failed : PgTransactionStatus.Idle);
            return ClientStep.Continue;
        }

        if (EmulatingFailedTransaction)
        {
            return ProcessInFailedTransaction(type, frame);
        }

        switch (type)
        {
            case PgMessageTypes.Query:
                return Query(frame);
            case PgMessageTypes.FunctionCall:
                if (_server is null)
                {
                    return ClientStep.NeedServer;
                }

                Forward(frame);
                Staged.Add(new PendingResponse(ResponseKind.Query));
                SyncPoints++;
                return ClientStep.Continue;
            case PgMessageTypes.Parse:
                return Parse(frame);
            case PgMessageTypes.Bind:
                return Bind(frame);
            case PgMessageTypes.DescribeMessage:
                return Describe(frame);
            case PgMessageTypes.Execute:
                if (_server is null)
                {
                    return ClientStep.NeedServer;
                }

                Forward(frame);
                Staged.Add(new PendingResponse(ResponseKind.Execute));
                HalfBatch = true;
                return ClientStep.Continue;
            case PgMessageTypes.Close:
                return Close(frame);
            case PgMessageTypes.Sync:
                return Sync(frame);
            case PgMessageTypes.Flush:
                if (_server is not null)
                {
                    Forward(frame);
                }

                return ClientStep.Continue;
            case PgMessageTypes.CopyData or PgMessageTypes.CopyDone or PgMessageTypes.CopyFail:
                // Outside COPY the server ignores these too.
                if (_server is not null)
                {
                    Forward(frame);
                    if (type != PgMessageTypes.CopyData)
                    {
                        Staged.Add(new PendingResponse(ResponseKind.CopyEnd));
                    }
                }

                return ClientStep.Continue;
            case PgMessageTypes.PasswordMessage:
                throw new PgProtocolException("unexpected password message: the session is already authenticated");
            default:
                throw new PgProtocolException($"unsupported frontend message {PgMessageTypes.Describe(type)}", SqlStates.ProtocolViolation);
        }
    }

    private ClientStep Query(in ReadOnlySequence<byte> frame)
    {
        if (_server is null)
        {
            return ClientStep.NeedServer;
        }

        ReadOnlySpan<byte> text = Text(Body(frame), "Query");
        if (ExplainRoute is not null && RouteAttributes.MayBeExplainRoute(text) && ExplainRoute(Encoding.UTF8.GetString(text)) is { } select)
        {
            // EXPLAIN ROUTE is Edge's own: the server runs a SELECT of the answer instead.
            PgFrontendWriter.WriteQuery(_server, select);
            Wrote = true;
            Staged.Add(new PendingResponse(ResponseKind.Query));
            SyncPoints++;
            _unnamedAttachment = -1;
            return ClientStep.Continue;
        }

        StatementEffects? effects = StatementEffects.Classify(text);
        Forward(frame);
        if (effects is not null)
        {
            PinReason ??= effects.PinReason;
        }

        Staged.Add(new PendingResponse(ResponseKind.Query, Ref: effects is null ? null : new List<StatementEffects> { effects }));
        SyncPoints++;

        // A simple query destroys the unnamed statement.
        _unnamedAttachment = -1;
        return ClientStep.Continue;
    }

    private ClientStep Parse(in ReadOnlySequence<byte> frame)
    {
        ReadOnlySpan<byte> body = Body(frame);
        int nameEnd = CStringEnd(body, "Parse");
        ReadOnlySpan<byte> name = body[..nameEnd];
        ReadOnlySpan<byte> key = body[(nameEnd + 1)..];
        int queryEnd = CStringEnd(key, "Parse");
        if (ExplainRoute is not null && RouteAttributes.MayBeExplainRoute(key[..queryEnd]) && ExplainRoute(Encoding.UTF8.GetString(key[..queryEnd])) is { } select)
        {
            // EXPLAIN ROUTE prepared (Npgsql sends everything so): the statement becomes the SELECT of the
            // answer, so Describe, Bind and Execute work on the server unchanged.
            return Parse(new ReadOnlySequence<byte>(RewriteParse(name, select, key[(queryEnd + 1)..])));
        }

        if (name.IsEmpty)
        {
            if (_server is null)
            {
                return ClientStep.NeedServer;
            }

            // Kept so the statement can be prepared again if the client binds it in a later transaction.
            int length = (int)frame.Length;
            if (_unnamedParse.Length < length || _unnamedParse.Length > 4 * Math.Max(length, 4096))
            {
                _unnamedParse = new byte[Math.Max(length, 256)];
            }

            frame.CopyTo(_unnamedParse);
            _unnamedLength = length;
            _unnamedAttachment = _attachment;
            _unnamedEffects = StatementEffects.Classify(key[..queryEnd]);
            _unnamedEndsTransaction = false;
            Forward(frame);
            Staged.Add(new PendingResponse(ResponseKind.Parse));
            HalfBatch = true;
            return ClientStep.Continue;
        }

        HalfBatch = true;
        if (TryGetStatement(name, out _))
        {
            RejectInBatch(SqlStates.DuplicatePreparedStatement, $"prepared statement \"{Encoding.UTF8.GetString(name)}\" already exists");
            return ClientStep.Continue;
        }

        ServerStatement statement = ServerStatementRegistry.GetOrAdd(key);
        if (_server is null)
        {
            if (!string.Equals(statement.VerifiedOn, ClusterName, StringComparison.Ordinal))
            {
                return ClientStep.NeedServer;
            }

            // Known to prepare fine on this cluster: answer now, prepare on whichever connection runs it.
            AddStatement(name.ToArray(), statement);
            Staged.Add(new PendingResponse(ResponseKind.SyntheticParseComplete));
            return ClientStep.Continue;
        }

        byte[] clientName = name.ToArray();
        AddStatement(clientName, statement);
        if (_state!.TryUse(statement))
        {
            Staged.Add(new PendingResponse(ResponseKind.SyntheticParseComplete));
        }
        else
        {
            _state.Add(statement);
            Write(statement.ParseFrame);
            Staged.Add(new PendingResponse(ResponseKind.Parse, Ref: new ParseTicket(statement, _state, clientName)));
        }

        return ClientStep.Continue;
    }

    /// <summary>A Parse frame for <paramref name="name"/> with <paramref name="sql"/> and the client's parameter types.</summary>
    private static byte[] RewriteParse(ReadOnlySpan<byte> name, string sql, ReadOnlySpan<byte> parameterTypes)
    {
        int sqlLength = Encoding.UTF8.GetByteCount(sql);
        int total = 5 + name.Length + 1 + sqlLength + 1 + parameterTypes.Length;
        byte[] frame = new byte[total];
        frame[0] = PgMessageTypes.Parse;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), total - 1);
        name.CopyTo(frame.AsSpan(5));
        int at = 5 + name.Length + 1;
        Encoding.UTF8.GetBytes(sql, frame.AsSpan(at));
        parameterTypes.CopyTo(frame.AsSpan(at + sqlLength + 1));
        return frame;
    }

    private ClientStep Bind(in ReadOnlySequence<byte> frame)
    {
        ReadOnlySpan<byte> body = Body(frame);
        int portalEnd = CStringEnd(body, "Bind");
        ReadOnlySpan<byte> afterPortal = body[(portalEnd + 1)..];
        int statementEnd = CStringEnd(afterPortal, "Bind");
        ReadOnlySpan<byte> name = afterPortal[..statementEnd];
        HalfBatch = true;
        if (name.IsEmpty)
        {
            if (_server is null)
            {
                return ClientStep.NeedServer;
            }

            EnsureUnnamed();
            AddEffects(_unnamedEffects);
            Forward(frame);
            Staged.Add(new PendingResponse(ResponseKind.Bind));
            return ClientStep.Continue;
        }

        if (!TryGetStatement(name, out ServerStatement? statement))
        {
            RejectInBatch(SqlStates.InvalidSqlStatementName, $"prepared statement \"{Encoding.UTF8.GetString(name)}\" does not exist");
            return ClientStep.Continue;
        }

        if (_server is null)
        {
            return ClientStep.NeedServer;
        }

        EnsurePrepared(statement);
        AddEffects(statement.Effects);

        // 'B', length, portal NUL, server name NUL, then the rest of the client's Bind as it came.
        ReadOnlySpan<byte> tail = afterPortal[(statementEnd + 1)..];
        int total = 5 + portalEnd + 1 + statement.NameBytes.Length + 1 + tail.Length;
        Span<byte> span = BeginMessage(PgMessageTypes.Bind, total);
        body[..(portalEnd + 1)].CopyTo(span[5..]);
        int at = 5 + portalEnd + 1;
        statement.NameBytes.CopyTo(span[at..]);
        at += statement.NameBytes.Length;
        span[at++] = 0;
        tail.CopyTo(span[at..]);
        EndMessage(total);
        Staged.Add(new PendingResponse(ResponseKind.Bind));
        return ClientStep.Continue;
    }

    private ClientStep Describe(in ReadOnlySequence<byte> frame)
    {
        ReadOnlySpan<byte> body = Body(frame);
        if (body.IsEmpty || body[0] is not ((byte)StatementOrPortal.Statement or (byte)StatementOrPortal.Portal))
        {
            throw new PgProtocolException("malformed Describe message: target must be 'S' (statement) or 'P' (portal)");
        }

        ReadOnlySpan<byte> name = body[1..(1 + CStringEnd(body[1..], "Describe"))];
        HalfBatch = true;
        if (body[0] == (byte)StatementOrPortal.Portal || name.IsEmpty)
        {
            if (_server is null)
            {
                return ClientStep.NeedServer;
            }

            bool statement = body[0] == (byte)StatementOrPortal.Statement;
            if (statement)
            {
                EnsureUnnamed();
            }

            Forward(frame);
            Staged.Add(new PendingResponse(statement ? ResponseKind.DescribeStatement : ResponseKind.DescribePortal));
            return ClientStep.Continue;
        }

        if (!TryGetStatement(name, out ServerStatement? prepared))
        {
            RejectInBatch(SqlStates.InvalidSqlStatementName, $"prepared statement \"{Encoding.UTF8.GetString(name)}\" does not exist");
            return ClientStep.Continue;
        }

        if (_server is null)
        {
            return ClientStep.NeedServer;
        }

        EnsurePrepared(prepared);
        int total = 5 + 1 + prepared.NameBytes.Length + 1;
        Span<byte> span = BeginMessage(PgMessageTypes.DescribeMessage, total);
        span[5] = (byte)StatementOrPortal.Statement;
        prepared.NameBytes.CopyTo(span[6..]);
        span[total - 1] = 0;
        EndMessage(total);
        Staged.Add(new PendingResponse(ResponseKind.DescribeStatement));
        return ClientStep.Continue;
    }

    private ClientStep Close(in ReadOnlySequence<byte> frame)
    {
        ReadOnlySpan<byte> body = Body(frame);
        if (body.IsEmpty || body[0] is not ((byte)StatementOrPortal.Statement or (byte)StatementOrPortal.Portal))
        {
            throw new PgProtocolException("malformed Close message: target must be 'S' (statement) or 'P' (portal)");
        }

        ReadOnlySpan<byte> name = body[1..(1 + CStringEnd(body[1..], "Close"))];
        bool statement = body[0] == (byte)StatementOrPortal.Statement;
        HalfBatch = true;
        if (statement && !name.IsEmpty)
        {
            // The server keeps it (another client may use it); the client's name is gone.
            if (_statements is not null)
            {
                _statementsBySpan.Remove(name);
            }

            Staged.Add(new PendingResponse(ResponseKind.SyntheticCloseComplete));
            return ClientStep.Continue;
        }

        if (statement)
        {
            _unnamedLength = 0;
        }

        if (_server is null)
        {
            // Without a server connection there is no unnamed statement or open portal to close.
            Staged.Add(new PendingResponse(ResponseKind.SyntheticCloseComplete));
            return ClientStep.Continue;
        }

        Forward(frame);
        Staged.Add(new PendingResponse(ResponseKind.Close));
        return ClientStep.Continue;
    }

    private ClientStep Sync(in ReadOnlySequence<byte> frame)
    {
        if (_server is null)
        {
            Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, PgTransactionStatus.Idle));
        }
        else
        {
            Forward(frame);
            Staged.Add(new PendingResponse(ResponseKind.Sync, Ref: _batchEffects));
            SyncPoints++;
        }

        _batchEffects = null;
        HalfBatch = false;
        return ClientStep.Continue;
    }

    /// <summary>
    /// After the server connection died inside a transaction, no server is involved until the client ends
    /// the transaction: ROLLBACK/ABORT/COMMIT/END answer "ROLLBACK", anything else 25P02.
    /// </summary>
    private ClientStep ProcessInFailedTransaction(byte type, in ReadOnlySequence<byte> frame)
    {
        switch (type)
        {
            case PgMessageTypes.Query:
                if (StatementEffects.IsTransactionEnd(Text(Body(frame), "Query")))
                {
                    Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: RollbackComplete));
                    Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, PgTransactionStatus.Idle));
                    EmulatingFailedTransaction = false;
                }
                else
                {
                    Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: FailedTransactionError()));
                    Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, PgTransactionStatus.Failed));
                }

                return ClientStep.Continue;
            case PgMessageTypes.Parse:
            {
                ReadOnlySpan<byte> body = Body(frame);
                ReadOnlySpan<byte> key = body[(CStringEnd(body, "Parse") + 1)..];
                if (!StatementEffects.IsTransactionEnd(key[..CStringEnd(key, "Parse")]))
                {
                    return FailInTransaction();
                }

                _emulatedEnd = true;
                _unnamedEndsTransaction = body[0] == 0;
                Staged.Add(new PendingResponse(ResponseKind.SyntheticParseComplete));
                return ClientStep.Continue;
            }

            case PgMessageTypes.Bind:
            {
                ReadOnlySpan<byte> body = Body(frame);
                ReadOnlySpan<byte> afterPortal = body[(CStringEnd(body, "Bind") + 1)..];
                ReadOnlySpan<byte> name = afterPortal[..CStringEnd(afterPortal, "Bind")];
                bool ends = name.IsEmpty
                    ? _unnamedEndsTransaction
                    : TryGetStatement(name, out ServerStatement? statement) && StatementEffects.IsTransactionEnd(QueryOf(statement));
                if (!ends)
                {
                    return FailInTransaction();
                }

                _emulatedEnd = true;
                Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: BindCompleteFrame));
                return ClientStep.Continue;
            }

            case PgMessageTypes.DescribeMessage when _emulatedEnd:
                if (Body(frame)[0] == (byte)StatementOrPortal.Statement)
                {
                    Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: NoParametersFrame));
                }

                Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: NoDataFrame));
                return ClientStep.Continue;
            case PgMessageTypes.Execute when _emulatedEnd:
                Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: RollbackComplete));
                _emulatedEnded = true;
                return ClientStep.Continue;
            case PgMessageTypes.Close:
                Staged.Add(new PendingResponse(ResponseKind.SyntheticCloseComplete));
                return ClientStep.Continue;
            case PgMessageTypes.Sync:
                Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, _emulatedEnded ? PgTransactionStatus.Idle : PgTransactionStatus.Failed));
                EmulatingFailedTransaction = !_emulatedEnded;
                _emulatedEnd = false;
                _emulatedEnded = false;
                HalfBatch = false;
                return ClientStep.Continue;
            case PgMessageTypes.DescribeMessage or PgMessageTypes.Execute or PgMessageTypes.FunctionCall:
                return type == PgMessageTypes.FunctionCall ? FailQueryInTransaction() : FailInTransaction();
            default:
                // Flush, COPY messages: nothing to do.
                return ClientStep.Continue;
        }
    }

    private ClientStep FailInTransaction()
    {
        Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: FailedTransactionError()));
        SkipUntilSync = true;
        HalfBatch = true;
        _emulatedEnd = false;
        _emulatedEnded = false;
        return ClientStep.Continue;
    }

    private ClientStep FailQueryInTransaction()
    {
        Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: FailedTransactionError()));
        Staged.Add(new PendingResponse(ResponseKind.SyntheticReady, PgTransactionStatus.Failed));
        return ClientStep.Continue;
    }

    private static byte[] FailedTransactionError() => ErrorFrame(
        SqlStates.InFailedSqlTransaction,
        "current transaction is aborted, commands ignored until end of transaction block (its server connection was lost)");

    private static ReadOnlySpan<byte> QueryOf(ServerStatement statement)
    {
        ReadOnlySpan<byte> key = statement.Key;
        int end = key.IndexOf((byte)0);
        return end < 0 ? key : key[..end];
    }

    /// <summary>Edge answers this extended-protocol message with an error; the rest of the batch is skipped up to Sync.</summary>
    private void RejectInBatch(string sqlState, string message)
    {
        Staged.Add(new PendingResponse(ResponseKind.SyntheticFrame, Ref: ErrorFrame(sqlState, message)));
        SkipUntilSync = true;
        HalfBatch = true;
    }

    private void EnsurePrepared(ServerStatement statement)
    {
        if (!_state!.TryUse(statement))
        {
            _state.Add(statement);
            Write(statement.ParseFrame);
            Staged.Add(new PendingResponse(ResponseKind.ParseSwallow, Ref: new ParseTicket(statement, _state, null)));
        }
    }

    /// <summary>The unnamed statement lives on one connection until the next Parse "" or simple query there; re-send it elsewhere.</summary>
    private void EnsureUnnamed()
    {
        if (_unnamedLength > 0 && _unnamedAttachment != _attachment)
        {
            Write(_unnamedParse.AsSpan(0, _unnamedLength));
            Staged.Add(new PendingResponse(ResponseKind.ParseSwallow));
            _unnamedAttachment = _attachment;
        }
    }

    private void AddEffects(StatementEffects? effects)
    {
        if (effects is null)
        {
            return;
        }

        PinReason ??= effects.PinReason;
        if (effects.Changes.Count > 0 || effects.ClearsPreparedStatements || effects.RollsBackToSavepoint)
        {
            (_batchEffects ??= []).Add(effects);
        }
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
            _scratch = new byte[Math.Max(length, 4096)];
        }

        frame.CopyTo(_scratch);
        return _scratch.AsSpan(PgFrameScanner.HeaderLength, length - PgFrameScanner.HeaderLength);
    }

    private static ReadOnlySpan<byte> Text(ReadOnlySpan<byte> body, string message) => body[..CStringEnd(body, message)];

    /// <summary>The SQL of a Query or Parse frame; empty for other messages.</summary>
    public ReadOnlySpan<byte> StatementText(byte type, in ReadOnlySequence<byte> frame)
    {
        if (type == PgMessageTypes.Query)
        {
            return Text(Body(frame), "Query");
        }

        if (type != PgMessageTypes.Parse)
        {
            return [];
        }

        ReadOnlySpan<byte> body = Body(frame);
        ReadOnlySpan<byte> key = body[(CStringEnd(body, "Parse") + 1)..];
        return key[..CStringEnd(key, "Parse")];
    }

    private static int CStringEnd(ReadOnlySpan<byte> body, string message)
    {
        int end = body.IndexOf((byte)0);
        if (end < 0)
        {
            throw new PgProtocolException($"malformed {message} message: unterminated string");
        }

        return end;
    }

    private void Forward(in ReadOnlySequence<byte> frame)
    {
        IBufferWriter<byte> server = _server!;
        if (frame.IsSingleSegment)
        {
            server.Write(frame.FirstSpan);
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in frame)
            {
                server.Write(segment.Span);
            }
        }

        Wrote = true;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _server!.Write(bytes);
        Wrote = true;
    }

    private Span<byte> BeginMessage(byte type, int total)
    {
        Span<byte> span = _server!.GetSpan(total);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], total - 1);
        return span;
    }

    private void EndMessage(int total)
    {
        _server!.Advance(total);
        Wrote = true;
    }

    internal static byte[] ErrorFrame(string sqlState, string message, string severity = PgSeverity.Error)
    {
        var writer = new ArrayBufferWriter<byte>(64 + message.Length);
        PgBackendWriter.WriteErrorResponse(writer, new PgError(severity, sqlState, message));
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] CommandComplete(string tag)
    {
        var writer = new ArrayBufferWriter<byte>(16);
        PgBackendWriter.WriteCommandComplete(writer, tag);
        return writer.WrittenSpan.ToArray();
    }
}
