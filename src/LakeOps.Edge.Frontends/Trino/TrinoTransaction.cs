using System.Diagnostics;
using System.Text.RegularExpressions;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>What <see cref="TrinoTransaction.TryEnter"/> found.</summary>
internal enum TrinoTransactionEntry
{
    Entered,

    /// <summary>Another query of the transaction is running.</summary>
    Busy,

    /// <summary>The transaction ended (COMMIT, ROLLBACK, sweep, stop) meanwhile.</summary>
    Closed,
}

/// <summary>
/// One explicit Trino transaction (START TRANSACTION .. COMMIT / ROLLBACK) on the cluster START TRANSACTION was
/// routed to: on the Arrow path an engine session inside an engine transaction (<see cref="Engine"/>); on a Trino
/// cluster the coordinator's own transaction (<see cref="Upstream"/>, its id kept here and swapped in for Edge's
/// in the X-Trino-Transaction-Id the coordinator sees). Its queries run one at a time (<see cref="TryEnter"/> /
/// <see cref="Exit"/>); a failed query aborts it (rolled back at once, as Trino fails the transaction), after which
/// only ROLLBACK or COMMIT (an error) are accepted. Bound to its user; its id is 128 random bits, like a query id.
/// </summary>
internal sealed class TrinoTransaction : ITrinoRegistryEntry
{
    private const int Free = 0;
    private const int Running = 1;
    private const int Ended = 2;

    // Ending a transaction must not hang a page request or the listener's stop for long.
    private static readonly TimeSpan EndTimeout = TimeSpan.FromSeconds(10);

    private int _state;
    private int _ended;

    // True once an engine transaction may be open: BeginAsync sent BEGIN, or the coordinator started one.
    private bool _begun;
    private long _lastAccess = Stopwatch.GetTimestamp();

    public TrinoTransaction(string user, GroupEngine engine)
    {
        User = user;
        Engine = engine;
        Group = engine.Group;
        Cluster = engine.Cluster;
        Id = TrinoQuery.NewId();
    }

    /// <summary>A transaction the Trino coordinator of <paramref name="cluster"/> opened as <paramref name="upstreamId"/>.</summary>
    public TrinoTransaction(string user, GroupConfig group, string cluster, ITrinoHttpEngine upstream, string upstreamId, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        User = user;
        Group = group;
        Cluster = cluster;
        Upstream = upstream;
        UpstreamId = upstreamId;
        _upstreamHeaders = headers;
        Id = TrinoQuery.NewId();
        _begun = true;
    }

    public string Id { get; }

    public string User { get; }

    public GroupConfig Group { get; }

    public string Cluster { get; }

    /// <summary>Arrow path: the engine session (with its group and cluster) every query of the transaction runs on.</summary>
    public GroupEngine? Engine { get; }

    /// <summary>Trino cluster: the coordinator every query of the transaction passes through to.</summary>
    public ITrinoHttpEngine? Upstream { get; }

    /// <summary>The coordinator's transaction id.</summary>
    public string? UpstreamId { get; }

    // The client's headers of START TRANSACTION (user, catalog, source, ...), sent with COMMIT / ROLLBACK.
    private readonly IReadOnlyList<KeyValuePair<string, string>> _upstreamHeaders = [];

    /// <summary>True once a query of the transaction failed: the engine transaction is rolled back already.</summary>
    public bool IsAborted { get; private set; }

    /// <summary>The X-Trino-Schema applied on the engine session so far (each query applies it again only when it changes).</summary>
    public string? AppliedSchema { get; set; }

    /// <summary>Time since the last query of the transaction ended (or since it started).</summary>
    public TimeSpan Idle => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastAccess));

    public bool IsBusy => Volatile.Read(ref _state) == Running;

    /// <summary>Claims the session for one query; <see cref="Exit"/> gives it back.</summary>
    public TrinoTransactionEntry TryEnter() => Interlocked.CompareExchange(ref _state, Running, Free) switch
    {
        Free => TrinoTransactionEntry.Entered,
        Running => TrinoTransactionEntry.Busy,
        _ => TrinoTransactionEntry.Closed,
    };

    public void Exit()
    {
        Volatile.Write(ref _lastAccess, Stopwatch.GetTimestamp());
        Interlocked.CompareExchange(ref _state, Free, Running);
    }

    /// <summary>Claims the transaction for good (COMMIT, ROLLBACK, sweep); false while a query runs or when it is closed.</summary>
    public bool TryClose() => Interlocked.CompareExchange(ref _state, Ended, Free) == Free;

    /// <summary>Opens the engine transaction with the START TRANSACTION modes in the engine's dialect.</summary>
    public async ValueTask BeginAsync(TrinoTransactionModes modes, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _begun, true);
        foreach (string sql in modes.BeginStatements(Engine!.Dialect))
        {
            await RunAsync(sql, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask CommitAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            using var timeout = new CancellationTokenSource(EndTimeout);
            await RunAsync("COMMIT", timeout.Token).ConfigureAwait(false);
        }
    }

    public async ValueTask RollbackAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            using var timeout = new CancellationTokenSource(EndTimeout);
            await RunAsync("ROLLBACK", timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>A query of the transaction failed: Trino fails the whole transaction, so it is rolled back now.</summary>
    public async ValueTask AbortAsync()
    {
        IsAborted = true;
        try
        {
            await RollbackAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineException or TrinoUpstreamException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing the session below (or later) ends the engine transaction anyway.
            Log.Warn(EventId.SessionFailed, $"rolling back aborted Trino transaction {Id} on cluster '{Cluster}' failed: {ex.Message}");
        }
    }

    /// <summary>The sweep takes a transaction abandoned by its client (no query for the client timeout, none running).</summary>
    bool ITrinoRegistryEntry.TryClaimForSweep(TimeSpan timeout) => Idle >= timeout && TryClose();

    void ITrinoRegistryEntry.EndSweep()
    {
    }

    // Its running query (if any) is a query of the registry of queries, stopped there.
    void ITrinoRegistryEntry.Stop()
    {
    }

    /// <summary>Rolls back what is still open (nothing when BEGIN was never sent) and closes the engine session.</summary>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _state, Ended);
        if (Volatile.Read(ref _begun))
        {
            try
            {
                await RollbackAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or TrinoUpstreamException or OperationCanceledException or ObjectDisposedException)
            {
                Log.Warn(EventId.SessionFailed, $"rolling back Trino transaction {Id} on cluster '{Cluster}' failed: {ex.Message}");
            }
        }

        if (Engine is null)
        {
            return;
        }

        try
        {
            await Engine.Session.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineException or InvalidOperationException or ObjectDisposedException)
        {
            Log.Warn(EventId.SessionFailed, $"closing the engine session of Trino transaction {Id} on '{Cluster}' failed: {ex.Message}");
        }
    }

    /// <summary>A query's client headers as the coordinator must see them: with its own transaction id in place of Edge's.</summary>
    public List<KeyValuePair<string, string>> UpstreamHeaders(IEnumerable<KeyValuePair<string, string>> clientHeaders) =>
        WithTransactionId(clientHeaders, UpstreamId);

    /// <summary><paramref name="headers"/> without X-Trino-Transaction-Id, plus <paramref name="id"/> as that header when given.</summary>
    public static List<KeyValuePair<string, string>> WithTransactionId(IEnumerable<KeyValuePair<string, string>> headers, string? id)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var result = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, string> header in headers)
        {
            if (!header.Key.Equals("X-Trino-Transaction-Id", StringComparison.OrdinalIgnoreCase))
            {
                result.Add(header);
            }
        }

        if (id is not null)
        {
            result.Add(new KeyValuePair<string, string>("X-Trino-Transaction-Id", id));
        }

        return result;
    }

    private async ValueTask RunAsync(string sql, CancellationToken cancellationToken)
    {
        if (Upstream is not null)
        {
            TrinoUpstreamOutcome outcome = await TrinoUpstreamStatement.RunAsync(Upstream, sql, UpstreamHeaders(_upstreamHeaders), cancellationToken).ConfigureAwait(false);
            if (outcome.Error is { } error)
            {
                throw new TrinoUpstreamException(error);
            }

            return;
        }

        IEngineSession session = Engine!.Session;
        using (cancellationToken.Register(static s => ((IEngineSession)s!).Cancel(), session))
        {
            IQueryResult result = await session.ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
            await using (result.ConfigureAwait(false))
            {
                while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                }
            }
        }
    }
}

/// <summary>
/// The modes of <c>START TRANSACTION [mode [, ...]]</c> (Trino: <c>ISOLATION LEVEL {READ UNCOMMITTED | READ COMMITTED |
/// REPEATABLE READ | SERIALIZABLE}</c>, <c>READ ONLY</c>, <c>READ WRITE</c>) and the statements that open the
/// same transaction on each engine.
/// </summary>
internal sealed partial class TrinoTransactionModes
{
    public static TrinoTransactionModes Default { get; } = new();

    /// <summary>"SERIALIZABLE", "READ COMMITTED", ...; null when not given.</summary>
    public string? IsolationLevel { get; private init; }

    /// <summary>True READ ONLY, false READ WRITE, null when not given.</summary>
    public bool? ReadOnly { get; private init; }

    /// <summary>The modes of a START TRANSACTION statement; null when they are not Trino's syntax.</summary>
    public static TrinoTransactionModes? Parse(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        Match match = StartRegex().Match(sql.Trim().TrimEnd(';').Trim());
        if (!match.Success)
        {
            return null;
        }

        string rest = match.Groups[1].Value.Trim();
        if (rest.Length == 0)
        {
            return Default;
        }

        string? isolation = null;
        bool? readOnly = null;
        foreach (string item in rest.Split(','))
        {
            string mode = WhitespaceRegex().Replace(item.Trim(), " ").ToUpperInvariant();
            if (mode.StartsWith("ISOLATION LEVEL ", StringComparison.Ordinal) && isolation is null
                && mode["ISOLATION LEVEL ".Length..] is "READ UNCOMMITTED" or "READ COMMITTED" or "REPEATABLE READ" or "SERIALIZABLE")
            {
                isolation = mode["ISOLATION LEVEL ".Length..];
            }
            else if (mode is "READ ONLY" or "READ WRITE" && readOnly is null)
            {
                readOnly = mode == "READ ONLY";
            }
            else
            {
                return null;
            }
        }

        return new TrinoTransactionModes { IsolationLevel = isolation, ReadOnly = readOnly };
    }

    /// <summary>
    /// PostgreSQL takes Trino's syntax as it is; MySQL sets the isolation level for the next transaction first;
    /// DuckDB has one mode (snapshot isolation, read-write): its BEGIN ignores the modes.
    /// </summary>
    public IReadOnlyList<string> BeginStatements(SqlDialect dialect)
    {
        string access = ReadOnly switch { true => "READ ONLY", false => "READ WRITE", null => "" };
        switch (dialect)
        {
            case SqlDialect.DuckDb:
                return ["BEGIN TRANSACTION"];
            case SqlDialect.MySql:
                string start = access.Length == 0 ? "START TRANSACTION" : "START TRANSACTION " + access;
                return IsolationLevel is null ? [start] : ["SET TRANSACTION ISOLATION LEVEL " + IsolationLevel, start];
            default:
                var modes = new List<string>(2);
                if (IsolationLevel is not null)
                {
                    modes.Add("ISOLATION LEVEL " + IsolationLevel);
                }

                if (access.Length > 0)
                {
                    modes.Add(access);
                }

                return [modes.Count == 0 ? "START TRANSACTION" : "START TRANSACTION " + string.Join(", ", modes)];
        }
    }

    [GeneratedRegex("^START\\s+TRANSACTION\\b(.*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex StartRegex();

    [GeneratedRegex("\\s+", RegexOptions.CultureInvariant)]
    private static partial Regex WhitespaceRegex();
}

/// <summary>Trino's errors (StandardErrorCode names and codes) for transactions and the session schema.</summary>
internal static class TrinoTransactionErrors
{
    public static TrinoError UnknownTransaction(string id) =>
        new($"Unknown transaction ID: {id}. Possibly expired? Commands ignored until end of transaction block", 20, "UNKNOWN_TRANSACTION", TrinoError.UserError);

    public static TrinoError NotInTransaction() => new("No transaction in progress", 21, "NOT_IN_TRANSACTION", TrinoError.UserError);

    public static TrinoError AlreadyAborted() =>
        new("Current transaction is aborted, commands ignored until end of transaction block", 22, "TRANSACTION_ALREADY_ABORTED", TrinoError.UserError);

    public static TrinoError Nested() => TrinoError.NotSupported("Nested transactions not supported");

    public static TrinoError Busy(string id) =>
        TrinoError.NotSupported($"Transaction {id} is running another query: the queries of a transaction run one at a time");

    public static TrinoError SchemaNotFound(string message, string? sqlState) => new(message, 45, "SCHEMA_NOT_FOUND", TrinoError.UserError, sqlState);
}
