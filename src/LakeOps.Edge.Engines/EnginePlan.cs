using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Engines;

/// <summary>
/// What a reload does to the running engines: which clusters start, which get a new instance (their address,
/// credentials, pool or engine options changed), which drain and stop, and which keep running although their
/// config changed (embedded DuckDB, see <see cref="Create"/>). Pure: no engine is touched.
/// </summary>
public sealed record EnginePlan(
    IReadOnlyList<ClusterConfig> Added,
    IReadOnlyList<ClusterConfig> Replaced,
    IReadOnlyList<string> Removed,
    IReadOnlyList<ClusterRestartNote> KeptUntilRestart)
{
    /// <summary>
    /// Compares the config each running engine was started with (<paramref name="running"/>) with the reloaded
    /// clusters. Settings read per query from the current snapshot (health, state, admission, query_timeout,
    /// group membership and weights) never need a new instance.
    /// </summary>
    public static EnginePlan Create(IReadOnlyDictionary<string, ClusterConfig> running, IReadOnlyDictionary<string, ClusterConfig> next)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(next);
        var added = new List<ClusterConfig>();
        var replaced = new List<ClusterConfig>();
        var removed = new List<string>();
        var kept = new List<ClusterRestartNote>();
        foreach (ClusterConfig cluster in next.Values)
        {
            if (!running.TryGetValue(cluster.Name, out ClusterConfig? current))
            {
                added.Add(cluster);
            }
            else if (!SameInstance(current, cluster))
            {
                if (KeepsEmbeddedDatabase(current, cluster) is { } reason)
                {
                    kept.Add(new ClusterRestartNote(cluster.Name, reason));
                }
                else
                {
                    replaced.Add(cluster);
                }
            }
        }

        foreach (string name in running.Keys)
        {
            if (!next.ContainsKey(name))
            {
                removed.Add(name);
            }
        }

        // Stable order for logs and tests (dictionary order is not).
        added.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        replaced.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        removed.Sort(StringComparer.Ordinal);
        kept.Sort(static (a, b) => string.CompareOrdinal(a.Cluster, b.Cluster));
        return new EnginePlan(added, replaced, removed, kept);
    }

    /// <summary>True when an engine started with <paramref name="current"/> serves <paramref name="next"/> as it is.</summary>
    public static bool SameInstance(ClusterConfig current, ClusterConfig next)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        return current.Engine == next.Engine
            && Equals(current.DuckDb, next.DuckDb)
            && Equals(current.Remote, next.Remote)
            && current.Pool == next.Pool
            && current.Limits.MaxSessions == next.Limits.MaxSessions
            && SameTrino(current.Trino, next.Trino);
    }

    /// <summary>
    /// An embedded DuckDB database cannot be opened twice (the file is locked) and an in-memory one would lose its
    /// data: a DuckDB cluster that keeps its database gets its new settings at restart; one that moves to another
    /// file (or to another engine) is replaced.
    /// </summary>
    private static string? KeepsEmbeddedDatabase(ClusterConfig current, ClusterConfig next)
    {
        if (current.Engine != EngineKind.DuckDb || next.Engine != EngineKind.DuckDb)
        {
            return null;
        }

        string before = (current.DuckDb ?? new DuckDbOptions()).Path;
        string after = (next.DuckDb ?? new DuckDbOptions()).Path;
        if (before != after && !(before == ":memory:" && after == ":memory:"))
        {
            return null;
        }

        return before == ":memory:"
            ? "its in-memory DuckDB database would lose its data; duckdb settings and limits.max_sessions apply at restart"
            : $"its DuckDB file '{before}' stays open (one process cannot open it twice); duckdb settings and limits.max_sessions apply at restart";
    }

    /// <summary>Trino options hold lists: compared by content, not by reference.</summary>
    private static bool SameTrino(TrinoEngineOptions? current, TrinoEngineOptions? next)
    {
        if (current is null || next is null)
        {
            return current is null && next is null;
        }

        return WithoutLists(current) == WithoutLists(next)
            && current.ClientTags.SequenceEqual(next.ClientTags, StringComparer.Ordinal)
            && current.SessionProperties.SequenceEqual(next.SessionProperties)
            && current.ForwardHeaders.SequenceEqual(next.ForwardHeaders, StringComparer.OrdinalIgnoreCase);
    }

    private static TrinoEngineOptions WithoutLists(TrinoEngineOptions options) =>
        options with { ClientTags = NoStrings, SessionProperties = NoPairs, ForwardHeaders = NoStrings };

    private static readonly string[] NoStrings = [];
    private static readonly KeyValuePair<string, string>[] NoPairs = [];
}

/// <summary>A cluster whose changed settings the reload could not apply to its running engine, and why.</summary>
public sealed record ClusterRestartNote(string Cluster, string Reason);
