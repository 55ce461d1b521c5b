namespace LakeOps.Edge.Sql;

/// <summary>What a statement does, from its leading keywords.</summary>
public enum StatementKind
{
    Select,
    Insert,
    Update,
    Delete,
    Begin,
    Commit,
    Rollback,
    Set,
    Show,
    Reset,
    Discard,
    Create,
    Drop,
    Alter,
    Copy,
    Explain,

    /// <summary>A bare VALUES list (PostgreSQL tags it "SELECT n").</summary>
    Values,

    /// <summary>WITH whose main statement could not be found; a WITH ... SELECT is <see cref="Select"/>.</summary>
    With,
    Prepare,
    Execute,
    Deallocate,
    Listen,

    /// <summary>Anything not listed (engine-specific commands such as PRAGMA, ATTACH, DESCRIBE).</summary>
    Other,

    /// <summary>Only whitespace and comments: answered with EmptyQueryResponse.</summary>
    Empty,
    Merge,
    Truncate,
    Savepoint,
    Release,

    /// <summary>ROLLBACK TO [SAVEPOINT] x: tagged "ROLLBACK" but the transaction stays open.</summary>
    RollbackToSavepoint,

    /// <summary>CREATE TABLE ... AS / CREATE MATERIALIZED VIEW ... AS / SELECT-fed creates: PostgreSQL tags these "SELECT n".</summary>
    CreateTableAs,
    Notify,
    Unlisten,
    Declare,
    Fetch,
    Move,
    Close,
    Grant,
    Revoke,
    Call,
    Do,
    Vacuum,
    Analyze,
}

/// <summary>
/// A statement's kind and the CommandComplete tag PostgreSQL sends for it. For row-count statements
/// (Select, Insert, Update, Delete, Merge, Values, CreateTableAs, Copy, Fetch, Move) the tag is the
/// bare keyword ("SELECT", "INSERT", ...) and the session appends the count ("INSERT 0 n", "SELECT n").
/// </summary>
public readonly record struct StatementInfo(StatementKind Kind, string CommandTag);
