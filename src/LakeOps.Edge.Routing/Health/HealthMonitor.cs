using System.Globalization;
using System.Net.Sockets;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Routing.Health;

/// <summary>
/// Active probes: one loop per cluster with <c>health.probe_interval</c> &gt; 0 and a probe from the factory.
/// Each loop probes at once, then every interval (sooner when an open breaker's backoff ends first), with
/// <c>health.probe_timeout</c>; outcomes go to the cluster's <see cref="ClusterHealth"/>. While the breaker
/// is open a loop does not probe; once the backoff has passed the probe is the single half-open trial
/// (unless a query claimed it first).
/// </summary>
/// <remarks>
/// <see cref="Reconfigure"/> applies a reload: the registry is updated, loops of removed clusters stop,
/// loops of clusters whose health options changed restart, new clusters get a loop. Unchanged clusters keep
/// their loop and probe. Engines (and so the addresses probes connect to) are fixed at start, like the
/// clusters themselves.
/// </remarks>
public sealed class HealthMonitor : IAsyncDisposable
{
    private readonly ClusterHealthRegistry _registry;
    private readonly Func<ClusterConfig, IClusterProbe?> _probeFactory;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ProbeLoop> _loops = new(StringComparer.Ordinal);
    private readonly List<ProbeLoop> _retiring = [];
    private bool _started;
    private bool _stopped;

    /// <param name="registry">Health of every cluster; its <see cref="ClusterHealthRegistry.Time"/> drives the probes.</param>
    /// <param name="probeFactory">The probe for a cluster, or null for clusters that are not probed.</param>
    public HealthMonitor(ClusterHealthRegistry registry, Func<ClusterConfig, IClusterProbe?> probeFactory)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(probeFactory);
        _registry = registry;
        _probeFactory = probeFactory;
        _time = registry.Time;
    }

    public ClusterHealthRegistry Registry => _registry;

    /// <summary>Names of the clusters being probed now.</summary>
    public IReadOnlyList<string> ProbedClusters
    {
        get
        {
            lock (_lock)
            {
                return [.. _loops.Keys];
            }
        }
    }

    /// <summary>Applies the first snapshot and starts probing.</summary>
    public void Start(EdgeConfig config)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _started = true;
        }

        Reconfigure(config);
    }

    /// <summary>Applies a reloaded snapshot (before <see cref="Start"/>: only the registry).</summary>
    public void Reconfigure(EdgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _registry.Apply(config);
        var started = new List<ProbeLoop>();
        lock (_lock)
        {
            if (!_started || _stopped)
            {
                return;
            }

            _retiring.RemoveAll(static loop => loop.Task?.IsCompleted ?? false);
            var gone = new List<string>();
            foreach ((string name, ProbeLoop loop) in _loops)
            {
                if (!config.Clusters.TryGetValue(name, out ClusterConfig? cluster) || !SameProbe(loop.Config, cluster))
                {
                    gone.Add(name);
                }
            }

            foreach (string name in gone)
            {
                ProbeLoop loop = _loops[name];
                _loops.Remove(name);
                loop.Cancellation.Cancel();
                _retiring.Add(loop);
            }

            foreach (ClusterConfig cluster in config.Clusters.Values)
            {
                if (_loops.ContainsKey(cluster.Name) || cluster.Health.ProbeInterval <= TimeSpan.Zero)
                {
                    continue;
                }

                IClusterProbe? probe = _probeFactory(cluster);
                if (probe is null)
                {
                    continue;
                }

                var loop = new ProbeLoop(cluster, _registry.Get(cluster.Name), probe);
                _loops.Add(cluster.Name, loop);
                started.Add(loop);
            }

            // Started under the lock so StopAsync always sees the task; the loop itself runs on the pool.
            foreach (ProbeLoop loop in started)
            {
                loop.Task = Task.Run(() => RunAsync(loop));
            }
        }
    }

    /// <summary>Stops every loop and waits for them (probes in flight are cancelled).</summary>
    public async Task StopAsync()
    {
        List<ProbeLoop> loops;
        lock (_lock)
        {
            _stopped = true;
            loops = [.. _loops.Values, .. _retiring];
            _loops.Clear();
            _retiring.Clear();
        }

        foreach (ProbeLoop loop in loops)
        {
            await loop.Cancellation.CancelAsync().ConfigureAwait(false);
        }

        foreach (ProbeLoop loop in loops)
        {
            if (loop.Task is { } task)
            {
                await task.ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>
    /// One probe: skipped while the breaker is open and not yet due, or while a query holds the half-open
    /// trial; otherwise run with the timeout and reported. Returns whether a probe ran.
    /// </summary>
    internal async Task<bool> ProbeOnceAsync(ClusterHealth health, IClusterProbe probe, HealthOptions options, CancellationToken cancellationToken)
    {
        bool trial = health.Breaker != BreakerState.Closed;
        if (trial && !health.TryBeginTrial())
        {
            return false;
        }

        long start = _time.GetTimestamp();
        using var probeCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task task;
        try
        {
            task = probe.ProbeAsync(probeCancellation.Token).AsTask();
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }

        try
        {
            await task.WaitAsync(options.ProbeTimeout, _time, cancellationToken).ConfigureAwait(false);
            health.ReportSuccess(_time.GetElapsedTime(start));
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: no verdict, and a held trial goes back so the next loop can take it.
            if (trial)
            {
                health.AbandonTrial();
            }

            Observe(task);
            throw;
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            await probeCancellation.CancelAsync().ConfigureAwait(false);
            Observe(task);
            string detail = string.Create(CultureInfo.InvariantCulture, $"probe did not answer within {options.ProbeTimeout.TotalSeconds:0.###} s");
            Log.Warn(EventId.ClusterProbeFailed, $"cluster '{health.Name}': {detail}");
            health.ReportFailure(FailureKind.Timeout, detail);
            return true;
        }
        catch (Exception ex)
        {
            Log.Warn(EventId.ClusterProbeFailed, $"cluster '{health.Name}': probe failed: {ex.Message}");
            health.ReportFailure(Classify(ex), ex.Message);
            return true;
        }
    }

    /// <summary>SQLSTATE class 08 and socket errors are connect failures; a probe's own cancellation a timeout.</summary>
    internal static FailureKind Classify(Exception exception) => exception switch
    {
        EngineException engine when engine.SqlState.StartsWith("08", StringComparison.Ordinal) => FailureKind.Connect,
        SocketException or IOException => FailureKind.Connect,
        OperationCanceledException or TimeoutException => FailureKind.Timeout,
        _ => FailureKind.Server,
    };

    private async Task RunAsync(ProbeLoop loop)
    {
        CancellationToken cancellationToken = loop.Cancellation.Token;
        HealthOptions options = loop.Config.Health;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await ProbeOnceAsync(loop.Health, loop.Probe, options, cancellationToken).ConfigureAwait(false);
                await Task.Delay(NextDelay(loop.Health, options), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.Error(EventId.HealthMonitorFailed, $"health probes of cluster '{loop.Health.Name}' stopped: {ex}");
        }
        finally
        {
            await DisposeProbeAsync(loop).ConfigureAwait(false);
        }
    }

    /// <summary>The interval, or less when an open breaker's backoff ends sooner (the probe is then the trial).</summary>
    private static TimeSpan NextDelay(ClusterHealth health, HealthOptions options)
    {
        if (health.Breaker == BreakerState.Open)
        {
            TimeSpan remaining = health.OpenRemaining;
            if (remaining < options.ProbeInterval)
            {
                return remaining;
            }
        }

        return options.ProbeInterval;
    }

    private static async ValueTask DisposeProbeAsync(ProbeLoop loop)
    {
        try
        {
            switch (loop.Probe)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        catch (Exception ex)
        {
            Log.Warn(EventId.HealthMonitorFailed, $"closing the health probe of cluster '{loop.Health.Name}' failed: {ex.Message}");
        }
    }

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Whether a running loop can keep its probe: same engine kind and health options.</summary>
    private static bool SameProbe(ClusterConfig a, ClusterConfig b) => a.Engine == b.Engine && a.Health == b.Health;

    private sealed class ProbeLoop(ClusterConfig config, ClusterHealth health, IClusterProbe probe)
    {
        public ClusterConfig Config { get; } = config;

        public ClusterHealth Health { get; } = health;

        public IClusterProbe Probe { get; } = probe;

        public CancellationTokenSource Cancellation { get; } = new();

        public Task? Task { get; set; }
    }
}
