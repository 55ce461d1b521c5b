using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Trino;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// A query inside an explicit transaction, and the session schema. The transaction's queries run on its engine
/// session (on the group and cluster of START TRANSACTION, whatever they route to; rules that deny still deny),
/// one at a time; each is admitted on its own (the slot is held per statement, as on the PostgreSQL front door's
/// Arrow path, waiting in the group's queue rather than spilling). A query that fails aborts the transaction.
/// </summary>
internal sealed partial class TrinoQuery
{
    /// <summary>The transaction this query runs in (claimed for it by <see cref="TrinoFrontDoor"/> (EnterTransaction)), or null.</summary>
    public TrinoTransaction? Transaction { get; init; }

    private async Task RunInTransactionAsync(TrinoTransaction transaction, CancellationToken cancellationToken)
    {
        _router = new SessionRouter(_services.Config, _route, _services.Engines, _services.Picker);
        RouteDecision decision = _router.Decide(Sql);
        _decision = decision;
        if (decision.IsDenied)
        {
            throw new EngineException(SessionRouter.DenyText(decision), "42501");
        }

        if (transaction.Upstream is { } upstream)
        {
            // A Trino cluster: a passthrough to the coordinator, carrying the coordinator's transaction id in place of Edge's.
            ClusterHealth? health = _services.Picker.Registry.TryGet(transaction.Cluster, out ClusterHealth known) ? known : null;
            await RunPassthroughAsync(transaction.Group, transaction.Cluster, health, trial: false, upstream, transaction.UpstreamHeaders(_route.Headers), cancellationToken).ConfigureAwait(false);
            return;
        }

        GroupEngine engine = transaction.Engine!;
        _engine = engine;
        GroupName = engine.Group.Name;
        ClusterName = engine.Cluster;
        AdmissionDecision admission = await StatementAdmission.AdmitAsync(_services.Admission, engine.Group.Name, engine.Cluster, SpillPolicy.Stay, cancellationToken).ConfigureAwait(false);
        _lease = admission.Lease;
        MarkRunning(engine.Group);
        using (cancellationToken.Register(static s => ((IEngineSession)s!).Cancel(), engine.Session))
        {
            _result = await StatementObservation.RunAsync(
                _services.Picker,
                engine.Cluster,
                (Query: this, Engine: engine, Token: cancellationToken),
                static s => s.Query.ExecuteInSchemaAsync(s.Engine.Session, s.Engine.Dialect, s.Engine.Cluster, s.Token)).ConfigureAwait(false);
        }

        _columns = ColumnsOf(_result.Schema);
    }

    /// <summary>
    /// Runs <see cref="Sql"/> on <paramref name="session"/> (of <paramref name="cluster"/>) in the client's schema (X-Trino-Schema), when it sent one.
    /// A schema the engine does not have leaves its default in force; a name that then does not resolve is
    /// SCHEMA_NOT_FOUND, as in Trino. <see cref="TrinoSchemaCache"/> spares the round trips it can.
    /// </summary>
    private async ValueTask<IQueryResult> ExecuteInSchemaAsync(IEngineSession session, SqlDialect dialect, string cluster, CancellationToken cancellationToken)
    {
        string schema = _route.Schema;
        bool missing = false;
        if (schema.Length > 0 && Transaction?.AppliedSchema != schema)
        {
            missing = !await _services.Schemas.ApplyAsync(session, dialect, cluster, schema, cancellationToken).ConfigureAwait(false);
            if (!missing && Transaction is { } transaction)
            {
                transaction.AppliedSchema = schema;
            }
        }

        try
        {
            return await session.ExecuteAsync(Sql, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex) when (schema.Length > 0 && TrinoSchema.IsUndefinedTable(ex))
        {
            if (missing)
            {
                throw TrinoSchema.NotFound(schema, ex);
            }

            throw;
        }
    }

    /// <summary>
    /// Gives the transaction back after the query's result is closed; a query that ran and did not finish aborts it.
    /// The engine session stays the transaction's: from here on a late DELETE of this query must not reach it.
    /// </summary>
    private async ValueTask ReleaseTransactionAsync()
    {
        if (Transaction is not { } transaction)
        {
            return;
        }

        lock (_engineLock)
        {
            _engine = null;
        }

        try
        {
            if (Starting is not null && State != TrinoQueryStates.Finished)
            {
                await transaction.AbortAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            transaction.Exit();
        }
    }
}
