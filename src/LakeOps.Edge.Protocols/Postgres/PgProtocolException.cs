using System.Diagnostics.CodeAnalysis;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// A PostgreSQL wire protocol error found while decoding client or server bytes. The session turns it
/// into an ErrorResponse with <see cref="SqlState"/> (08P01 protocol_violation unless said otherwise).
/// </summary>
public sealed class PgProtocolException : Exception
{
    public PgProtocolException(string message, string sqlState = SqlStates.ProtocolViolation, Exception? inner = null)
        : base(message, inner) => SqlState = sqlState;

    public PgProtocolException() : this("PostgreSQL protocol violation") { }

    public PgProtocolException(string message) : this(message, SqlStates.ProtocolViolation) { }

    public PgProtocolException(string message, Exception inner) : this(message, SqlStates.ProtocolViolation, inner) { }

    /// <summary>Five-character SQLSTATE to report to the client.</summary>
    public string SqlState { get; }
}

/// <summary>
/// Throw helpers: keeping the throw (and the message formatting) out of the callers keeps the hot
/// decoding methods small enough to inline.
/// </summary>
public static class PgThrow
{
    /// <summary>The body ended before a field the message format requires.</summary>
    [DoesNotReturn]
    public static void Truncated(string messageName) =>
        throw new PgProtocolException($"{messageName} message is truncated");

    /// <summary>The body violates the message format in a way <paramref name="detail"/> explains.</summary>
    [DoesNotReturn]
    public static void Malformed(string messageName, string detail) =>
        throw new PgProtocolException($"{messageName} message is malformed: {detail}");

    [DoesNotReturn]
    public static void TrailingBytes(string messageName, int count) =>
        throw new PgProtocolException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{messageName} message is malformed: {count} unexpected bytes after its last field"));

    /// <summary>A string field is not valid UTF-8 (PostgreSQL reports 22021 character_not_in_repertoire).</summary>
    [DoesNotReturn]
    public static void InvalidUtf8(string messageName) =>
        throw new PgProtocolException($"invalid byte sequence for encoding \"UTF8\" in {messageName} message", "22021");

    [DoesNotReturn]
    public static void UnsupportedProtocol(int major, int minor) =>
        throw new PgProtocolException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"unsupported frontend protocol {major}.{minor}: server supports protocol 3.x"),
            SqlStates.FeatureNotSupported);

    /// <summary>A message the writer was asked to produce does not fit the protocol's limits.</summary>
    [DoesNotReturn]
    public static void MessageTooLarge(string messageName) =>
        throw new PgProtocolException($"{messageName} message would exceed the protocol's 2 GB message limit", SqlStates.ProgramLimitExceeded);

    [DoesNotReturn]
    public static void ArgumentOutOfRange(string paramName, string message) =>
        throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn]
    public static void NulInString(string paramName) =>
        throw new ArgumentException("PostgreSQL protocol strings cannot contain a NUL character", paramName);
}
