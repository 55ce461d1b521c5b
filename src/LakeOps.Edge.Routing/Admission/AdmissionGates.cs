using System.Collections.Concurrent;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing.Admission;

/// <summary>
/// Every admission gate of the process: one per group and one per cluster that has an <c>admission:</c>
/// section in the current config snapshot, created on first use and kept across reloads (so a reload
/// changes limits in place, dropping nobody). Created once by the host and shared by all listeners.
/// </summary>
/// <remarks>
/// Lookups read the store's current snapshot, never a session's login snapshot, so an old session cannot
/// resize a gate back to limits a reload replaced. A snapshot without any admission section is detected
/// once per snapshot; after that <see cref="IsActive"/> is a reference compare and a bool.
/// </remarks>
public sealed class AdmissionGates
{
    private readonly ConfigStore _store;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Entry> _groups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _clusters = new(StringComparer.Ordinal);
    private volatile SnapshotFacts _facts;

    public AdmissionGates(ConfigStore store, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time ?? TimeProvider.System;
        _facts = SnapshotFacts.Of(store.Current);
    }

    /// <summary>False while the current snapshot has no admission section anywhere: callers skip admission.</summary>
    public bool IsActive
    {
        get
        {
            EdgeConfig current = _store.Current;
            SnapshotFacts facts = _facts;
            if (!ReferenceEquals(facts.Config, current))
            {
                facts = SnapshotFacts.Of(current);
                _facts = facts;
            }

            return facts.Any;
        }
    }

    /// <summary>The current <c>admission:</c> of group <paramref name="group"/> (null: none, or no such group).</summary>
    public AdmissionConfig? GroupConfig(string group) =>
        _store.Current.Groups.TryGetValue(group, out GroupConfig? config) ? config.Admission : null;

    /// <summary>The current <c>admission:</c> of cluster <paramref name="cluster"/> (null: none, or no such cluster).</summary>
    public AdmissionConfig? ClusterConfig(string cluster) =>
        _store.Current.Clusters.TryGetValue(cluster, out ClusterConfig? config) ? config.Admission : null;

    /// <summary>The gate of group <paramref name="group"/>, or null when it has no admission section now.</summary>
    public AdmissionGate? ForGroup(string group)
    {
        AdmissionConfig? config = GroupConfig(group);
        return config is null ? null : Get(_groups, AdmissionScope.Group, group, config);
    }

    /// <summary>The gate of cluster <paramref name="cluster"/>, or null when it has no admission section now.</summary>
    public AdmissionGate? ForCluster(string cluster) =>
        _store.Current.Clusters.TryGetValue(cluster, out ClusterConfig? config) && config.Admission is { } admission
            ? Get(_clusters, AdmissionScope.Cluster, cluster, admission)
            : null;

    /// <summary>
    /// <see cref="AdmissionGate.TryAdmit"/> as a result: Admitted (take its ticket) or Rejected with the
    /// client's text, for callers that never wait (overflow reject or spill).
    /// </summary>
    public static AdmissionResult TryAdmitNow(AdmissionGate gate)
    {
        ArgumentNullException.ThrowIfNull(gate);
        // The slot just taken is released through the result's ticket.
        if (gate.TryAdmit(out _))
        {
            return new AdmissionResult(gate, AdmissionOutcome.Admitted, TimeSpan.Zero, 0, 0);
        }

        return new AdmissionResult(gate, AdmissionOutcome.Rejected, TimeSpan.Zero, gate.Running, gate.Queued);
    }

    private AdmissionGate Get(ConcurrentDictionary<string, Entry> gates, AdmissionScope scope, string name, AdmissionConfig config)
    {
        if (!gates.TryGetValue(name, out Entry? entry))
        {
            entry = gates.GetOrAdd(name, static (key, state) => new Entry(
                AdmissionGate.Create(state.Scope, key, state.Config, state.Time),
                state.Config), (Scope: scope, Config: config, Time: _time));
        }

        if (!ReferenceEquals(entry.Applied, config))
        {
            entry.Apply(config);
        }

        return entry.Gate;
    }

    private sealed class Entry(AdmissionGate gate, AdmissionConfig applied)
    {
        private readonly Lock _lock = new();
        private volatile AdmissionConfig _applied = applied;

        public AdmissionGate Gate { get; } = gate;

        public AdmissionConfig Applied => _applied;

        /// <summary>A reload replaced the section: resize in place (an equal section only updates the reference).</summary>
        public void Apply(AdmissionConfig config)
        {
            lock (_lock)
            {
                if (ReferenceEquals(_applied, config))
                {
                    return;
                }

                if (_applied != config)
                {
                    Gate.Resize(config);
                }

                _applied = config;
            }
        }
    }

    private sealed class SnapshotFacts(EdgeConfig config, bool any)
    {
        public EdgeConfig Config { get; } = config;

        public bool Any { get; } = any;

        public static SnapshotFacts Of(EdgeConfig config)
        {
            foreach (GroupConfig group in config.Groups.Values)
            {
                if (group.Admission is not null)
                {
                    return new SnapshotFacts(config, true);
                }
            }

            foreach (ClusterConfig cluster in config.Clusters.Values)
            {
                if (cluster.Admission is not null)
                {
                    return new SnapshotFacts(config, true);
                }
            }

            return new SnapshotFacts(config, false);
        }
    }
}
