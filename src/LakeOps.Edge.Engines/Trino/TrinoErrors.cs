using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>Turns Trino query errors (errorName / errorType of a FAILED page) into engine errors with a fitting SQLSTATE.</summary>
internal static class TrinoErrors
{
    public const string CanceledMessage = "canceling statement due to user request";

    public static EngineException FromPage(TrinoPageError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new EngineException(error.Message, SqlState(error));
    }

    public static string SqlState(TrinoPageError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.SqlState is { Length: 5 } given)
        {
            return given;
        }

        return error.ErrorName switch
        {
            "SYNTAX_ERROR" => SqlStates.SyntaxError,
            "TABLE_NOT_FOUND" or "MISSING_TABLE" => SqlStates.UndefinedTable,
            "COLUMN_NOT_FOUND" or "MISSING_COLUMN_NAME" or "MISSING_COLUMN_ALIASES" => SqlStates.UndefinedColumn,
            "FUNCTION_NOT_FOUND" or "FUNCTION_IMPLEMENTATION_MISSING" => SqlStates.UndefinedFunction,
            "CATALOG_NOT_FOUND" or "MISSING_CATALOG_NAME" => SqlStates.InvalidCatalogName,
            "SCHEMA_NOT_FOUND" or "MISSING_SCHEMA_NAME" => "3F000",
            "TABLE_ALREADY_EXISTS" => SqlStates.DuplicateTable,
            "SCHEMA_ALREADY_EXISTS" => "42P06",
            "ALREADY_EXISTS" => "42710",
            "PERMISSION_DENIED" => SqlStates.InsufficientPrivilege,
            "DIVISION_BY_ZERO" => SqlStates.DivisionByZero,
            "NUMERIC_VALUE_OUT_OF_RANGE" => SqlStates.NumericValueOutOfRange,
            "INVALID_CAST_ARGUMENT" => SqlStates.InvalidTextRepresentation,
            "INVALID_FUNCTION_ARGUMENT" or "INVALID_ARGUMENTS" => SqlStates.InvalidParameterValue,
            "TYPE_MISMATCH" => "42804",
            "AMBIGUOUS_NAME" => "42702",
            "NOT_SUPPORTED" => SqlStates.FeatureNotSupported,
            "USER_CANCELED" or "ADMINISTRATIVELY_KILLED" or "ADMINISTRATIVELY_PREEMPTED" or "EXCEEDED_TIME_LIMIT" or "EXCEEDED_CPU_LIMIT" => SqlStates.QueryCanceled,
            "NOT_FOUND" when error.Message.Contains("Prepared statement", StringComparison.OrdinalIgnoreCase) => SqlStates.InvalidSqlStatementName,
            "QUERY_QUEUE_FULL" or "QUERY_REJECTED" => SqlStates.TooManyConnections,
            "TRANSACTION_ALREADY_ABORTED" => SqlStates.InFailedSqlTransaction,
            "UNKNOWN_TRANSACTION" or "NOT_IN_TRANSACTION" => SqlStates.NoActiveSqlTransaction,
            "CONSTRAINT_VIOLATION" => SqlStates.ConstraintViolation,
            _ => error.ErrorType switch
            {
                "USER_ERROR" => "42000",
                "INSUFFICIENT_RESOURCES" => "53000",
                _ => SqlStates.InternalError,
            },
        };
    }
}
