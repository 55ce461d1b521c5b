using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>What kind of response a forwarded command gets, which decides where it ends.</summary>
internal enum MySqlResponseKind : byte
{
    /// <summary>COM_QUERY, COM_STMT_EXECUTE: OK, ERR or result sets (binary or text rows), possibly several.</summary>
    Results,

    /// <summary>COM_STMT_PREPARE: PREPARE_OK, parameter and column definitions (or ERR).</summary>
    Prepare,

    /// <summary>COM_FIELD_LIST: column definitions up to EOF (or ERR).</summary>
    FieldList,

    /// <summary>One OK, EOF or ERR packet (COM_INIT_DB, COM_STMT_RESET, ...).</summary>
    Status,

    /// <summary>Exactly one packet of any content (COM_STATISTICS).</summary>
    Single,
}

/// <summary>
/// Copies one response from a server connection's input to the client's output without decoding rows.
/// Packet headers are scanned; only the first bytes of a packet decide where the response ends (OK, ERR,
/// EOF and their status flags), so a row is copied as it arrives, however large. Runs of whole packets are
/// copied with one copy per buffer segment and flushed whenever the server's data runs out.
/// </summary>
internal sealed class MySqlResponseRelay
{
    private enum Phase : byte
    {
        First,
        ColumnDefinitions,
        ColumnsEof,
        Rows,
        PrepareOk,
        PrepareParameters,
        PrepareParametersEof,
        PrepareColumns,
        PrepareColumnsEof,
        FieldList,
        Status,
        Single,
        Done,
    }

    private const int Header = MySqlPacketScanner.HeaderLength;
    private const int MaxPayload = MySqlPacketScanner.MaxPacketPayload;

    private Phase _phase;
    private bool _deprecateEof;
    private ulong _definitions;
    private ushort _prepareColumns;
    private long _streamRemaining;
    private bool _continuation;
    private uint _clientStatementId;
    private byte _sequenceDelta;

    /// <summary>Status flags of the last OK/EOF packet of the response; unchanged by ERR.</summary>
    public MySqlServerStatus Status { get; private set; }

    /// <summary>True when the response held an ERR packet.</summary>
    public bool SawError { get; private set; }

    // For the audit log; one increment per row is all the relay spends on it.
    private long _streamedRows;
    private long _affectedRows = -1;

    /// <summary>For the audit log: rows sent plus rows affected (OK packets) since <see cref="ResetAudit"/>; -1 when none was seen.</summary>
    public long Rows => _affectedRows < 0 && _streamedRows == 0 ? -1 : Math.Max(_affectedRows, 0) + _streamedRows;

    /// <summary>For the audit log: the SQLSTATE of the first ERR since <see cref="ResetAudit"/>.</summary>
    public string? ErrorSqlState { get; private set; }

    public void ResetAudit()
    {
        _streamedRows = 0;
        _affectedRows = -1;
        ErrorSqlState = null;
    }

    /// <summary>The server's answer to COM_STMT_PREPARE (valid when <see cref="SawError"/> is false).</summary>
    public MySqlPrepareOk Prepared { get; private set; }

    /// <summary>True while part of a packet has been copied to the client (an error now cannot be reported cleanly).</summary>
    public bool InsidePacket => _streamRemaining > 0 || _continuation;

    /// <summary>Sequence id of the last packet copied to the client (as the client saw it), when <see cref="CopiedAny"/>.</summary>
    public byte LastSequenceId { get; private set; }

    /// <summary>True once a packet of this response went to the client.</summary>
    public bool CopiedAny { get; private set; }

    /// <summary>
    /// Relays one response. <paramref name="clientStatementId"/> replaces the statement id of a PREPARE_OK;
    /// <paramref name="sequenceDelta"/> is added to every sequence id (non-zero only when the forwarded
    /// command had a different number of packets than the client's).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RelayAsync(PipeReader server, PipeWriter client, MySqlResponseKind kind, bool deprecateEof, MySqlServerStatus status,
        uint clientStatementId, byte sequenceDelta, CancellationToken cancellationToken)
    {
        _phase = kind switch
        {
            MySqlResponseKind.Results => Phase.First,
            MySqlResponseKind.Prepare => Phase.PrepareOk,
            MySqlResponseKind.FieldList => Phase.FieldList,
            MySqlResponseKind.Status => Phase.Status,
            _ => Phase.Single,
        };
        _deprecateEof = deprecateEof;
        _clientStatementId = clientStatementId;
        _sequenceDelta = sequenceDelta;
        _streamRemaining = 0;
        _continuation = false;
        Status = status;
        SawError = false;
        ConnectionEnded = false;
        Prepared = default;
        CopiedAny = false;
        while (!IsComplete)
        {
            ReadResult result;
            try
            {
                result = await server.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
            {
                throw new MySqlServerLostException(ex.Message, ex);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            long consumed = Process(buffer, client);
            server.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
            if (!IsComplete && (result.IsCompleted || result.IsCanceled))
            {
                throw new MySqlServerLostException("the server closed the connection in the middle of a response");
            }

            FlushResult flush = await client.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                throw new IOException("the client closed the connection");
            }
        }
    }

    // The last packet may still be streaming when its count already ended the response.
    private bool IsComplete => _phase == Phase.Done && _streamRemaining == 0 && !_continuation;

    /// <summary>Copies what it can of <paramref name="buffer"/>; returns the bytes consumed.</summary>
    private long Process(in ReadOnlySequence<byte> buffer, PipeWriter client)
    {
        long position = 0;
        long copyFrom = 0;
        long length = buffer.Length;
        Span<byte> header = stackalloc byte[Header + 1];
        Span<byte> small = stackalloc byte[256];
        while (!IsComplete)
        {
            if (_streamRemaining > 0)
            {
                long take = Math.Min(_streamRemaining, length - position);
                position += take;
                _streamRemaining -= take;
                if (_streamRemaining > 0)
                {
                    break;
                }

                if (_phase is Phase.Single)
                {
                    _phase = Phase.Done;
                }

                continue;
            }

            if (length - position < Header)
            {
                break;
            }

            buffer.Slice(position, Header).CopyTo(header);
            int payloadLength = header[0] | (header[1] << 8) | (header[2] << 16);
            if (_continuation)
            {
                _continuation = payloadLength == MaxPayload;
                Copy(buffer, ref copyFrom, position, client);
                PatchSequence(ref copyFrom, position, header, client);
                _streamRemaining = Header + payloadLength;
                continue;
            }

            // Decide from the first payload byte whether the packet is copied as it comes or inspected whole.
            bool inspect;
            if (_phase is Phase.Rows or Phase.FieldList)
            {
                if (payloadLength == 0)
                {
                    inspect = false;
                }
                else if (length - position < Header + 1)
                {
                    break;
                }
                else
                {
                    byte first = buffer.Slice(position + Header, 1).FirstSpan[0];
                    inspect = first == MySqlPacketHeader.Err || (first == MySqlPacketHeader.Eof && payloadLength < MaxPayload);
                }
            }
            else
            {
                inspect = _phase is not (Phase.ColumnDefinitions or Phase.PrepareParameters or Phase.PrepareColumns);
            }

            if (!inspect || payloadLength >= MaxPayload)
            {
                Copy(buffer, ref copyFrom, position, client);
                PatchSequence(ref copyFrom, position, header, client);
                CountStreamed();
                _continuation = payloadLength == MaxPayload;
                _streamRemaining = Header + payloadLength;
                continue;
            }

            long end = position + Header + payloadLength;
            if (end > length)
            {
                break;
            }

            Copy(buffer, ref copyFrom, position, client);
            PatchSequence(ref copyFrom, position, header, client);
            ReadOnlySequence<byte> payloadBytes = buffer.Slice(position + Header, payloadLength);
            byte[]? rented = null;
            Span<byte> payload = payloadLength <= small.Length ? small : (rented = ArrayPool<byte>.Shared.Rent(payloadLength));
            payload = payload[..payloadLength];
            payloadBytes.CopyTo(payload);
            try
            {
                if (Inspect(payload))
                {
                    // PREPARE_OK: the client sees Edge's statement id, not the server's.
                    Copy(buffer, ref copyFrom, position + Header + 1, client);
                    Span<byte> id = client.GetSpan(4);
                    BinaryPrimitives.WriteUInt32LittleEndian(id, _clientStatementId);
                    client.Advance(4);
                    copyFrom = position + Header + 5;
                }
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }

            position = end;
        }

        Copy(buffer, ref copyFrom, position, client);
        return position;
    }

    /// <summary>A packet copied without inspection: count definitions.</summary>
    private void CountStreamed()
    {
        switch (_phase)
        {
            case Phase.Rows:
                _streamedRows++;
                break;
            case Phase.ColumnDefinitions when --_definitions == 0:
                _phase = _deprecateEof ? Phase.Rows : Phase.ColumnsEof;
                break;
            case Phase.PrepareParameters when --_definitions == 0:
                _phase = !_deprecateEof ? Phase.PrepareParametersEof : AfterPrepareParameters();
                break;
            case Phase.PrepareColumns when --_definitions == 0:
                _phase = _deprecateEof ? Phase.Done : Phase.PrepareColumnsEof;
                break;
        }
    }

    private Phase AfterPrepareParameters()
    {
        _definitions = _prepareColumns;
        return _prepareColumns > 0 ? Phase.PrepareColumns : Phase.Done;
    }

    /// <summary>Handles a whole small packet; returns true when its statement id must be rewritten.</summary>
    private bool Inspect(ReadOnlySpan<byte> payload)
    {
        byte first = payload.Length > 0 ? payload[0] : (byte)0;
        switch (_phase)
        {
            case Phase.First:
                if (first == MySqlPacketHeader.Ok)
                {
                    MySqlOkPacket ok = MySqlOkPacket.Parse(payload, Capabilities);
                    _affectedRows = Math.Max(_affectedRows, 0) + (long)Math.Min(ok.AffectedRows, long.MaxValue);
                    EndOfResult(ok.Status);
                }
                else if (first == MySqlPacketHeader.Err)
                {
                    Error(payload);
                }
                else if (first == 0xFB)
                {
                    throw new MySqlServerLostException("the server asked for LOCAL INFILE, which Edge's server connections do not allow");
                }
                else
                {
                    _affectedRows = Math.Max(_affectedRows, 0);
                    var reader = new MySqlPayloadReader(payload, "column count");
                    _definitions = reader.ReadLengthEncodedInteger("column count");
                    _phase = _definitions > 0 ? Phase.ColumnDefinitions : Phase.Rows;
                }

                return false;
            case Phase.ColumnsEof:
                _phase = Phase.Rows;
                return false;
            case Phase.Rows:
                if (first == MySqlPacketHeader.Err)
                {
                    Error(payload);
                }
                else
                {
                    EndOfResult(_deprecateEof ? MySqlOkPacket.Parse(payload, Capabilities).Status : MySqlEofPacket.Parse(payload).Status);
                }

                return false;
            case Phase.PrepareOk:
                if (first == MySqlPacketHeader.Err)
                {
                    Error(payload);
                    return false;
                }

                Prepared = MySqlPrepareOk.Parse(payload);
                _prepareColumns = Prepared.ColumnCount;
                _definitions = Prepared.ParameterCount;
                _phase = Prepared.ParameterCount > 0 ? Phase.PrepareParameters : AfterPrepareParameters();
                return true;
            case Phase.PrepareParametersEof:
                _phase = AfterPrepareParameters();
                return false;
            case Phase.PrepareColumnsEof:
                _phase = Phase.Done;
                return false;
            case Phase.FieldList:
                // ERR, or the EOF that ends the definitions.
                if (first == MySqlPacketHeader.Err)
                {
                    Error(payload);
                }

                _phase = Phase.Done;
                return false;
            case Phase.Status:
                if (first == MySqlPacketHeader.Err)
                {
                    Error(payload);
                }
                else if (first == MySqlPacketHeader.Ok)
                {
                    Status = MySqlOkPacket.Parse(payload, Capabilities).Status;
                    _phase = Phase.Done;
                }
                else
                {
                    _phase = Phase.Done;
                }

                return false;
            case Phase.Single:
                _phase = Phase.Done;
                return false;
            default:
                return false;
        }
    }

    /// <summary>The capabilities the server connection negotiated (they decide the OK packet layout).</summary>
    public MySqlCapabilities Capabilities { get; set; }

    private void EndOfResult(MySqlServerStatus status)
    {
        Status = status;
        _phase = (status & MySqlServerStatus.MoreResultsExist) != 0 ? Phase.First : Phase.Done;
    }

    private void Error(ReadOnlySpan<byte> payload)
    {
        SawError = true;
        _phase = Phase.Done;
        if (ErrorSqlState is null)
        {
            // ERR: 0xFF, code (2 bytes), '#', SQLSTATE (5 characters), message.
            ErrorSqlState = payload.Length >= 9 && payload[3] == '#' ? System.Text.Encoding.ASCII.GetString(payload[4..9]) : "HY000";
        }

        // KILL of the connection, server shutdown, or any SQLSTATE class 08: the server closes the connection next.
        ushort code = payload.Length >= 3 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[1..]) : (ushort)0;
        ConnectionEnded = code is 1927 or 1053 || (payload.Length >= 6 && payload[3] == '#' && payload[4] == '0' && payload[5] == '8');
    }

    /// <summary>True when the response's ERR says the server ends the connection (KILL, shutdown, SQLSTATE 08).</summary>
    public bool ConnectionEnded { get; private set; }

    /// <summary>Copies [copyFrom, to) to the client.</summary>
    private static void Copy(in ReadOnlySequence<byte> buffer, ref long copyFrom, long to, PipeWriter client)
    {
        if (to <= copyFrom)
        {
            return;
        }

        foreach (ReadOnlyMemory<byte> segment in buffer.Slice(copyFrom, to - copyFrom))
        {
            client.Write(segment.Span);
        }

        copyFrom = to;
    }

    /// <summary>Remembers the packet's sequence id; with a delta, writes the header itself with the adjusted id.</summary>
    private void PatchSequence(ref long copyFrom, long position, ReadOnlySpan<byte> header, PipeWriter client)
    {
        byte sequence = (byte)(header[3] + _sequenceDelta);
        LastSequenceId = sequence;
        CopiedAny = true;
        if (_sequenceDelta != 0)
        {
            Span<byte> target = client.GetSpan(Header);
            header[..3].CopyTo(target);
            target[3] = sequence;
            client.Advance(Header);
            copyFrom = position + Header;
        }
    }
}

/// <summary>The server connection failed (or broke the protocol) while a response was relayed.</summary>
internal sealed class MySqlServerLostException : Exception
{
    public MySqlServerLostException() : this("the server connection was lost") { }

    public MySqlServerLostException(string message) : base(message) { }

    public MySqlServerLostException(string message, Exception inner) : base(message, inner) { }
}
