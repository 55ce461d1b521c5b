using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// Turns DuckDB errors into <see cref="EngineException"/>s with the SQLSTATE a PostgreSQL client expects.
/// DuckDB's own message is kept (it starts with the error class, e.g. "Catalog Error: ...").
/// Prepare and pending errors carry only text, so the class is read from the message prefix when
/// DuckDB gives no error type.
/// </summary>
internal static class DuckDbErrors
{
    public const string CanceledMessage = "canceling statement due to user request";

    public static EngineException Create(string? message, DuckDbErrorType type = DuckDbErrorType.Invalid)
    {
        message = string.IsNullOrEmpty(message) ? "DuckDB reported an error without a message" : message;
        if (type == DuckDbErrorType.Invalid)
        {
            type = TypeFromPrefix(message);
        }

        if (type == DuckDbErrorType.Interrupt)
        {
            return new EngineException(CanceledMessage, SqlStates.QueryCanceled);
        }

        return new EngineException(message, SqlState(type, message));
    }

    internal static string SqlState(DuckDbErrorType type, string message)
    {
        // Read-only databases reject writes with differently typed errors; PG calls this 25006.
        if (Contains(message, "read-only mode") || Contains(message, "read only mode"))
        {
            return "25006";
        }

        return type switch
        {
            DuckDbErrorType.Parser or DuckDbErrorType.Syntax => SqlStates.SyntaxError,
            DuckDbErrorType.Catalog => CatalogState(message),
            DuckDbErrorType.Binder => BinderState(message),
            DuckDbErrorType.Constraint => ConstraintState(message),
            DuckDbErrorType.Conversion => SqlStates.InvalidTextRepresentation,
            DuckDbErrorType.MismatchType or DuckDbErrorType.InvalidType => "42804",
            DuckDbErrorType.OutOfRange or DuckDbErrorType.Decimal => SqlStates.NumericValueOutOfRange,
            DuckDbErrorType.DivideByZero => SqlStates.DivisionByZero,
            DuckDbErrorType.Transaction => TransactionState(message),
            DuckDbErrorType.Permission => "42501",
            DuckDbErrorType.NotImplemented => SqlStates.FeatureNotSupported,
            DuckDbErrorType.OutOfMemory => "53200",
            DuckDbErrorType.IO => "58030",
            DuckDbErrorType.InvalidInput => InvalidInputState(message),
            DuckDbErrorType.ParameterNotResolved => "42P18",
            DuckDbErrorType.Dependency => "2BP01",
            DuckDbErrorType.Sequence => "2200H",
            DuckDbErrorType.Interrupt => SqlStates.QueryCanceled,
            _ => Contains(message, "Current transaction is aborted") ? SqlStates.InFailedSqlTransaction : SqlStates.InternalError,
        };
    }

    private static string CatalogState(string message)
    {
        if (Contains(message, "already exists"))
        {
            return Contains(message, "Table with name") ? SqlStates.DuplicateTable : "42710";
        }

        if (Contains(message, "Function with name") || Contains(message, "Macro Function"))
        {
            return SqlStates.UndefinedFunction;
        }

        if (Contains(message, "Table with name") || Contains(message, "View with name") || Contains(message, "Table Function"))
        {
            return Contains(message, "Table Function") ? SqlStates.UndefinedFunction : SqlStates.UndefinedTable;
        }

        if (Contains(message, "Schema with name"))
        {
            return "3F000";
        }

        return SqlStates.UndefinedObject;
    }

    private static string BinderState(string message)
    {
        if (Contains(message, "column") && (Contains(message, "not found") || Contains(message, "does not have a column")))
        {
            return SqlStates.UndefinedColumn;
        }

        if (Contains(message, "No function matches") || Contains(message, "function"))
        {
            return SqlStates.UndefinedFunction;
        }

        if (Contains(message, "Referenced table"))
        {
            return SqlStates.UndefinedTable;
        }

        if (Contains(message, "GROUP BY"))
        {
            return "42803";
        }

        return "42000";
    }

    private static string ConstraintState(string message)
    {
        if (Contains(message, "NOT NULL"))
        {
            return SqlStates.NotNullViolation;
        }

        if (Contains(message, "Duplicate key") || Contains(message, "unique") || Contains(message, "PRIMARY KEY"))
        {
            return SqlStates.UniqueViolation;
        }

        if (Contains(message, "foreign key"))
        {
            return "23503";
        }

        if (Contains(message, "CHECK constraint"))
        {
            return "23514";
        }

        return SqlStates.ConstraintViolation;
    }

    private static string TransactionState(string message)
    {
        if (Contains(message, "Current transaction is aborted"))
        {
            return SqlStates.InFailedSqlTransaction;
        }

        if (Contains(message, "within a transaction"))
        {
            return SqlStates.ActiveSqlTransaction;
        }

        if (Contains(message, "no transaction is active"))
        {
            return SqlStates.NoActiveSqlTransaction;
        }

        if (Contains(message, "Conflict"))
        {
            return "40001";
        }

        return SqlStates.InvalidTransactionState;
    }

    private static string InvalidInputState(string message) =>
        Contains(message, "Current transaction is aborted") ? SqlStates.InFailedSqlTransaction : SqlStates.InvalidParameterValue;

    /// <summary>DuckDB messages start with "&lt;Class&gt; Error: ".</summary>
    internal static DuckDbErrorType TypeFromPrefix(string message)
    {
        int end = message.IndexOf(" Error:", StringComparison.Ordinal);
        if (end <= 0)
        {
            return DuckDbErrorType.Invalid;
        }

        ReadOnlySpan<char> kind = message.AsSpan(0, end);
        return kind switch
        {
            "Parser" => DuckDbErrorType.Parser,
            "Syntax" => DuckDbErrorType.Syntax,
            "Catalog" => DuckDbErrorType.Catalog,
            "Binder" => DuckDbErrorType.Binder,
            "Constraint" => DuckDbErrorType.Constraint,
            "Conversion" => DuckDbErrorType.Conversion,
            "Out of Range" => DuckDbErrorType.OutOfRange,
            "Divide by Zero" or "Division by Zero" => DuckDbErrorType.DivideByZero,
            "Mismatch Type" => DuckDbErrorType.MismatchType,
            "TransactionContext" or "Transaction" => DuckDbErrorType.Transaction,
            "INTERRUPT" or "Interrupt" => DuckDbErrorType.Interrupt,
            "Permission" => DuckDbErrorType.Permission,
            "Not implemented" => DuckDbErrorType.NotImplemented,
            "Out of Memory" => DuckDbErrorType.OutOfMemory,
            "IO" => DuckDbErrorType.IO,
            "Invalid Input" => DuckDbErrorType.InvalidInput,
            "Dependency" => DuckDbErrorType.Dependency,
            "Sequence" => DuckDbErrorType.Sequence,
            "Invalid type" => DuckDbErrorType.InvalidType,
            "Decimal" => DuckDbErrorType.Decimal,
            "Parameter Not Resolved" => DuckDbErrorType.ParameterNotResolved,
            _ => DuckDbErrorType.Invalid,
        };
    }

    private static bool Contains(string message, string part) => message.Contains(part, StringComparison.OrdinalIgnoreCase);
}
