using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>A MySQL error as the client sees it: number, SQLSTATE, message.</summary>
internal readonly record struct MySqlError(ushort Code, string SqlState, string Message)
{
    public static MySqlError Of(ushort code, string message) => new(code, MySqlErrorCode.SqlStateOf(code), message);
}

/// <summary>Maps engine errors (SQLSTATEs) to MySQL error numbers and SQLSTATEs.</summary>
internal static class MySqlErrorMapping
{
    /// <summary>
    /// Key in <see cref="Exception.Data"/> under which MySQL-wire engines keep the server's own error number;
    /// when present it is reported unchanged.
    /// </summary>
    public const string EngineErrorCodeKey = "MySqlErrorCode";

    public const string InterruptedMessage = "Query execution was interrupted";

    public const string TimeoutMessage = "Query execution was interrupted, maximum statement execution time exceeded";

    /// <summary>The ERR for an engine exception; <paramref name="timedOut"/> tells a statement timeout from a KILL.</summary>
    public static MySqlError FromEngine(EngineException exception, bool timedOut)
    {
        if (StatementAdmission.MySqlErrorCode(exception) is int refused and > 0)
        {
            // Admission: 1040 (08004) when the group is full, 1317 (70100) after the queue timeout; the gate's text.
            return MySqlError.Of((ushort)refused, exception.Message);
        }

        if (ClusterFailover.IsNoCluster(exception))
        {
            // No member of the group can take work: 2003 as for an unreachable cluster, with every member's state.
            return MySqlError.Of(MySqlErrorCode.ConnectionHostError, exception.Message);
        }

        if (exception.SqlState == SqlStates.QueryCanceled)
        {
            return timedOut
                ? MySqlError.Of(MySqlErrorCode.QueryTimeout, TimeoutMessage)
                : MySqlError.Of(MySqlErrorCode.QueryInterrupted, InterruptedMessage);
        }

        if (exception.Data[EngineErrorCodeKey] is int code and > 0 and <= ushort.MaxValue)
        {
            return new MySqlError((ushort)code, exception.SqlState.Length == 5 ? exception.SqlState : MySqlErrorCode.SqlStateOf((ushort)code), exception.Message);
        }

        return FromSqlState(exception.SqlState, exception.Message);
    }

    /// <summary>The MySQL error closest to a SQLSTATE (PostgreSQL/DuckDB codes); 1105 HY000 when nothing fits.</summary>
    public static MySqlError FromSqlState(string sqlState, string message)
    {
        ushort code = sqlState switch
        {
            SqlStates.SyntaxError => MySqlErrorCode.ParseError,
            SqlStates.UndefinedTable => MySqlErrorCode.NoSuchTable,
            SqlStates.UndefinedColumn => MySqlErrorCode.UnknownColumn,
            SqlStates.UniqueViolation => MySqlErrorCode.DuplicateEntry,
            SqlStates.NotNullViolation => MySqlErrorCode.BadNull,
            SqlStates.DivisionByZero => MySqlErrorCode.DivisionByZero,
            SqlStates.NumericValueOutOfRange => MySqlErrorCode.DataOutOfRange,
            SqlStates.DuplicateTable => MySqlErrorCode.TableExists,
            SqlStates.InvalidCatalogName => MySqlErrorCode.UnknownDatabase,
            SqlStates.QueryCanceled => MySqlErrorCode.QueryInterrupted,
            SqlStates.TooManyConnections => MySqlErrorCode.TooManyConnections,
            SqlStates.InvalidTextRepresentation or SqlStates.InvalidParameterValue => MySqlErrorCode.TruncatedWrongValue,
            SqlStates.FeatureNotSupported => MySqlErrorCode.NotSupportedYet,
            SqlStates.ConnectionFailure or SqlStates.ConnectionException or SqlStates.ClientUnableToConnect => MySqlErrorCode.ServerLost,
            SqlStates.CannotConnectNow => MySqlErrorCode.ConnectionHostError,
            _ => MySqlErrorCode.UnknownError,
        };

        return MySqlError.Of(code, message);
    }
}
