using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>The <c>error</c> object of a failed query (Trino's ErrorCode: code, name, type).</summary>
public sealed record TrinoError(string Message, int ErrorCode, string ErrorName, string ErrorType, string? SqlState = null)
{
    public const string UserError = "USER_ERROR";
    public const string InternalError = "INTERNAL_ERROR";
    public const string InsufficientResources = "INSUFFICIENT_RESOURCES";
    public const string ExternalType = "EXTERNAL";

    public static TrinoError GenericUser(string message, string? sqlState = null) => new(message, 0, "GENERIC_USER_ERROR", UserError, sqlState);

    public static TrinoError Syntax(string message, string? sqlState = null) => new(message, 1, "SYNTAX_ERROR", UserError, sqlState);

    public static TrinoError UserCanceled(string message) => new(message, 3, "USER_CANCELED", UserError, SqlStates.QueryCanceled);

    public static TrinoError PermissionDenied(string message) => new(message, 4, "PERMISSION_DENIED", UserError, "42501");

    public static TrinoError NotFound(string message) => new(message, 5, "NOT_FOUND", UserError);

    public static TrinoError NotSupported(string message, string? sqlState = null) => new(message, 13, "NOT_SUPPORTED", UserError, sqlState);

    public static TrinoError Internal(string message, string? sqlState = null) => new(message, 65536, "GENERIC_INTERNAL_ERROR", InternalError, sqlState);

    public static TrinoError Resources(string message, string? sqlState = null) => new(message, 131072, "GENERIC_INSUFFICIENT_RESOURCES", InsufficientResources, sqlState);

    public static TrinoError QueueFull(string message, string? sqlState = null) => new(message, 131074, "QUERY_QUEUE_FULL", InsufficientResources, sqlState);

    public static TrinoError TimeLimit(string message, string? sqlState = null) => new(message, 131075, "EXCEEDED_TIME_LIMIT", InsufficientResources, sqlState);

    public static TrinoError External(string message, string? sqlState = null) => new(message, 16777216, "GENERIC_EXTERNAL", ExternalType, sqlState);

    /// <summary>
    /// The Trino error for an engine's SQLSTATE: 42601 syntax, other class 42/22/23/0A user errors, 53xxx
    /// insufficient resources, 57014 user cancel, class 08 (cannot reach the engine) external, rest internal.
    /// </summary>
    public static TrinoError FromSqlState(string message, string sqlState)
    {
        ArgumentNullException.ThrowIfNull(sqlState);
        if (sqlState == "42601")
        {
            return Syntax(message, sqlState);
        }

        if (sqlState == "42501")
        {
            return new TrinoError(message, 4, "PERMISSION_DENIED", UserError, sqlState);
        }

        if (sqlState == SqlStates.QueryCanceled)
        {
            return new TrinoError(message, 3, "USER_CANCELED", UserError, sqlState);
        }

        if (sqlState == "22012")
        {
            return new TrinoError(message, 8, "DIVISION_BY_ZERO", UserError, sqlState);
        }

        return sqlState[..Math.Min(2, sqlState.Length)] switch
        {
            "0A" => NotSupported(message, sqlState),
            "42" or "22" or "23" or "25" or "3D" or "3F" or "40" or "44" => GenericUser(message, sqlState),
            "53" => Resources(message, sqlState),
            "08" => External(message, sqlState),
            _ => Internal(message, sqlState),
        };
    }
}
