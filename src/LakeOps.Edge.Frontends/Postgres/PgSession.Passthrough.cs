using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres;

internal sealed partial class PgSession
{
    private PgPassthroughSession? _passthrough;

    /// <summary>
    /// Login for a PostgreSQL client on a PostgreSQL cluster: the client is already authenticated by
    /// Edge; the passthrough checks the cluster and the client's startup settings and supplies the
    /// ParameterStatus values; then the session runs <see cref="PgPassthroughSession.RunAsync"/>.
    /// </summary>
    private async ValueTask<bool> StartPassthroughAsync(PostgresEngine engine, GroupConfig group, StartupPacket packet, CancellationToken cancellationToken)
    {
        var passthrough = new PgPassthroughSession(_transport, _listener, engine, group, _user, ExplainRouteAsSelect);
        PassthroughLogin login = await passthrough.LoginAsync(packet.Parameters, cancellationToken).ConfigureAwait(false);
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
        foreach (KeyValuePair<string, string> parameter in login.Parameters)
        {
            PgBackendWriter.WriteParameterStatus(Output, parameter.Key, parameter.Value);
        }

        (_processId, int secret) = _registry.Register(this);
        SecretKey = secret;
        PgBackendWriter.WriteBackendKeyData(Output, _processId, SecretKey);
        PgBackendWriter.WriteReadyForQuery(Output, PgTransactionStatus.Idle);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _passthrough = passthrough;
        return true;
    }
}
