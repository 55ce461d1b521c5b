using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Trino;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Engines.Health;

/// <summary>
/// The probe of a Trino cluster: GET /v1/info on the coordinator, healthy when it answers with
/// <c>"starting": false</c> (a coordinator that is still starting accepts connections but fails queries).
/// Goes through the engine's probe HTTP client, not its statement pool: a pool whose pool.max_size connections are all
/// busy with long polls must not make a healthy coordinator look dead.
/// </summary>
internal sealed class TrinoInfoProbe : IClusterProbe
{
    private readonly TrinoEngine _engine;

    public TrinoInfoProbe(TrinoEngine engine) => _engine = engine;

    public async ValueTask ProbeAsync(CancellationToken cancellationToken)
    {
        if (!await _engine.IsReadyAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new EngineException($"cluster '{_engine.ClusterName}': the Trino coordinator at {_engine.Address} is starting or its /v1/info is not healthy", SqlStates.CannotConnectNow);
        }
    }
}
