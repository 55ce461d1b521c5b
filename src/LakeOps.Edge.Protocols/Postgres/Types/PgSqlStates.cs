namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>SQLSTATE codes the type codecs report that the shared <see cref="Core.Engines.SqlStates"/> lacks.</summary>
internal static class PgSqlStates
{
    /// <summary>datetime_field_overflow: a date/time/interval outside what PostgreSQL can represent.</summary>
    public const string DatetimeFieldOverflow = "22008";

    /// <summary>array_subscript_error: a multi-dimensional array whose sub-arrays differ in length.</summary>
    public const string ArraySubscriptError = "2202E";
}
