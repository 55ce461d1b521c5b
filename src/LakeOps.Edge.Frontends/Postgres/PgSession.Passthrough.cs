using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing;

namespace LakeOps.Edge.Frontends.Postgres;

internal sealed partial class PgSession
{
    private volatile PgPassthroughSession? _passthrough;

    /// <summary>
    /// Login for a PostgreSQL client on a PostgreSQL cluster: the client is already authenticated by
    /// Edge; the passthrough checks the cluster and the client's startup settings and supplies the
    /// ParameterStatus values; then the session runs <see cref="PgPassthroughSession.RunAsync"/>.
    /// </summary>
    private async ValueTask<bool> StartPassthroughAsync(PostgresEngine engine, GroupConfig group, StartupPacket packet, CancellationToken cancellationToken)
    {
        // With rules, a SET of application_name, edge.tags or search_path may move the session (PgSession.Routing.cs).
        PgPassthroughSession passthrough = NewPassthrough(engine, group);
        PassthroughLogin login = await passthrough.LoginAsync(packet.Parameters, cancellationToken).ConfigureAwait(false);
        if (login.Error is { SqlState: var state } && state.StartsWith("08", StringComparison.Ordinal)
            && _picker.Pick(group, exclude: engine.ClusterName) is { Found: true } other)
        {
            // The cluster could not be reached for the login (and never was): once more on another member.
            if (_engines.Find(other.Cluster!) is PostgresEngine next)
            {
                Log.Warn(EventId.SessionFailed, $"login of '{_user}' on cluster '{engine.ClusterName}' failed, trying '{next.ClusterName}': {login.Error.Value.Message}");
                _clusterName = next.ClusterName;
                passthrough = NewPassthrough(next, group);
                login = await passthrough.LoginAsync(packet.Parameters, cancellationToken).ConfigureAwait(false);
                if (other.IsTrial)
                {
                    // This login was the half-open trial of that cluster: its outcome decides the breaker.
                    if (login.Error is { } failed)
                    {
                        ClusterFailover.ReportFailure(other.Health!, trial: true, new EngineException(failed.Message, failed.SqlState));
                    }
                    else
                    {
                        other.Health!.ReportSuccess(TimeSpan.Zero);
                    }
                }
            }
            else if (other.IsTrial)
            {
                other.Health!.AbandonTrial();
            }
        }

        if (login.Error is { } error)
        {
            PgBackendWriter.WriteErrorResponse(Output, error);
            await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        if (packet.ProtocolMinor > 0 || packet.ProtocolOptions.Count > 0)
        {
            PgBackendWriter.WriteNegotiateProtocolVersion(Output, 0, packet.ProtocolOptions.ToArray());
        }

        PgBackendWriter.WriteAuthenticationOk(Output);
        IReadOnlyList<KeyValuePair<string, string>> parameters = login.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            PgBackendWriter.WriteParameterStatus(Output, parameters[i].Key, parameters[i].Value);
        }

        (_processId, int secret) = _registry.Register(this);
        SecretKey = secret;
        PgBackendWriter.WriteBackendKeyData(Output, _processId, SecretKey);
        PgBackendWriter.WriteReadyForQuery(Output, PgTransactionStatus.Idle);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        passthrough.Audit = PassthroughAudit(passthrough);
        _passthrough = passthrough;
        return true;
    }

    private PgPassthroughSession NewPassthrough(PostgresEngine engine, GroupConfig group) =>
        new(_transport, _listener, engine, group, _user, ExplainRouteAsSelect, RouteTable.For(_config).RuleCount > 0 ? RerouteFromPassthrough : null)
        {
            Admission = Admission,
            Picker = _picker,
            Engines = _engines,
        };
}
