using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Balancing;
using Microsoft.AspNetCore.Http;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// START TRANSACTION, COMMIT and ROLLBACK. START TRANSACTION is routed like a query (the same route request as the
/// statements after it), opens an engine session on the picked cluster, begins the engine's transaction there and
/// answers X-Trino-Started-Transaction-Id; the client's queries with X-Trino-Transaction-Id then run on that
/// session (<see cref="TrinoQuery.Transaction"/>). COMMIT / ROLLBACK end it, close the session and answer
/// X-Trino-Clear-Transaction-Id. Transaction control takes no admission slot (it frees resources), as on the
/// PostgreSQL front door. On a Trino cluster the coordinator keeps the transaction: Edge sends START TRANSACTION,
/// COMMIT and ROLLBACK there and maps its own id to the coordinator's for the queries in between.
/// </summary>
public sealed partial class TrinoFrontDoor
{
    private readonly TrinoRegistry<TrinoTransaction> _transactions;

    /// <summary>Open transactions (for tests and metrics).</summary>
    public int OpenTransactions => _transactions.Count;

    /// <summary>Runs the abandoned-transaction sweep now (it also runs every 5 s); returns how many it rolled back.</summary>
    internal Task<int> SweepAbandonedTransactionsAsync() => _transactions.SweepAsync();

    private static bool IsTransactionControl(TrinoSessionStatement statement) =>
        statement.Kind is TrinoSessionStatementKind.StartTransaction or TrinoSessionStatementKind.Commit or TrinoSessionStatementKind.Rollback;

    private async Task TransactionStatementAsync(HttpContext context, string user, TrinoClientSession session, TrinoSessionStatement statement, string sql)
    {
        if (statement.Kind == TrinoSessionStatementKind.StartTransaction)
        {
            (string? id, TrinoError? error) = await StartTransactionAsync(context, user, session, sql).ConfigureAwait(false);
            if (id is not null)
            {
                context.Response.Headers["X-Trino-Started-Transaction-Id"] = id;
            }

            await ImmediateAsync(context, error, null, error is null ? "START TRANSACTION" : null).ConfigureAwait(false);
            return;
        }

        bool commit = statement.Kind == TrinoSessionStatementKind.Commit;
        (TrinoError? failure, bool gone) = await EndTransactionAsync(user, session.TransactionId, commit).ConfigureAwait(false);
        if (gone)
        {
            // Committed, rolled back, failed while ending, or unknown: either way the client must forget the id.
            context.Response.Headers["X-Trino-Clear-Transaction-Id"] = "true";
        }

        await ImmediateAsync(context, failure, null, failure is null ? (commit ? "COMMIT" : "ROLLBACK") : null).ConfigureAwait(false);
    }

    /// <summary>Routes, opens the engine session and begins; the new transaction's id, or Trino's error.</summary>
    private async Task<(string? Id, TrinoError? Error)> StartTransactionAsync(HttpContext context, string user, TrinoClientSession session, string sql)
    {
        if (session.TransactionId is not null)
        {
            return (null, TrinoTransactionErrors.Nested());
        }

        if (TrinoTransactionModes.Parse(sql) is not { } modes)
        {
            return (null, TrinoError.Syntax($"START TRANSACTION: expected ISOLATION LEVEL {{READ UNCOMMITTED | READ COMMITTED | REPEATABLE READ | SERIALIZABLE}}, READ ONLY or READ WRITE, separated by commas: {sql}"));
        }

        EdgeConfig config = _config.Current;
        RouteRequest route = BuildRoute(config, user, session);
        var router = new SessionRouter(_config, route, _engines, Picker);
        await using (router.ConfigureAwait(false))
        {
            RouteDecision decision = router.Decide(sql);
            if (decision.IsDenied)
            {
                return (null, TrinoQuery.ErrorOf(new EngineException(SessionRouter.DenyText(decision), "42501")));
            }

            GroupConfig group = decision.Group!;
            ClusterPick pick = Picker.Pick(group);
            if (!pick.Found)
            {
                return (null, TrinoQuery.ErrorOf(ClusterFailover.NoCluster(pick)));
            }

            if (_engines.Find(pick.Cluster!) is ITrinoHttpEngine upstream)
            {
                if (pick.IsTrial)
                {
                    pick.Health!.AbandonTrial();
                }

                return await StartUpstreamTransactionAsync(context, user, session, sql, group, pick.Cluster!, upstream).ConfigureAwait(false);
            }

            // The slot first: a full listener must not cost an engine session.
            if (!_transactions.TryReserve(Listener().Limits.MaxConnections))
            {
                if (pick.IsTrial)
                {
                    pick.Health!.AbandonTrial();
                }

                return (null, TooManyTransactions());
            }

            TrinoTransaction transaction;
            try
            {
                OpenedCluster opened = await ClusterFailover.OpenAsync(Picker, _engines, group, TrinoQuery.SessionOptions(route, group), context.RequestAborted, pick).ConfigureAwait(false);
                transaction = new TrinoTransaction(user, new GroupEngine(group, opened.Cluster, opened.Engine, opened.Session));
            }
            catch (Exception ex) when (ex is EngineException or OperationCanceledException)
            {
                _transactions.Unreserve();
                return (null, ex is EngineException engine ? TrinoQuery.ErrorOf(engine) : TrinoError.UserCanceled("START TRANSACTION was canceled"));
            }

            _transactions.AddReserved(transaction);
            try
            {
                await transaction.BeginAsync(modes, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or OperationCanceledException)
            {
                await _transactions.RemoveAsync(transaction).ConfigureAwait(false);
                return (null, ex is EngineException engine ? TrinoQuery.ErrorOf(engine) : TrinoError.UserCanceled("START TRANSACTION was canceled"));
            }

            return (transaction.Id, null);
        }
    }

    /// <summary>
    /// A Trino cluster: the coordinator runs START TRANSACTION as the client wrote it and keeps the transaction;
    /// Edge registers it under its own id (the coordinator's id never reaches the client).
    /// </summary>
    private async Task<(string? Id, TrinoError? Error)> StartUpstreamTransactionAsync(
        HttpContext context, string user, TrinoClientSession session, string sql, GroupConfig group, string cluster, ITrinoHttpEngine upstream)
    {
        // The slot first: a full listener must not open a transaction on the coordinator.
        if (!_transactions.TryReserve(Listener().Limits.MaxConnections))
        {
            return (null, TooManyTransactions());
        }

        List<KeyValuePair<string, string>> headers = TrinoTransaction.WithTransactionId(session.Headers, null);
        TrinoUpstreamOutcome outcome;
        try
        {
            outcome = await TrinoUpstreamStatement.RunAsync(upstream, sql, headers, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineException or OperationCanceledException)
        {
            _transactions.Unreserve();
            return (null, ex is EngineException engine ? TrinoQuery.ErrorOf(engine) : TrinoError.UserCanceled("START TRANSACTION was canceled"));
        }

        if (outcome.Error is not null || outcome.StartedTransactionId is not { Length: > 0 } upstreamId)
        {
            _transactions.Unreserve();
            return (null, outcome.Error ?? TrinoError.External($"Trino cluster '{cluster}' answered START TRANSACTION without X-Trino-Started-Transaction-Id"));
        }

        var transaction = new TrinoTransaction(user, group, cluster, upstream, upstreamId, headers);
        _transactions.AddReserved(transaction);
        return (transaction.Id, null);
    }

    /// <summary>
    /// COMMIT or ROLLBACK of the client's transaction: Trino's error (null on success), and whether the transaction
    /// is gone so the client must clear its id (all cases but "no transaction id" and "a query of it is running").
    /// </summary>
    private async Task<(TrinoError? Error, bool Gone)> EndTransactionAsync(string user, string? id, bool commit)
    {
        if (id is null)
        {
            return (TrinoTransactionErrors.NotInTransaction(), false);
        }

        TrinoTransaction? transaction = FindTransaction(id, user);
        if (transaction is null)
        {
            return (TrinoTransactionErrors.UnknownTransaction(id), true);
        }

        if (!transaction.TryClose())
        {
            return transaction.IsBusy ? (TrinoTransactionErrors.Busy(id), false) : (TrinoTransactionErrors.UnknownTransaction(id), true);
        }

        try
        {
            if (!commit)
            {
                await transaction.RollbackAsync().ConfigureAwait(false);
                return (null, true);
            }

            if (transaction.IsAborted)
            {
                // Trino: COMMIT of a failed transaction fails, and the transaction is gone (rolled back already).
                return (TrinoTransactionErrors.AlreadyAborted(), true);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
            return (null, true);
        }
        catch (EngineException ex)
        {
            return (TrinoQuery.ErrorOf(ex), true);
        }
        catch (TrinoUpstreamException ex)
        {
            return (ex.Error, true);
        }
        catch (OperationCanceledException)
        {
            return (TrinoError.TimeLimit($"{(commit ? "COMMIT" : "ROLLBACK")} of transaction {id} did not finish in time; the transaction was rolled back"), true);
        }
        finally
        {
            await _transactions.RemoveAsync(transaction).ConfigureAwait(false);
        }
    }

    private TrinoError TooManyTransactions() =>
        TrinoError.QueueFull($"too many open transactions on Trino listener '{Name}' (max_connections {Listener().Limits.MaxConnections})");

    /// <summary>The transaction <paramref name="id"/> of <paramref name="user"/>; another user's is as unknown as a made-up id.</summary>
    private TrinoTransaction? FindTransaction(string id, string user) =>
        _transactions.Find(id) is { } transaction && transaction.User == user ? transaction : null;

    /// <summary>
    /// A query that names a transaction: the transaction, claimed for it, or Trino's error to answer instead
    /// (unknown id, another query running, aborted by an earlier failure).
    /// </summary>
    private (TrinoTransaction? Transaction, TrinoError? Error) EnterTransaction(string user, TrinoClientSession session)
    {
        if (session.TransactionId is not { } id)
        {
            return (null, null);
        }

        TrinoTransaction? transaction = FindTransaction(id, user);
        if (transaction is null)
        {
            return (null, TrinoTransactionErrors.UnknownTransaction(id));
        }

        switch (transaction.TryEnter())
        {
            case TrinoTransactionEntry.Busy:
                return (null, TrinoTransactionErrors.Busy(id));
            case TrinoTransactionEntry.Closed:
                return (null, TrinoTransactionErrors.UnknownTransaction(id));
        }

        if (transaction.IsAborted)
        {
            transaction.Exit();
            return (null, TrinoTransactionErrors.AlreadyAborted());
        }

        return (transaction, null);
    }
}
