namespace LakeOps.Edge.Sql;

/// <summary>The coarse statement kind that routing rules select on (<c>statement: [select, ddl]</c>).</summary>
public enum StatementCategory : byte
{
    /// <summary>SELECT, TABLE, VALUES, and WITH ... SELECT.</summary>
    Select,

    /// <summary>INSERT (MySQL REPLACE too), also behind WITH.</summary>
    Insert,
    Update,
    Delete,
    Merge,

    /// <summary>CREATE, DROP, ALTER, TRUNCATE, RENAME, COMMENT ON, GRANT, REVOKE.</summary>
    Ddl,

    /// <summary>Everything else: SET, SHOW, EXPLAIN, USE, DESCRIBE, transaction control, COPY, CALL, empty text.</summary>
    Utility,
}
