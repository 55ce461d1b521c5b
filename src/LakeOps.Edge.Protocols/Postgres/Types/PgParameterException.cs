using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// A Bind parameter value that cannot be decoded: <c>22P03</c> for bad binary input, <c>22P02</c> for
/// unparsable text, <c>22003</c>/<c>22008</c> for values out of range. The message names the parameter
/// type and the problem, like PostgreSQL's own input function errors.
/// </summary>
public sealed class PgParameterException : Exception
{
    public PgParameterException()
        : this(SqlStates.InvalidTextRepresentation, "invalid parameter value")
    {
    }

    public PgParameterException(string message)
        : this(SqlStates.InvalidTextRepresentation, message)
    {
    }

    public PgParameterException(string message, Exception innerException)
        : base(message, innerException)
    {
        SqlState = SqlStates.InvalidTextRepresentation;
    }

    public PgParameterException(string sqlState, string message)
        : base(message)
    {
        SqlState = sqlState;
    }

    public PgParameterException(string sqlState, string message, Exception innerException)
        : base(message, innerException)
    {
        SqlState = sqlState;
    }

    /// <summary>The SQLSTATE to report.</summary>
    public string SqlState { get; }
}
