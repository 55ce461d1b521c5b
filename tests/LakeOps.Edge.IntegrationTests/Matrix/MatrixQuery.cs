namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>The logical type of a result column: tells the drivers how to turn what a client shows into canonical text.</summary>
public enum ColumnKind
{
    /// <summary>Any integer width; canonical: decimal digits with an optional minus.</summary>
    Int,

    /// <summary>Exact decimal; canonical: the digits with the scale the engine returned (trailing zeros kept).</summary>
    Decimal,

    /// <summary>Binary floating point; canonical: .NET round-trip ("R") formatting.</summary>
    Double,

    /// <summary>Boolean; canonical: true / false (MySQL-wire engines have no boolean: TINYINT(1) 1/0 counts as true/false).</summary>
    Bool,

    /// <summary>Character data; canonical: the string itself.</summary>
    Text,

    /// <summary>Date; canonical: yyyy-MM-dd.</summary>
    Date,

    /// <summary>Timestamp without time zone; canonical: yyyy-MM-dd HH:mm:ss.ffffff.</summary>
    Timestamp,

    /// <summary>Binary data; canonical: lowercase hex without prefix.</summary>
    Bytes,
}

public enum QueryShape
{
    /// <summary>Rows compared cell by cell.</summary>
    Rows,

    /// <summary>The statement must fail with the client's native error naming <see cref="MatrixQuery.ErrorMentions"/>; the same connection then runs <c>SELECT 1 AS one</c>.</summary>
    Error,

    /// <summary>A result too big to compare cell by cell: compared by row count and checksums of the single integer column.</summary>
    Large,
}

public sealed record MatrixColumn(string Name, ColumnKind Kind);

/// <summary>One statement of the shared query set: the same SQL text for every client and every engine.</summary>
public sealed record MatrixQuery(string Name, string Sql, QueryShape Shape, IReadOnlyList<MatrixColumn> Columns, string? ErrorMentions = null)
{
    /// <summary>Statement run on the same connection after an expected error, to show the session survived it.</summary>
    public const string AfterErrorSql = "SELECT 1 AS one";

    public static readonly MatrixColumn[] AfterErrorColumns = [new("one", ColumnKind.Int)];

    public override string ToString() => Name;
}
