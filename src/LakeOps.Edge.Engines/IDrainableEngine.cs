namespace LakeOps.Edge.Engines;

/// <summary>
/// An engine that a reload can retire gracefully: <see cref="BeginDrain"/> closes what is idle and stops keeping
/// spare connections; <see cref="IsBusy"/> tells when the work that was running has finished, so the engine can be
/// disposed. An engine without it is disposed when the drain timeout has passed.
/// </summary>
public interface IDrainableEngine
{
    /// <summary>True while a statement or transaction still uses the engine.</summary>
    bool IsBusy { get; }

    void BeginDrain();
}
