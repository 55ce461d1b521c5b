using System.Threading.Tasks.Sources;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// A reusable one-waiter wake-up for the response pump (no allocation per wait). The pump resets it
/// under the session lock when it decides to wait; whoever clears the pump's waiting flag under that
/// lock sets it once. The continuation runs inline on the setter's thread, which saves a thread-pool
/// hop per transaction; setters never hold a lock when they set.
/// </summary>
internal sealed class PumpSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;

    public void Reset() => _core.Reset();

    public void Set() => _core.SetResult(true);

    public ValueTask WaitAsync() => new(this, _core.Version);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
