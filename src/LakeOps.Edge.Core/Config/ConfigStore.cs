namespace LakeOps.Edge.Core.Config;

/// <summary>
/// Holds the current <see cref="EdgeConfig"/> snapshot. Readers take <see cref="Current"/> once per
/// unit of work and keep using that instance; a reload publishes a new instance atomically.
/// </summary>
public sealed class ConfigStore
{
    private EdgeConfig _current;
    private long _revision = 1;

    public ConfigStore(EdgeConfig initial) => _current = initial;

    public EdgeConfig Current => Volatile.Read(ref _current);

    /// <summary>The live revision: 1 for the config the process started with, plus one per published reload.</summary>
    public long Revision => Interlocked.Read(ref _revision);

    /// <summary>Swaps in <paramref name="next"/> and returns its revision number.</summary>
    public long Publish(EdgeConfig next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Volatile.Write(ref _current, next);
        return Interlocked.Increment(ref _revision);
    }
}
