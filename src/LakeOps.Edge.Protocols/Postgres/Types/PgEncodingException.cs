using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// An Arrow value that cannot be sent in the requested PostgreSQL form (a ragged nested list as a binary
/// array, a timestamp outside the int64 microsecond range, malformed uuid text sent as binary uuid).
/// Thrown by <see cref="PgRowEncoder.WriteDataRow"/>; the session reports it as an ErrorResponse with
/// <see cref="SqlState"/> and ends the result.
/// </summary>
public sealed class PgEncodingException : Exception
{
    public PgEncodingException()
        : this(SqlStates.DataException, "value cannot be encoded")
    {
    }

    public PgEncodingException(string message)
        : this(SqlStates.DataException, message)
    {
    }

    public PgEncodingException(string message, Exception innerException)
        : base(message, innerException)
    {
        SqlState = SqlStates.DataException;
    }

    public PgEncodingException(string sqlState, string message)
        : base(message)
    {
        SqlState = sqlState;
    }

    /// <summary>The SQLSTATE to report.</summary>
    public string SqlState { get; }
}
