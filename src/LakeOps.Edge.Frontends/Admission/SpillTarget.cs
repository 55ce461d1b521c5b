using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;

namespace LakeOps.Edge.Frontends.Admission;

/// <summary>
/// Where a statement runs when its group is full with overflow <c>spill</c>: the client session's engine session
/// on the spill group, the same for every front door. The spill group is looked up in the current snapshot (a
/// reload may have removed it), and the session's <see cref="SessionRouter"/> opens the engine session there on
/// first use (a balanced pick with one retry elsewhere, like any group the session routes to) and keeps it.
/// </summary>
internal static class SpillTarget
{
    /// <summary>
    /// The engine session on <paramref name="spillGroup"/> for a statement that found <paramref name="group"/> full
    /// (Opened: true when it was opened just now). An empty <paramref name="database"/> opens it on the spill group's
    /// name, as a session without a database does on its own group. 53300 when the spill group is not configured.
    /// </summary>
    public static async ValueTask<(GroupEngine Engine, bool Opened)> OpenAsync(
        ConfigStore configs, SessionRouter router, string group, string spillGroup, string user, string? database, string applicationName)
    {
        ArgumentNullException.ThrowIfNull(configs);
        ArgumentNullException.ThrowIfNull(router);
        if (!configs.Current.Groups.TryGetValue(spillGroup, out GroupConfig? target))
        {
            throw new EngineException($"group '{group}' is full and its spill group '{spillGroup}' is not configured", SqlStates.TooManyConnections);
        }

        var options = new EngineSessionOptions(user, string.IsNullOrEmpty(database) ? target.Name : database, applicationName);
        return await router.GetAsync(target, options, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The audit record's reason for a statement that spilled: the route's reason, and where it went instead.</summary>
    public static string Reason(string routeReason, string group, string spillGroup) =>
        $"{routeReason}; group '{group}' was full: spilled to group '{spillGroup}'";
}
