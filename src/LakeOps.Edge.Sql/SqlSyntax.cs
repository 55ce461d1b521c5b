namespace LakeOps.Edge.Sql;

/// <summary>
/// The lexical rules of a client's SQL. Named apart from the engine-side
/// <c>LakeOps.Edge.Core.Engines.SqlDialect</c> so files that import both namespaces stay unambiguous.
/// </summary>
public enum SqlSyntax : byte
{
    /// <summary>PostgreSQL (and DuckDB): "identifiers", E'' strings, $tag$ quotes, nested /* */ comments.</summary>
    Postgres,

    /// <summary>MySQL: `identifiers`, "strings", backslash escapes, # comments, -- only before a space, flat /* */ comments.</summary>
    MySql,

    /// <summary>Trino: "identifiers", '' strings without backslash escapes, flat /* */ comments, no dollar quotes.</summary>
    Trino,
}
