using System.Globalization;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>Turns the server's ERR packets into <see cref="EngineException"/>s.</summary>
public static class MySqlErrors
{
    /// <summary>Key in <see cref="Exception.Data"/> holding the server's MySQL error number (an int).</summary>
    public const string ErrorCodeKey = "MySqlErrorCode";

    /// <summary>ER_SERVER_SHUTDOWN.</summary>
    private const ushort ServerShutdown = 1053;

    /// <summary>ER_QUERY_INTERRUPTED (KILL QUERY).</summary>
    private const ushort QueryInterrupted = 1317;

    /// <summary>MariaDB ER_CONNECTION_KILLED (KILL of the connection).</summary>
    private const ushort ConnectionKilled = 1927;

    /// <summary>MariaDB ER_STATEMENT_TIMEOUT (max_statement_time).</summary>
    private const ushort MariaDbStatementTimeout = 1969;

    /// <summary>MySQL ER_QUERY_TIMEOUT (max_execution_time).</summary>
    private const ushort MySqlQueryTimeout = 3024;

    /// <summary>
    /// The server's error with its SQLSTATE and message. Errors that end the connection (KILL, shutdown,
    /// SQLSTATE class 08) mark it broken and become 08006 naming the cluster; interrupted statements become 57014.
    /// </summary>
    public static EngineException FromErr(MySqlServerConnection connection, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(connection);
        MySqlErrPacket err = MySqlErrPacket.Parse(payload);
        EngineException exception;
        if (err.ErrorCode is ConnectionKilled or ServerShutdown || err.SqlState.StartsWith("08", StringComparison.Ordinal))
        {
            connection.MarkBroken();
            exception = new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"cluster '{connection.ClusterName}': the server ended the connection: {err.Message}"),
                SqlStates.ConnectionFailure);
        }
        else if (err.ErrorCode is QueryInterrupted or MariaDbStatementTimeout or MySqlQueryTimeout)
        {
            exception = new EngineException(err.Message, SqlStates.QueryCanceled);
        }
        else
        {
            exception = new EngineException(err.Message, err.SqlState);
        }

        exception.Data[ErrorCodeKey] = (int)err.ErrorCode;
        return exception;
    }
}
