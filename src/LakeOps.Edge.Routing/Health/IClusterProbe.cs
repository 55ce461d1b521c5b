namespace LakeOps.Edge.Routing.Health;

/// <summary>
/// One active health check of a cluster (PostgreSQL an empty query, MySQL COM_PING, ...). Completes when
/// the engine answered; throws when it did not (an <c>EngineException</c> with SQLSTATE class 08 counts as
/// a connect failure, anything else as a server error). <see cref="HealthMonitor"/> enforces the timeout
/// and cancels the token when it expires. If the probe is <see cref="IAsyncDisposable"/> or
/// <see cref="IDisposable"/>, the monitor disposes it when it stops probing the cluster.
/// </summary>
public interface IClusterProbe
{
    ValueTask ProbeAsync(CancellationToken cancellationToken);
}
