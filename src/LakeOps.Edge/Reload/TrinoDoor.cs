using LakeOps.Edge.Frontends;
using LakeOps.Edge.Frontends.Trino;

namespace LakeOps.Edge.Reload;

/// <summary>
/// The Trino front door as an <see cref="IFrontDoor"/> (it has the members; once it declares the interface this
/// adapter can go). It binds in <see cref="Start"/>, and a TLS change replaces it (Kestrel keeps its certificate).
/// </summary>
internal sealed class TrinoDoor(TrinoFrontDoor door) : IFrontDoor
{
    public string Name => door.Name;

    public string Endpoint => door.Endpoint;

    public void Start() => door.Start();

    public Task StopAsync(TimeSpan drain) => door.StopAsync(drain);

    public ValueTask DisposeAsync() => door.DisposeAsync();
}
