using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>
/// A MySQL wire protocol error found while decoding or encoding packets. A server session turns it into
/// an ERR packet with <see cref="ErrorCode"/> and <see cref="SqlState"/> (1156 / 08S01 unless said otherwise).
/// </summary>
public sealed class MySqlProtocolException : Exception
{
    public MySqlProtocolException(string message, ushort errorCode, string sqlState, Exception? inner = null)
        : base(message, inner)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
    }

    public MySqlProtocolException() : this("MySQL protocol violation") { }

    public MySqlProtocolException(string message)
        : this(message, MySqlErrorCode.NetPacketsOutOfOrder, MySqlErrorCode.SqlStateOf(MySqlErrorCode.NetPacketsOutOfOrder)) { }

    public MySqlProtocolException(string message, Exception inner)
        : this(message, MySqlErrorCode.NetPacketsOutOfOrder, MySqlErrorCode.SqlStateOf(MySqlErrorCode.NetPacketsOutOfOrder), inner) { }

    /// <summary>MySQL error number to report (ER_*).</summary>
    public ushort ErrorCode { get; }

    /// <summary>Five-character SQLSTATE to report with it.</summary>
    public string SqlState { get; }
}

/// <summary>Throw helpers, so hot decoding methods stay small enough to inline.</summary>
public static class MySqlThrow
{
    /// <summary>The payload ended before a field the packet format requires.</summary>
    [DoesNotReturn]
    public static void Truncated(string packetName, string field) =>
        throw new MySqlProtocolException($"malformed {packetName} packet: truncated at {field}");

    /// <summary>The payload violates the packet format in a way <paramref name="detail"/> explains.</summary>
    [DoesNotReturn]
    public static void Malformed(string packetName, string detail) =>
        throw new MySqlProtocolException($"malformed {packetName} packet: {detail}");

    [DoesNotReturn]
    public static void TooLarge(long size, long limit) =>
        throw new MySqlProtocolException(
            string.Create(CultureInfo.InvariantCulture, $"Got a packet bigger than 'max_allowed_packet' bytes ({size} > {limit})"),
            MySqlErrorCode.NetPacketTooLarge, MySqlErrorCode.SqlStateOf(MySqlErrorCode.NetPacketTooLarge));
}
