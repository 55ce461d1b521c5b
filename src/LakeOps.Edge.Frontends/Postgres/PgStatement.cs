using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Postgres.Catalog;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>Who answers a statement: the engine, or the gateway itself.</summary>
internal enum PgStatementKind
{
    /// <summary>Runs on the engine.</summary>
    Engine,

    /// <summary>Empty statement: EmptyQueryResponse.</summary>
    Empty,

    /// <summary>Answered from the gateway's emulated catalog (driver start-up queries).</summary>
    Emulated,

    /// <summary>SET of a parameter the gateway owns.</summary>
    SetParameter,

    /// <summary>SHOW of a parameter the gateway owns (or SHOW ALL).</summary>
    ShowParameter,

    /// <summary>RESET of a gateway parameter, or RESET ALL.</summary>
    ResetParameter,

    /// <summary>DISCARD ALL: closes prepared statements and portals and resets parameters.</summary>
    DiscardAll,
}

/// <summary>A parsed statement (the unnamed one, a named prepared statement, or one of a simple query).</summary>
internal sealed record PgStatement : IDisposable
{
    public required string Sql { get; init; }

    public required StatementInfo Info { get; init; }

    public required PgStatementKind Kind { get; init; }

    /// <summary>The engine's prepared statement (extended protocol, engine statements only).</summary>
    public IPreparedStatement? Prepared { get; init; }

    /// <summary>The SQL sent to the engine (after dialect translation).</summary>
    public string EngineSql { get; init; } = "";

    public int[] ParameterOids { get; init; } = [];

    /// <summary>Result schema known before execution; null when the statement returns no rows.</summary>
    public Schema? ResultSchema { get; init; }

    public EmulatedResult? Emulated { get; init; }

    /// <summary>Parameter name for SET/SHOW/RESET ("all" for SHOW ALL / RESET ALL).</summary>
    public string ParameterName { get; init; } = "";

    /// <summary>Value for SET (null = DEFAULT).</summary>
    public string? ParameterValue { get; init; }

    /// <summary>True once the client received this statement's RowDescription (drivers then cache it).</summary>
    public bool DescribedToClient { get; set; }

    /// <summary>The engine session (group) the statement was routed to; null without per-statement routing.</summary>
    public LakeOps.Edge.Frontends.Routing.GroupEngine? Target { get; init; }

    /// <summary>The routing decision behind <see cref="Target"/> (or the session's login decision), for the audit record.</summary>
    public LakeOps.Edge.Routing.RouteDecision Decision { get; init; }

    public void Dispose() => Prepared?.Dispose();
}

/// <summary>A bound statement ready to execute, possibly across several Execute messages.</summary>
internal sealed class PgPortal : IAsyncDisposable
{
    public required string Name { get; init; }

    public required PgStatement Statement { get; init; }

    public required ParameterValue[] Parameters { get; init; }

    public required short[] ResultFormats { get; init; }

    /// <summary>The open result once execution started (Describe or first Execute).</summary>
    public PgResultCursor? Cursor { get; set; }

    /// <summary>Command tag for statements that return no rows, computed when they ran.</summary>
    public string? CompletedTag { get; set; }

    public bool Started => Cursor is not null || CompletedTag is not null;

    public async ValueTask DisposeAsync()
    {
        if (Cursor is { } cursor)
        {
            Cursor = null;
            await cursor.DisposeAsync().ConfigureAwait(false);
        }
    }
}
