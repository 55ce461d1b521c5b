using System.Diagnostics;
using Apache.Arrow;
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
    /// <summary>The transaction this query runs in (claimed for it by <see cref="TrinoTransactionRegistry.Enter"/>), or null.</summary>
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
            await RunUpstreamInTransactionAsync(transaction, upstream, cancellationToken).ConfigureAwait(false);
            return;
        }

        GroupEngine engine = transaction.Engine!;
        _engine = engine;
        GroupName = engine.Group.Name;
        ClusterName = engine.Cluster;
        AdmissionDecision admission = await StatementAdmission.AdmitAsync(_services.Admission, engine.Group.Name, engine.Cluster, SpillPolicy.Stay, cancellationToken).ConfigureAwait(false);
        _lease = admission.Lease;
        State = TrinoQueryStates.Running;
        _runningSince = Stopwatch.GetTimestamp();
        if (engine.Group.StatementTimeout > TimeSpan.Zero)
        {
            _timeout = engine.Group.StatementTimeout;
            _cancel.CancelAfter(engine.Group.StatementTimeout);
        }

        using (cancellationToken.Register(static s => ((IEngineSession)s!).Cancel(), engine.Session))
        {
            _result = await StatementObservation.RunAsync(
                _services.Picker,
                engine.Cluster,
                (Query: this, Engine: engine, Token: cancellationToken),
                static s => s.Query.ExecuteInSchemaAsync(s.Engine.Session, s.Engine.Dialect, s.Token)).ConfigureAwait(false);
        }

        _columns = ColumnsOf(_result.Schema);
    }

    /// <summary>
    /// A query of a transaction on a Trino cluster: a passthrough to that coordinator (admitted like any passthrough),
    /// carrying the coordinator's transaction id in place of Edge's.
    /// </summary>
    private async Task RunUpstreamInTransactionAsync(TrinoTransaction transaction, ITrinoHttpEngine upstream, CancellationToken cancellationToken)
    {
        AdmissionDecision admitted = await StatementAdmission.AdmitAsync(_services.Admission, transaction.Group.Name, transaction.Cluster, SpillPolicy.Reject, cancellationToken).ConfigureAwait(false);
        _lease = admitted.Lease;
        GroupName = transaction.Group.Name;
        ClusterName = transaction.Cluster;
        State = TrinoQueryStates.Running;
        _runningSince = Stopwatch.GetTimestamp();
        Upstream = upstream;
        if (_services.Picker.Registry.TryGet(transaction.Cluster, out ClusterHealth health))
        {
            _lease.CountRunning(health);
            _upstreamHealth = health;
        }

        try
        {
            FirstUpstreamPage = await upstream.SubmitAsync(new TrinoUpstreamRequest(Sql, transaction.UpstreamHeaders(_route.Headers)), cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            ClusterFailover.ReportFailure(_upstreamHealth, trial: false, ex);
            throw;
        }
    }

    /// <summary>
    /// Runs <see cref="Sql"/> on <paramref name="session"/> in the client's schema (X-Trino-Schema), when it sent one.
    /// A schema the engine does not have leaves its default in force; a name that then does not resolve is
    /// SCHEMA_NOT_FOUND, as in Trino.
    /// </summary>
    private async ValueTask<IQueryResult> ExecuteInSchemaAsync(IEngineSession session, SqlDialect dialect, CancellationToken cancellationToken)
    {
        string schema = _route.Schema;
        bool missing = false;
        if (schema.Length > 0 && Transaction?.AppliedSchema != schema)
        {
            missing = !await TrinoSchema.ApplyAsync(session, dialect, schema, cancellationToken).ConfigureAwait(false);
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
            if (missing || (dialect == SqlDialect.Postgres && Transaction is null && await TrinoSchema.IsMissingAsync(session, schema, cancellationToken).ConfigureAwait(false)))
            {
                throw TrinoSchema.NotFound(schema, ex);
            }

            throw;
        }
    }

    /// <summary>Gives the transaction back after the query's result is closed; a query that ran and did not finish aborts it.</summary>
    private async ValueTask ReleaseTransactionAsync()
    {
        if (Transaction is not { } transaction)
        {
            return;
        }

        if (Starting is not null && State != TrinoQueryStates.Finished)
        {
            await transaction.AbortAsync().ConfigureAwait(false);
        }

        transaction.Exit();
    }

    private static TrinoColumn[] ColumnsOf(Schema schema)
    {
        var columns = new TrinoColumn[schema.FieldsList.Count];
        for (int i = 0; i < columns.Length; i++)
        {
            Field field = schema.FieldsList[i];
            columns[i] = new TrinoColumn(field.Name, TrinoTypeMapper.FromField(field));
        }

        return columns;
    }
}
