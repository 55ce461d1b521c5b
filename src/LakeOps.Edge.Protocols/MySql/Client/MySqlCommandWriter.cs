using System.Text;

namespace LakeOps.Edge.Protocols.MySql.Client;

/// <summary>
/// Client-side command packets (COM_*). Each starts a new command exchange, so the sequence id is reset to 0.
/// </summary>
public static class MySqlCommandWriter
{
    // Text up to this many chars is sized with GetMaxByteCount (no counting pass); longer text is counted.
    private const int SmallTextChars = 4096;

    /// <summary>A command without arguments: COM_PING, COM_QUIT, COM_RESET_CONNECTION, COM_STATISTICS.</summary>
    public static void WriteSimple(MySqlPacketWriter writer, MySqlCommand command)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.ResetSequence();
        MySqlPayloadWriter payload = writer.BeginPacket(1);
        payload.WriteByte((byte)command);
        writer.EndPacket(payload);
    }

    /// <summary>COM_QUERY, COM_INIT_DB or COM_STMT_PREPARE with UTF-8 text.</summary>
    public static void WriteText(MySqlPacketWriter writer, MySqlCommand command, string text)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(text);
        writer.ResetSequence();
        int size = text.Length <= SmallTextChars ? Encoding.UTF8.GetMaxByteCount(text.Length) : Encoding.UTF8.GetByteCount(text);
        MySqlPayloadWriter payload = writer.BeginPacket(1 + size);
        payload.WriteByte((byte)command);
        payload.WriteString(text);
        writer.EndPacket(payload);
    }

    /// <summary>COM_QUERY, COM_INIT_DB or COM_STMT_PREPARE with text that is already UTF-8.</summary>
    public static void WriteText(MySqlPacketWriter writer, MySqlCommand command, ReadOnlySpan<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.ResetSequence();
        MySqlPayloadWriter payload = writer.BeginPacket(1 + utf8.Length);
        payload.WriteByte((byte)command);
        payload.WriteBytes(utf8);
        writer.EndPacket(payload);
    }

    /// <summary>COM_STMT_CLOSE or COM_STMT_RESET: the command byte and a statement id.</summary>
    public static void WriteStatementCommand(MySqlPacketWriter writer, MySqlCommand command, uint statementId)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.ResetSequence();
        MySqlPayloadWriter payload = writer.BeginPacket(5);
        payload.WriteByte((byte)command);
        payload.WriteUInt32(statementId);
        writer.EndPacket(payload);
    }
}
