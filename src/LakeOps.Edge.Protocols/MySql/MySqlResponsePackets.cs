using System.Text;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>First bytes that identify generic response packets.</summary>
public static class MySqlPacketHeader
{
    public const byte Ok = 0x00;
    public const byte Eof = 0xFE;
    public const byte Err = 0xFF;

    /// <summary>A generic OK packet (0x00 and long enough for the fixed fields).</summary>
    public static bool IsOk(ReadOnlySpan<byte> payload) => payload.Length >= 7 && payload[0] == Ok;

    /// <summary>ERR packet.</summary>
    public static bool IsErr(ReadOnlySpan<byte> payload) => payload.Length >= 3 && payload[0] == Err;

    /// <summary>A classic EOF packet (0xFE and at most 9 bytes: a row can never be that short with 0xFE first).</summary>
    public static bool IsEof(ReadOnlySpan<byte> payload) => payload.Length is > 0 and < 9 && payload[0] == Eof;

    /// <summary>
    /// The packet that ends rows: with CLIENT_DEPRECATE_EOF an OK packet with header 0xFE (distinguished from a
    /// row whose first value is 8-byte-length-encoded by being shorter than a full packet), else an EOF packet.
    /// </summary>
    public static bool IsEndOfRows(ReadOnlySpan<byte> payload, MySqlCapabilities capabilities) =>
        (capabilities & MySqlCapabilities.DeprecateEof) != 0
            ? payload.Length is > 0 and < MySqlPacketScanner.MaxPacketPayload && payload[0] == Eof
            : IsEof(payload);
}

/// <summary>OK packet: affected rows, last insert id, status, warnings and info.</summary>
public readonly ref struct MySqlOkPacket
{
    public MySqlOkPacket(ulong affectedRows, ulong lastInsertId, MySqlServerStatus status, ushort warnings, ReadOnlySpan<byte> info, ReadOnlySpan<byte> sessionStateChanges)
    {
        AffectedRows = affectedRows;
        LastInsertId = lastInsertId;
        Status = status;
        Warnings = warnings;
        Info = info;
        SessionStateChanges = sessionStateChanges;
    }

    public ulong AffectedRows { get; }

    public ulong LastInsertId { get; }

    public MySqlServerStatus Status { get; }

    public ushort Warnings { get; }

    /// <summary>Human-readable info text (UTF-8), often empty.</summary>
    public ReadOnlySpan<byte> Info { get; }

    /// <summary>Raw session state change data (CLIENT_SESSION_TRACK with SERVER_SESSION_STATE_CHANGED), else empty.</summary>
    public ReadOnlySpan<byte> SessionStateChanges { get; }

    /// <summary>Parses an OK packet (header 0x00, or 0xFE when it ends rows under CLIENT_DEPRECATE_EOF).</summary>
    public static MySqlOkPacket Parse(ReadOnlySpan<byte> payload, MySqlCapabilities capabilities)
    {
        var reader = new MySqlPayloadReader(payload, "OK");
        byte header = reader.ReadByte("header");
        if (header is not MySqlPacketHeader.Ok and not MySqlPacketHeader.Eof)
        {
            MySqlThrow.Malformed("OK", $"header is 0x{header:X2}, expected 0x00 or 0xFE");
        }

        ulong affected = reader.ReadLengthEncodedInteger("affected_rows");
        ulong insertId = reader.ReadLengthEncodedInteger("last_insert_id");
        var status = MySqlServerStatus.None;
        ushort warnings = 0;
        if ((capabilities & MySqlCapabilities.Protocol41) != 0)
        {
            status = (MySqlServerStatus)reader.ReadUInt16("status_flags");
            warnings = reader.ReadUInt16("warnings");
        }
        else if ((capabilities & MySqlCapabilities.Transactions) != 0)
        {
            status = (MySqlServerStatus)reader.ReadUInt16("status_flags");
        }

        ReadOnlySpan<byte> info = default;
        ReadOnlySpan<byte> state = default;
        if ((capabilities & MySqlCapabilities.SessionTrack) != 0)
        {
            // Servers may end the packet right after the fixed fields when there is no info.
            if (!reader.IsAtEnd)
            {
                info = reader.ReadLengthEncodedBytes("info");
                if ((status & MySqlServerStatus.SessionStateChanged) != 0 && !reader.IsAtEnd)
                {
                    state = reader.ReadLengthEncodedBytes("session_state_info");
                }
            }
        }
        else
        {
            info = reader.ReadRest();
        }

        return new MySqlOkPacket(affected, insertId, status, warnings, info, state);
    }

    /// <summary>Writes an OK packet; <paramref name="header"/> 0xFE makes it the end-of-rows marker under CLIENT_DEPRECATE_EOF.</summary>
    public static void Write(MySqlPacketWriter writer, MySqlCapabilities capabilities, ulong affectedRows, ulong lastInsertId,
        MySqlServerStatus status, ushort warnings, scoped ReadOnlySpan<byte> info = default, byte header = MySqlPacketHeader.Ok)
    {
        ArgumentNullException.ThrowIfNull(writer);
        bool track = (capabilities & MySqlCapabilities.SessionTrack) != 0;
        int size = 1 + MySqlPayloadWriter.LengthEncodedIntegerSize(affectedRows) + MySqlPayloadWriter.LengthEncodedIntegerSize(lastInsertId)
            + 4 + (track ? MySqlPayloadWriter.LengthEncodedIntegerSize((ulong)info.Length) : 0) + info.Length;
        MySqlPayloadWriter payload = writer.BeginPacket(size);
        payload.WriteByte(header);
        payload.WriteLengthEncodedInteger(affectedRows);
        payload.WriteLengthEncodedInteger(lastInsertId);
        payload.WriteUInt16((ushort)(status & ~MySqlServerStatus.SessionStateChanged));
        payload.WriteUInt16(warnings);
        if (track)
        {
            // Omitted entirely when empty, as servers do; every client accepts both forms.
            if (!info.IsEmpty)
            {
                payload.WriteLengthEncodedBytes(info);
            }
        }
        else
        {
            payload.WriteBytes(info);
        }

        writer.EndPacket(payload);
    }
}

/// <summary>The classic EOF packet (without CLIENT_DEPRECATE_EOF): 0xFE, warnings, status.</summary>
public readonly record struct MySqlEofPacket(ushort Warnings, MySqlServerStatus Status)
{
    public static MySqlEofPacket Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "EOF");
        if (reader.ReadByte("header") != MySqlPacketHeader.Eof)
        {
            MySqlThrow.Malformed("EOF", "header is not 0xFE");
        }

        // Pre-4.1 servers send only the header.
        if (reader.IsAtEnd)
        {
            return default;
        }

        ushort warnings = reader.ReadUInt16("warnings");
        var status = (MySqlServerStatus)reader.ReadUInt16("status_flags");
        return new MySqlEofPacket(warnings, status);
    }

    public static void Write(MySqlPacketWriter writer, ushort warnings, MySqlServerStatus status)
    {
        ArgumentNullException.ThrowIfNull(writer);
        MySqlPayloadWriter payload = writer.BeginPacket(5);
        payload.WriteByte(MySqlPacketHeader.Eof);
        payload.WriteUInt16(warnings);
        payload.WriteUInt16((ushort)status);
        writer.EndPacket(payload);
    }

    /// <summary>
    /// The packet after column definitions or rows: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet
    /// with header 0xFE (after rows) / nothing (after column definitions; see <paramref name="afterColumns"/>).
    /// </summary>
    public static void WriteEndMarker(MySqlPacketWriter writer, MySqlCapabilities capabilities, MySqlServerStatus status, bool afterColumns, ushort warnings = 0)
    {
        if ((capabilities & MySqlCapabilities.DeprecateEof) == 0)
        {
            Write(writer, warnings, status);
        }
        else if (!afterColumns)
        {
            MySqlOkPacket.Write(writer, capabilities, 0, 0, status, warnings, default, MySqlPacketHeader.Eof);
        }
    }
}

/// <summary>ERR packet: error code, SQLSTATE (with CLIENT_PROTOCOL_41) and message.</summary>
public sealed record MySqlErrPacket(ushort ErrorCode, string SqlState, string Message)
{
    /// <summary>Longest message text written; MySQL itself caps messages at 512 bytes, clients accept more.</summary>
    public const int MaxMessageBytes = 16 * 1024;

    /// <summary>Parses an ERR packet; a missing '#' state marker (pre-auth errors of some servers) gives HY000.</summary>
    public static MySqlErrPacket Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "ERR");
        if (reader.ReadByte("header") != MySqlPacketHeader.Err)
        {
            MySqlThrow.Malformed("ERR", "header is not 0xFF");
        }

        ushort code = reader.ReadUInt16("error_code");
        string state = "HY000";
        if (!reader.IsAtEnd && reader.PeekByte() == (byte)'#')
        {
            reader.Skip(1);
            state = Encoding.ASCII.GetString(reader.ReadBytes(5, "sql_state"));
        }

        return new MySqlErrPacket(code, state, Encoding.UTF8.GetString(reader.ReadRest()));
    }

    /// <summary>Writes this error (always with the '#' SQLSTATE marker; Edge requires CLIENT_PROTOCOL_41).</summary>
    public void Write(MySqlPacketWriter writer) => Write(writer, ErrorCode, SqlState, Message);

    public static void Write(MySqlPacketWriter writer, ushort errorCode, string sqlState, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(sqlState);
        ArgumentNullException.ThrowIfNull(message);
        if (sqlState.Length != 5 || !Ascii.IsValid(sqlState))
        {
            sqlState = "HY000";
        }

        int messageBytes = Math.Min(Encoding.UTF8.GetByteCount(message), MaxMessageBytes);
        MySqlPayloadWriter payload = writer.BeginPacket(9 + messageBytes);
        payload.WriteByte(MySqlPacketHeader.Err);
        payload.WriteUInt16(errorCode);
        payload.WriteByte((byte)'#');
        Encoding.ASCII.GetBytes(sqlState, payload.FreeSpan);
        payload.Advance(5);
        payload.Advance(Utf8Prefix(message, payload.FreeSpan[..messageBytes]));
        writer.EndPacket(payload);
    }

    // Encodes as much of the message as fits, never splitting a character.
    private static int Utf8Prefix(string message, Span<byte> destination)
    {
        // DestinationTooSmall is expected when the message is capped; what fits is complete characters.
        System.Text.Unicode.Utf8.FromUtf16(message, destination, out _, out int written);
        return written;
    }
}
