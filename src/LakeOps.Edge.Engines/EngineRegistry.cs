using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Engines.Trino;

namespace LakeOps.Edge.Engines;

/// <summary>
/// Creates and owns one <see cref="IEngine"/> per configured cluster. A reload changes the set in two steps:
/// <see cref="PrepareAsync"/> creates the new instances (nothing running changes, so a failure leaves everything as
/// it was), <see cref="Commit"/> swaps them in atomically and retires the instances they replace or that were
/// removed: those drain (running work finishes, idle server connections close) and are disposed afterwards.
/// Sessions that hold a retired instance keep using it until they end or it is disposed.
/// </summary>
public sealed class EngineRegistry : IEngineProvider, IAsyncDisposable
{
    private static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(50);

    private readonly Func<ClusterConfig, IEngine> _create;
    private readonly CancellationTokenSource _disposing = new();
    private readonly List<Task> _retiring = [];
    private readonly Lock _gate = new();
    private FrozenDictionary<string, RunningEngine> _engines;

    private EngineRegistry(FrozenDictionary<string, RunningEngine> engines, Func<ClusterConfig, IEngine> create)
    {
        _engines = engines;
        _create = create;
    }

    public IReadOnlyCollection<string> ClusterNames => Volatile.Read(ref _engines).Keys;

    /// <summary>The config each running engine was started with (a reload compares against it).</summary>
    public IReadOnlyDictionary<string, ClusterConfig> RunningClusters
    {
        get
        {
            FrozenDictionary<string, RunningEngine> engines = Volatile.Read(ref _engines);
            var clusters = new Dictionary<string, ClusterConfig>(engines.Count, StringComparer.Ordinal);
            foreach ((string name, RunningEngine running) in engines)
            {
                clusters[name] = running.Config;
            }

            return clusters;
        }
    }

    /// <summary>Starts every cluster of the config; if one fails, the ones started are stopped again.</summary>
    public static ValueTask<EngineRegistry> StartAsync(EdgeConfig config) => StartAsync(config, Create);

    /// <summary>As <see cref="StartAsync(EdgeConfig)"/> with another engine factory (tests).</summary>
    internal static async ValueTask<EngineRegistry> StartAsync(EdgeConfig config, Func<ClusterConfig, IEngine> create)
    {
        ArgumentNullException.ThrowIfNull(config);
        var engines = new Dictionary<string, RunningEngine>(StringComparer.Ordinal);
        try
        {
            foreach (ClusterConfig cluster in config.Clusters.Values)
            {
                engines[cluster.Name] = new RunningEngine(cluster, create(cluster));
            }
        }
        catch
        {
            foreach (RunningEngine running in engines.Values)
            {
                await running.Engine.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new EngineRegistry(engines.ToFrozenDictionary(StringComparer.Ordinal), create);
    }

    public static IEngine Create(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return cluster.Engine switch
        {
            EngineKind.DuckDb => new DuckDbEngine(cluster),
            EngineKind.Postgres => new PostgresEngine(cluster),
            EngineKind.MySql => new MySqlEngine(cluster),
            EngineKind.Trino => new TrinoEngine(cluster),
            _ => throw new NotSupportedException($"engine kind {cluster.Engine} is not supported"),
        };
    }

    public IEngine? Find(string clusterName) =>
        Volatile.Read(ref _engines).TryGetValue(clusterName, out RunningEngine running) ? running.Engine : null;

    /// <summary>What a reload to <paramref name="next"/> would change (pure; see <see cref="EnginePlan"/>).</summary>
    public EnginePlan Plan(EdgeConfig next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return EnginePlan.Create(RunningClusters, next.Clusters);
    }

    /// <summary>
    /// Creates the engines <paramref name="plan"/> starts or replaces, without making them visible. Throws
    /// <see cref="EngineException"/> naming the cluster when one cannot be created (the others are disposed again).
    /// </summary>
    public async ValueTask<PreparedEngines> PrepareAsync(EnginePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var created = new Dictionary<string, RunningEngine>(StringComparer.Ordinal);
        try
        {
            foreach (ClusterConfig cluster in plan.Added)
            {
                created[cluster.Name] = new RunningEngine(cluster, CreateForReload(cluster));
            }

            foreach (ClusterConfig cluster in plan.Replaced)
            {
                created[cluster.Name] = new RunningEngine(cluster, CreateForReload(cluster));
            }
        }
        catch
        {
            foreach (RunningEngine running in created.Values)
            {
                await running.Engine.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new PreparedEngines(plan, created);
    }

    /// <summary>A reload that was prepared but not committed: its new engines are disposed.</summary>
    public static async ValueTask AbortAsync(PreparedEngines prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        foreach (RunningEngine running in prepared.Created.Values)
        {
            await running.Engine.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes the prepared engines visible (new sessions find them at once) and retires the ones they replace and
    /// the removed ones: each drains for at most <paramref name="drainTimeout"/>, then is disposed.
    /// </summary>
    public void Commit(PreparedEngines prepared, TimeSpan drainTimeout)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var retired = new List<(RunningEngine Engine, string Why)>();
        lock (_gate)
        {
            var next = new Dictionary<string, RunningEngine>(_engines, StringComparer.Ordinal);
            foreach (string name in prepared.Plan.Removed)
            {
                if (next.Remove(name, out RunningEngine old))
                {
                    retired.Add((old, "was removed"));
                }
            }

            foreach ((string name, RunningEngine created) in prepared.Created)
            {
                if (next.TryGetValue(name, out RunningEngine old))
                {
                    retired.Add((old, "was replaced (its address, credentials, pool or engine settings changed)"));
                }

                next[name] = created;
                Log.Info(EventId.ClusterChanged, old.Engine is null
                    ? $"cluster '{name}' ({created.Config.Engine}) started"
                    : $"cluster '{name}' ({created.Config.Engine}): new sessions use a new instance");
            }

            Volatile.Write(ref _engines, next.ToFrozenDictionary(StringComparer.Ordinal));
            foreach ((RunningEngine engine, string why) in retired)
            {
                _retiring.RemoveAll(static t => t.IsCompleted);
                _retiring.Add(RetireAsync(engine, why, drainTimeout, _disposing.Token));
            }
        }

        foreach (ClusterRestartNote note in prepared.Plan.KeptUntilRestart)
        {
            Log.Warn(EventId.ClusterChanged, $"cluster '{note.Cluster}' keeps its running engine: {note.Reason}");
        }
    }

    /// <summary>Completes when every engine retired so far has been disposed.</summary>
    public Task WhenRetiredAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll(_retiring);
        }
    }

    private IEngine CreateForReload(ClusterConfig cluster)
    {
        try
        {
            return _create(cluster);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or IOException)
        {
            throw new EngineException($"cluster '{cluster.Name}' cannot start: {ex.Message}", SqlStates.ConnectionException, ex);
        }
        catch (EngineException ex)
        {
            throw new EngineException($"cluster '{cluster.Name}' cannot start: {ex.Message}", ex.SqlState, ex);
        }
    }

    /// <summary>Drains one retired engine (until it is idle or the timeout passes), then disposes it.</summary>
    private static async Task RetireAsync(RunningEngine retired, string why, TimeSpan timeout, CancellationToken disposing)
    {
        string name = retired.Config.Name;
        IEngine engine = retired.Engine;
        var drainable = engine as IDrainableEngine;
        long start = Stopwatch.GetTimestamp();
        bool idle = false;
        try
        {
            drainable?.BeginDrain();
            Log.Info(EventId.ClusterChanged, string.Create(
                CultureInfo.InvariantCulture,
                $"cluster '{name}' {why}: draining its old instance (running work finishes, idle server connections close; at most {timeout.TotalSeconds:0.###} s, server.shutdown_timeout)"));
            using var timer = new PeriodicTimer(DrainPollInterval);
            while (true)
            {
                if (drainable is not null && !drainable.IsBusy)
                {
                    idle = true;
                    break;
                }

                if (Stopwatch.GetElapsedTime(start) >= timeout || !await timer.WaitForNextTickAsync(disposing).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The process is stopping: dispose at once.
        }

        try
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Log.Warn(EventId.ClusterDrained, $"cluster '{name}': disposing its old instance failed: {ex.Message}");
        }

        double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Log.Info(EventId.ClusterDrained, idle
            ? string.Create(CultureInfo.InvariantCulture, $"cluster '{name}' old instance drained in {elapsed:0} ms and stopped")
            : string.Create(CultureInfo.InvariantCulture, $"cluster '{name}' old instance stopped after {elapsed:0} ms with work possibly still running (drain timeout or shutdown)"));
    }

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync().ConfigureAwait(false);
        await WhenRetiredAsync().ConfigureAwait(false);
        foreach (RunningEngine running in Volatile.Read(ref _engines).Values)
        {
            await running.Engine.DisposeAsync().ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    /// <summary>An engine and the cluster config it was created from.</summary>
    internal readonly record struct RunningEngine(ClusterConfig Config, IEngine Engine);
}

/// <summary>Engines created for a reload and not yet visible: pass to <see cref="EngineRegistry.Commit"/> or <see cref="EngineRegistry.AbortAsync"/>.</summary>
public sealed class PreparedEngines
{
    internal PreparedEngines(EnginePlan plan, Dictionary<string, EngineRegistry.RunningEngine> created)
    {
        Plan = plan;
        Created = created;
    }

    public EnginePlan Plan { get; }

    internal Dictionary<string, EngineRegistry.RunningEngine> Created { get; }
}
