using System.Globalization;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// Message type bytes of protocol 3. Some letters mean different things per direction
/// ('C', 'D', 'E', 'H', 'S'), so frontend and backend constants share values where the protocol does.
/// </summary>
public static class PgMessageTypes
{
    // Frontend (client to server).
    public const byte Bind = (byte)'B';
    public const byte Close = (byte)'C';

    /// <summary>The Describe message ('D'); named so it does not clash with <see cref="Describe(byte)"/>.</summary>
    public const byte DescribeMessage = (byte)'D';
    public const byte Execute = (byte)'E';
    public const byte Flush = (byte)'H';
    public const byte FunctionCall = (byte)'F';
    public const byte Parse = (byte)'P';
    public const byte Query = (byte)'Q';
    public const byte Sync = (byte)'S';
    public const byte Terminate = (byte)'X';
    public const byte CopyFail = (byte)'f';

    /// <summary>PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse all use 'p'; the auth state tells them apart.</summary>
    public const byte PasswordMessage = (byte)'p';
    public const byte SaslInitialResponse = (byte)'p';
    public const byte SaslResponse = (byte)'p';
    public const byte GssResponse = (byte)'p';

    // Both directions.
    public const byte CopyData = (byte)'d';
    public const byte CopyDone = (byte)'c';

    // Backend (server to client).
    public const byte Authentication = (byte)'R';
    public const byte BackendKeyData = (byte)'K';
    public const byte BindComplete = (byte)'2';
    public const byte CloseComplete = (byte)'3';
    public const byte CommandComplete = (byte)'C';
    public const byte CopyInResponse = (byte)'G';
    public const byte CopyOutResponse = (byte)'H';
    public const byte CopyBothResponse = (byte)'W';
    public const byte DataRow = (byte)'D';
    public const byte EmptyQueryResponse = (byte)'I';
    public const byte ErrorResponse = (byte)'E';
    public const byte FunctionCallResponse = (byte)'V';
    public const byte NegotiateProtocolVersion = (byte)'v';
    public const byte NoData = (byte)'n';
    public const byte NoticeResponse = (byte)'N';
    public const byte NotificationResponse = (byte)'A';
    public const byte ParameterDescription = (byte)'t';
    public const byte ParameterStatus = (byte)'S';
    public const byte ParseComplete = (byte)'1';
    public const byte PortalSuspended = (byte)'s';
    public const byte ReadyForQuery = (byte)'Z';
    public const byte RowDescription = (byte)'T';

    /// <summary>Names a frontend message type for error messages, e.g. "Query ('Q')".</summary>
    public static string Describe(byte type)
    {
        string? name = type switch
        {
            Bind => "Bind",
            Close => "Close",
            DescribeMessage => "Describe",
            Execute => "Execute",
            Flush => "Flush",
            FunctionCall => "FunctionCall",
            Parse => "Parse",
            Query => "Query",
            Sync => "Sync",
            Terminate => "Terminate",
            CopyFail => "CopyFail",
            CopyData => "CopyData",
            CopyDone => "CopyDone",
            PasswordMessage => "PasswordMessage/SASLResponse",
            _ => null,
        };
        return Format(name, type);
    }

    /// <summary>Names a backend message type for error messages, e.g. "DataRow ('D')".</summary>
    public static string DescribeBackend(byte type)
    {
        string? name = type switch
        {
            Authentication => "Authentication",
            BackendKeyData => "BackendKeyData",
            BindComplete => "BindComplete",
            CloseComplete => "CloseComplete",
            CommandComplete => "CommandComplete",
            CopyInResponse => "CopyInResponse",
            CopyOutResponse => "CopyOutResponse",
            CopyBothResponse => "CopyBothResponse",
            CopyData => "CopyData",
            CopyDone => "CopyDone",
            DataRow => "DataRow",
            EmptyQueryResponse => "EmptyQueryResponse",
            ErrorResponse => "ErrorResponse",
            FunctionCallResponse => "FunctionCallResponse",
            NegotiateProtocolVersion => "NegotiateProtocolVersion",
            NoData => "NoData",
            NoticeResponse => "NoticeResponse",
            NotificationResponse => "NotificationResponse",
            ParameterDescription => "ParameterDescription",
            ParameterStatus => "ParameterStatus",
            ParseComplete => "ParseComplete",
            PortalSuspended => "PortalSuspended",
            ReadyForQuery => "ReadyForQuery",
            RowDescription => "RowDescription",
            _ => null,
        };
        return Format(name, type);
    }

    private static string Format(string? name, byte type)
    {
        // Printable ASCII is shown as a quoted letter, anything else as hex, so logs stay readable.
        string code = type is >= 0x20 and < 0x7F
            ? "'" + (char)type + "'"
            : "0x" + type.ToString("X2", CultureInfo.InvariantCulture);
        return name is null ? "unknown message type " + code : name + " (" + code + ")";
    }
}

/// <summary>Transaction status bytes of ReadyForQuery.</summary>
public static class PgTransactionStatus
{
    public const byte Idle = (byte)'I';
    public const byte InTransaction = (byte)'T';
    public const byte Failed = (byte)'E';
}
