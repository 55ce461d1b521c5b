namespace LakeOps.Edge.Protocols.MySql.Types;

/// <summary>
/// A result value (or type) that has no MySQL wire form. Unlike <see cref="MySqlProtocolException"/> it does not
/// end the connection: the session reports it as an ERR packet in place of the rest of the result.
/// </summary>
public sealed class MySqlEncodingException : Exception
{
    public MySqlEncodingException(string message, ushort errorCode = MySqlErrorCode.UnknownError, Exception? inner = null)
        : base(message, inner) => ErrorCode = errorCode;

    public MySqlEncodingException() : this("value cannot be sent to MySQL clients") { }

    public MySqlEncodingException(string message) : this(message, MySqlErrorCode.UnknownError) { }

    public MySqlEncodingException(string message, Exception inner) : this(message, MySqlErrorCode.UnknownError, inner) { }

    public ushort ErrorCode { get; }

    public string SqlState => MySqlErrorCode.SqlStateOf(ErrorCode);
}
