namespace LakeOps.Edge.Core.Engines;

/// <summary>
/// One engine instance (a configured cluster). Thread-safe; creates one <see cref="IEngineSession"/>
/// per client session so engine-side state (SET, temp tables, transactions) follows the client.
/// </summary>
public interface IEngine : IAsyncDisposable
{
    string ClusterName { get; }

    /// <summary>The SQL dialect the engine speaks; the front door translates when it differs.</summary>
    SqlDialect Dialect { get; }

    ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken);
}

/// <summary>What the engine needs to know about the client session it serves.</summary>
public sealed record EngineSessionOptions(string User, string Database, string ApplicationName);

public enum SqlDialect
{
    Postgres,
    DuckDb,
    MySql,

    /// <summary>Trino SQL (engine trino): statements go to the coordinator as the client wrote them.</summary>
    Trino,
}

/// <summary>
/// A client's session on one engine. Not thread-safe except <see cref="Cancel"/>, which may be
/// called from any thread while a statement runs. A new session's time zone is UTC.
/// </summary>
public interface IEngineSession : IAsyncDisposable
{
    /// <summary>Prepares one statement: parameter types and result schema are known before execution.</summary>
    ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Runs one statement without parameters.</summary>
    ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Interrupts the statement that is running now, if any. Safe from any thread.</summary>
    void Cancel();
}

/// <summary>A prepared statement on an engine session. Disposing releases it on the engine.</summary>
public interface IPreparedStatement : IDisposable
{
    string Sql { get; }

    /// <summary>Parameter types as Arrow types; <c>null</c> entries mean the engine could not infer the type.</summary>
    IReadOnlyList<Apache.Arrow.Types.IArrowType?> ParameterTypes { get; }

    /// <summary>The schema of the rows the statement returns; empty for statements that return none.</summary>
    Apache.Arrow.Schema ResultSchema { get; }

    bool ReturnsRows { get; }

    ValueTask<IQueryResult> ExecuteAsync(ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken);
}
