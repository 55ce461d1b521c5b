using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>The PostgreSQL front door on one address: one <see cref="PgSession"/> per client.</summary>
public sealed class PgListener(ListenerConfig listener, ConfigStore config, IEngineProvider engines)
    : FrontDoorListener("postgres", listener, config, engines)
{
    private readonly PgSessionRegistry _registry = new();

    private protected override Task ServeAsync(ClientTransport transport, ListenerConfig listener, EdgeConfig config, bool overConnectionLimit, CancellationToken stopping) =>
        new PgSession(transport, listener, config, Config, Engines, Picker, _registry, Certificate, overConnectionLimit) { AuditLog = Audit, Admission = Admission }.RunAsync(stopping);

    private protected override void OnStopping() => _registry.StopIdleSessions();
}
