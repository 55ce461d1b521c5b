using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// The MySQL front door on one address: one <see cref="MySqlSession"/> per client. With
/// caching_sha2_password the process's RSA key is generated in the background at start.
/// </summary>
public sealed class MySqlListener : FrontDoorListener
{
    private readonly MySqlSessionRegistry _registry = new();
    private readonly MySqlListenerStatistics _statistics = new();

    public MySqlListener(ListenerConfig listener, ConfigStore config, IEngineProvider engines)
        : base("mysql", listener, config, engines)
    {
        if (listener.Auth == AuthMethod.CachingSha2Password)
        {
            // One RSA key and one fast-auth cache per process: generated in the background now (it takes a
            // noticeable fraction of a second), so neither startup nor the first login waits for it.
            _ = Task.Run(static () => CachingSha2Password.Shared);
        }
    }

    private protected override Task ServeAsync(ClientTransport transport, ListenerConfig listener, EdgeConfig config, bool overConnectionLimit, CancellationToken stopping) =>
        new MySqlSession(transport, listener, config, Config, Engines, Picker, _registry, Certificate, _statistics, overConnectionLimit) { AuditLog = Audit, Admission = Admission }.RunAsync(stopping);
}
