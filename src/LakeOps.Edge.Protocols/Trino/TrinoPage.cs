namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// What one QueryResults page says about its query, read by <see cref="TrinoResultsReader"/> (everything
/// except the rows in <c>data</c>). Fields a page leaves out stay null / -1.
/// </summary>
public sealed class TrinoPageInfo
{
    public string? Id { get; set; }

    public string? InfoUri { get; set; }

    public string? PartialCancelUri { get; set; }

    /// <summary>Where to GET the next page; null when the query is done (FINISHED or FAILED).</summary>
    public string? NextUri { get; set; }

    /// <summary>The columns, once the coordinator knows them (repeated on every later page); not read without a row sink.</summary>
    public IReadOnlyList<TrinoPageColumn>? Columns { get; set; }

    /// <summary>stats.state: QUEUED, PLANNING, STARTING, RUNNING, FINISHING, FINISHED, FAILED, ...</summary>
    public string? State { get; set; }

    public long ElapsedTimeMillis { get; set; } = -1;

    public long ProcessedRows { get; set; } = -1;

    public long ProcessedBytes { get; set; } = -1;

    public TrinoPageError? Error { get; set; }

    /// <summary>"INSERT", "CREATE TABLE", "SET SESSION", ...: set for statements that are not queries.</summary>
    public string? UpdateType { get; set; }

    /// <summary>Rows an update changed; -1 when the page has none.</summary>
    public long UpdateCount { get; set; } = -1;

    /// <summary>Whether the page had a <c>data</c> member (rows were read or skipped).</summary>
    public bool HasData { get; set; }

    /// <summary>Whether the page had a <c>columns</c> member (also when it was skipped unparsed: no row sink).</summary>
    public bool HasColumns { get; set; }

    public void Clear()
    {
        Id = InfoUri = PartialCancelUri = NextUri = State = UpdateType = null;
        Columns = null;
        Error = null;
        ElapsedTimeMillis = ProcessedRows = ProcessedBytes = UpdateCount = -1;
        HasData = false;
        HasColumns = false;
    }
}

/// <summary>One entry of <c>columns</c>: name and parsed type (<see cref="TrinoType.Name"/> is the type as Trino printed it).</summary>
public sealed record TrinoPageColumn(string Name, TrinoType Type);

/// <summary>
/// The <c>error</c> member of a FAILED page. <see cref="ErrorType"/> is USER_ERROR, INTERNAL_ERROR,
/// INSUFFICIENT_RESOURCES or EXTERNAL; <see cref="ErrorName"/> the specific code (SYNTAX_ERROR, TABLE_NOT_FOUND, ...).
/// </summary>
public sealed record TrinoPageError(string Message, int ErrorCode, string? ErrorName, string? ErrorType, string? SqlState, int LineNumber, int ColumnNumber);
