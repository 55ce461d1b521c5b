using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Balancing;

/// <summary>
/// Balancing state of one group for one config snapshot: the members' <see cref="ClusterHealth"/> resolved
/// once, the weights, the round-robin cursor and the smooth weighted round robin's running weights. A new
/// snapshot gets a new instance that starts from the previous one's cursor and running weights (matched by
/// cluster name), so a reload that changes weights continues the rotation instead of restarting it.
/// </summary>
internal sealed class GroupBalance
{
    public GroupBalance(GroupConfig group, ClusterHealthRegistry registry, GroupBalance? previous)
    {
        int count = group.Clusters.Count;
        Group = group;
        Names = new string[count];
        Members = new ClusterHealth[count];
        Weights = new int[count];
        Current = new long[count];
        bool weighted = group.Balancing == BalancingStrategy.Weighted && group.Weights.Count == count;
        for (int i = 0; i < count; i++)
        {
            string name = group.Clusters[i];
            Names[i] = name;
            Members[i] = registry.Get(name);
            Weights[i] = weighted ? group.Weights[i] : 1;
            if (previous is not null)
            {
                int before = Array.IndexOf(previous.Names, name);
                if (before >= 0)
                {
                    Current[i] = Volatile.Read(ref previous.Current[before]);
                }
            }
        }

        Cursor = previous?.Cursor ?? 0;
    }

    public GroupConfig Group { get; }

    public string[] Names { get; }

    public ClusterHealth[] Members { get; }

    /// <summary>Configured weights with balancing weighted; 1 for every member otherwise.</summary>
    public int[] Weights { get; }

    /// <summary>Smooth weighted round robin's running weights; guarded by <see cref="Lock"/>.</summary>
    public long[] Current { get; }

    public Lock Lock { get; } = new();

    /// <summary>Round-robin position (also the tie breaker of least_loaded and latency_aware).</summary>
    public int Cursor;
}
