using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing;

/// <summary>
/// The session-level stage and the implicit fallback of <see cref="RouteTable"/>: a client's database
/// name selects the group of that name; any other name goes to routing.default_group unless
/// routing.fallback_to_default is false. Pure function of the config snapshot.
/// </summary>
public static class DatabaseRouter
{
    public static RouteDecision Route(EdgeConfig config, string database)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(database);

        if (config.Groups.TryGetValue(database, out GroupConfig? named))
        {
            return new RouteDecision(named, $"database '{database}' names group '{named.Name}'");
        }

        if (!config.Routing.FallbackToDefault)
        {
            return new RouteDecision(null, $"database \"{database}\" does not exist (no group of that name, and routing.fallback_to_default is false)");
        }

        GroupConfig fallback = config.Groups[config.Routing.DefaultGroup];
        return new RouteDecision(fallback, $"database '{database}' is not a group; routing.default_group '{fallback.Name}'");
    }
}
