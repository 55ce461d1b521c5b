using System.Collections.Concurrent;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing.Health;

/// <summary>
/// The <see cref="ClusterHealth"/> of every cluster, by name. Lives for the whole process: a reload
/// (<see cref="Apply"/>) reconfigures existing entries in place, so breakers, averages and running counts
/// survive it; clusters that left the config are dropped.
/// </summary>
public sealed class ClusterHealthRegistry
{
    private readonly ConcurrentDictionary<string, ClusterHealth> _clusters = new(StringComparer.Ordinal);
    private readonly Func<string, ClusterHealth> _create;

    public ClusterHealthRegistry(TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        _create = name => new ClusterHealth(name, time: Time);
    }

    public TimeProvider Time { get; }

    /// <summary>The cluster's health; created with default options if the cluster was not applied yet.</summary>
    public ClusterHealth Get(string cluster)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        return _clusters.TryGetValue(cluster, out ClusterHealth? health) ? health : _clusters.GetOrAdd(cluster, _create);
    }

    public bool TryGet(string cluster, out ClusterHealth health) => _clusters.TryGetValue(cluster, out health!);

    /// <summary>All entries (a copy, for diagnostics).</summary>
    public IReadOnlyList<ClusterHealth> All => [.. _clusters.Values];

    /// <summary>Brings the entries in line with a config snapshot: adds new clusters, reconfigures kept ones, drops removed ones.</summary>
    public void Apply(EdgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (ClusterConfig cluster in config.Clusters.Values)
        {
            Get(cluster.Name).Configure(cluster.Health, cluster.State);
        }

        foreach (string name in _clusters.Keys)
        {
            if (!config.Clusters.ContainsKey(name))
            {
                _clusters.TryRemove(name, out _);
            }
        }
    }
}
