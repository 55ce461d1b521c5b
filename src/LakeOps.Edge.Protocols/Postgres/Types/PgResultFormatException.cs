using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// The result format codes of a Bind message do not fit the result (wrong count, or a code other than
/// 0 text / 1 binary). PostgreSQL reports this as a protocol violation (<c>08P01</c>).
/// </summary>
public sealed class PgResultFormatException : ArgumentException
{
    public PgResultFormatException()
        : base("invalid result format codes")
    {
    }

    public PgResultFormatException(string message)
        : base(message)
    {
    }

    public PgResultFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The SQLSTATE to report.</summary>
#pragma warning disable CA1822 // An instance property so callers handle every PG exception the same way.
    public string SqlState => SqlStates.ProtocolViolation;
#pragma warning restore CA1822
}
