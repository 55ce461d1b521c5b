using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>
/// Engine sessions a session moved away from after a failover without a router to own them: prepared
/// statements may still use them, so they are closed only when the session ends.
/// </summary>
internal sealed class RetiredEngines : IAsyncDisposable
{
    private List<IEngineSession>? _sessions;

    public void Add(IEngineSession session) => (_sessions ??= []).Add(session);

    /// <summary>Closes every retired engine session; a failure is logged (the session is ending anyway).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_sessions is not { } retired)
        {
            return;
        }

        _sessions = null;
        foreach (IEngineSession engine in retired)
        {
            try
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EngineException or InvalidOperationException or ObjectDisposedException)
            {
                Log.Warn(EventId.SessionFailed, $"closing an engine session the session moved away from failed: {ex.Message}");
            }
        }
    }
}
