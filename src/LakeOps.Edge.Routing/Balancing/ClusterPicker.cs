using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Balancing;

/// <summary>
/// Picks the cluster of a group for a new query or engine session, by the group's <c>balancing</c>, among
/// the members that can take it: enabled (not draining or disabled) with a closed breaker. A member whose
/// open breaker has waited out its backoff gets the next request as its single half-open trial (ahead of
/// the strategy). Thread-safe; allocates nothing per pick (except the reason text when nothing is eligible).
/// </summary>
/// <remarks>
/// Strategies: round_robin (eligible members in turn); weighted (smooth weighted round robin over the
/// eligible members with weight &gt; 0, under a per-group lock); least_loaded (fewest
/// <see cref="ClusterHealth.Running"/>, ties in turn); latency_aware (lowest latency average, members without
/// a sample first, and with probability <c>exploration</c> a uniformly random eligible member so that others'
/// averages stay fresh); failover (first eligible member in config order).
/// </remarks>
public sealed class ClusterPicker
{
    public const double DefaultExploration = 0.05;

    // Groups up to this size collect candidates on the stack.
    private const int StackLimit = 64;

    private readonly ClusterHealthRegistry _registry;
    private readonly Random _random;
    private readonly double _exploration;
    private readonly ConditionalWeakTable<GroupConfig, GroupBalance> _byConfig = new();
    private readonly ConcurrentDictionary<string, GroupBalance> _latest = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<GroupConfig, GroupBalance>.CreateValueCallback _create;

    /// <param name="registry">Health of the clusters (shared with the health monitor).</param>
    /// <param name="random">Exploration of latency_aware; must be thread-safe when picks run concurrently (default <see cref="Random.Shared"/>).</param>
    /// <param name="exploration">Share of latency_aware picks that go to a random eligible member.</param>
    public ClusterPicker(ClusterHealthRegistry registry, Random? random = null, double exploration = DefaultExploration)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentOutOfRangeException.ThrowIfLessThan(exploration, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(exploration, 1);
        _registry = registry;
        _random = random ?? Random.Shared;
        _exploration = exploration;
        _create = Create;
    }

    public ClusterHealthRegistry Registry => _registry;

    /// <summary>
    /// The cluster for the next request on <paramref name="group"/>; <paramref name="exclude"/> leaves one
    /// member out (the retry after a member failed before any result reached the client).
    /// </summary>
    public ClusterPick Pick(GroupConfig group, string? exclude = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!_byConfig.TryGetValue(group, out GroupBalance? balance))
        {
            balance = _byConfig.GetValue(group, _create);
        }

        int n = balance.Members.Length;
        Span<int> eligible = n <= StackLimit ? stackalloc int[n] : new int[n];
        int count = 0;
        long now = 0;
        for (int i = 0; i < n; i++)
        {
            if (balance.Weights[i] == 0 || (exclude is not null && string.Equals(balance.Names[i], exclude, StringComparison.Ordinal)))
            {
                continue;
            }

            ClusterHealth health = balance.Members[i];
            if (health.IsClosedAndEnabled)
            {
                eligible[count++] = i;
                continue;
            }

            // The clock is read only when some member is not plainly available.
            now = now == 0 ? _registry.Time.GetTimestamp() : now;
            switch (health.GetAvailability(now))
            {
                case Availability.Available:
                    eligible[count++] = i;
                    break;
                case Availability.TrialReady when health.TryBeginTrial():
                    return ClusterPick.Of(balance.Names[i], health, isTrial: true);
            }
        }

        if (count == 0)
        {
            return ClusterPick.None(NoneReason(balance, exclude));
        }

        int chosen = count == 1 ? eligible[0] : group.Balancing switch
        {
            BalancingStrategy.Weighted => PickWeighted(balance, eligible[..count]),
            BalancingStrategy.LeastLoaded => PickLeastLoaded(balance, eligible[..count]),
            BalancingStrategy.LatencyAware => PickLatencyAware(balance, eligible[..count]),
            BalancingStrategy.Failover => eligible[0],
            _ => eligible[(int)((uint)Interlocked.Increment(ref balance.Cursor) % (uint)count)],
        };
        return ClusterPick.Of(balance.Names[chosen], balance.Members[chosen], isTrial: false);
    }

    /// <summary>Smooth weighted round robin: every candidate gains its weight, the richest is picked and pays the total.</summary>
    private static int PickWeighted(GroupBalance balance, ReadOnlySpan<int> candidates)
    {
        lock (balance.Lock)
        {
            long[] current = balance.Current;
            long total = 0;
            int best = -1;
            foreach (int i in candidates)
            {
                current[i] += balance.Weights[i];
                total += balance.Weights[i];
                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            return best;
        }
    }

    private static int PickLeastLoaded(GroupBalance balance, ReadOnlySpan<int> candidates)
    {
        // Scanning from a rotating start makes ties go round.
        int start = (int)((uint)Interlocked.Increment(ref balance.Cursor) % (uint)candidates.Length);
        int best = candidates[start];
        int least = balance.Members[best].Running;
        for (int k = 1; k < candidates.Length; k++)
        {
            int i = candidates[(start + k) % candidates.Length];
            int running = balance.Members[i].Running;
            if (running < least)
            {
                least = running;
                best = i;
            }
        }

        return best;
    }

    private int PickLatencyAware(GroupBalance balance, ReadOnlySpan<int> candidates)
    {
        if (_exploration > 0 && _random.NextDouble() < _exploration)
        {
            return candidates[_random.Next(candidates.Length)];
        }

        int start = (int)((uint)Interlocked.Increment(ref balance.Cursor) % (uint)candidates.Length);
        int best = candidates[start];
        double lowest = Math.Max(balance.Members[best].LatencyMilliseconds, 0);
        for (int k = 1; k < candidates.Length; k++)
        {
            int i = candidates[(start + k) % candidates.Length];

            // No sample yet counts as 0 ms: a new member gets traffic until it has an average.
            double latency = Math.Max(balance.Members[i].LatencyMilliseconds, 0);
            if (latency < lowest)
            {
                lowest = latency;
                best = i;
            }
        }

        return best;
    }

    private static string NoneReason(GroupBalance balance, string? exclude)
    {
        var text = new StringBuilder("no cluster of group '").Append(balance.Group.Name).Append("' can take the query: ");
        for (int i = 0; i < balance.Names.Length; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append(balance.Names[i]).Append(' ');
            if (exclude is not null && string.Equals(balance.Names[i], exclude, StringComparison.Ordinal))
            {
                text.Append("excluded (already failed for this query)");
            }
            else if (balance.Weights[i] == 0)
            {
                text.Append("has weight 0");
            }
            else
            {
                balance.Members[i].AppendStatus(text);
            }
        }

        return text.ToString();
    }

    private GroupBalance Create(GroupConfig group)
    {
        _latest.TryGetValue(group.Name, out GroupBalance? previous);
        var balance = new GroupBalance(group, _registry, previous);
        _latest[group.Name] = balance;
        return balance;
    }
}
