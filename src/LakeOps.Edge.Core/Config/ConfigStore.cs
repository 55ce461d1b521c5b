namespace LakeOps.Edge.Core.Config;

/// <summary>
/// Holds the current <see cref="EdgeConfig"/> snapshot. Readers take <see cref="Current"/> once per
/// unit of work and keep using that instance; a reload publishes a new instance atomically.
/// </summary>
public sealed class ConfigStore
{
    private EdgeConfig _current;

    public ConfigStore(EdgeConfig initial) => _current = initial;

    public EdgeConfig Current => Volatile.Read(ref _current);

    public void Publish(EdgeConfig next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Volatile.Write(ref _current, next);
    }
}
