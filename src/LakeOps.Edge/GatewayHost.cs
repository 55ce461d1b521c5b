using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Engines.Health;
using LakeOps.Edge.Frontends.MySql;
using LakeOps.Edge.Frontends.Postgres;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Reload;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Systemd;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge;

/// <summary>
/// The thin host: starts engines and listeners from the config, reloads the config on SIGHUP,
/// drains and stops on SIGTERM/SIGINT, and tells systemd when it is ready or stopping.
/// </summary>
internal static class GatewayHost
{
    public static async Task<int> RunAsync(string configPath, EdgeConfig config)
    {
        // Engines block a thread while a statement runs; keep enough threads ready for cancel and I/O.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);

        // server.log_level wins over --log-level, which stays the level for a config without the key.
        LogLevel defaultLogLevel = Log.MinimumLevel;
        ConfigReloader.ApplyLogLevel(config, defaultLogLevel);
        Log.Info(EventId.Starting, $"lakeops-edge {Cli.Version} starting with {configPath}: revision 1 (sha256 {config.ContentHash})");
        var store = new ConfigStore(config);
        EngineRegistry registry;
        try
        {
            registry = await EngineRegistry.StartAsync(config).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            Log.Error(EventId.EngineFailed, $"cannot start the clusters: {ex.Message}");
            return 1;
        }

        await using EngineRegistry engines = registry;

        // Disposed last (after the listeners drained): writes what is queued and closes the file.
        using var audit = new AuditLog(config.Audit);
        if (config.Audit.Enabled)
        {
            Log.Info(EventId.Starting, $"audit log: {config.Audit.Path}{(config.Audit.IncludeSql ? " (with statement text)" : "")}");
        }
        foreach (string cluster in engines.ClusterNames)
        {
            Log.Info(EventId.EngineStarted, $"cluster '{cluster}' ({config.Clusters[cluster].Engine}) started");
        }

        // One set of gates for the process; they follow the store's snapshot, so a reload resizes them in place.
        var admission = new AdmissionGates(store);

        // One health registry for the process: the picker reads it, passive signals and the probes feed it.
        var health = new ClusterHealthRegistry();
        var picker = new ClusterPicker(health);
        var monitor = new HealthMonitor(health, cluster => ClusterProbes.Create(engines.Find(cluster.Name)));
        // One factory per protocol: the listener set creates (and binds) front doors from them at start and on reload.
        var factories = new Dictionary<ListenerProtocol, FrontDoorFactory>
        {
            [ListenerProtocol.Postgres] = l => new PgListener(l, store, engines) { Audit = audit, Admission = admission, Picker = picker },
            [ListenerProtocol.MySql] = l => new MySqlListener(l, store, engines) { Audit = audit, Admission = admission, Picker = picker },
            [ListenerProtocol.Trino] = l => new TrinoFrontDoor(l, store, engines) { Audit = audit, Admission = admission, Picker = picker },
        };
        // Disposed explicitly (not by `using`): the listeners must close before the monitor stops and the audit
        // log and engines are disposed.
        var listeners = new ListenerSet(factories, ListenerCertificate.Load);
        try
        {
            listeners.Start(config.Listeners);
        }
        catch (Exception ex) when (ex is SocketException or CryptographicException or IOException or ListenerReloadException)
        {
            Log.Error(EventId.Stopping, $"cannot start listener: {ex.Message}");
            await listeners.DisposeAsync().ConfigureAwait(false);
            await monitor.StopAsync().ConfigureAwait(false);
            return 1;
        }

        // Probes start once the listeners are bound (their outgoing connections never race the listeners' ports).
        monitor.Start(store.Current);

        // Signals are handled before anyone is told the gateway is ready: a SIGHUP right after "ready" must reload.
        using SystemdNotifier? systemd = SystemdNotifier.FromEnvironment();
        using var shutdown = new ShutdownSignals();
        var reloader = new ConfigReloader(configPath, store, engines, listeners, audit, monitor, defaultLogLevel)
        {
            Reloading = () => systemd?.Reloading(),
            Reloaded = () => systemd?.Ready(),
        };
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; _ = reloader.ReloadAsync(); });

        // systemd (Type=notify): READY=1 only now that every listener is bound; the watchdog pings from here on.
        Log.Info(EventId.Listening, $"ready in {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms since process start");
        systemd?.Ready();
        await using SystemdWatchdog? watchdog = systemd is not null && SystemdNotifier.WatchdogIntervalFromEnvironment() is { } interval ? new SystemdWatchdog(systemd, interval) : null;
        watchdog?.Start();
        await using var memoryTrimmer = new MemoryTrimmer(store);
        memoryTrimmer.Start();

        await shutdown.Requested.ConfigureAwait(false);
        await reloader.StopAsync().ConfigureAwait(false);
        Log.Info(EventId.Stopping, "stopping: no new connections, waiting for sessions to finish");
        systemd?.Stopping();

        // Idle clients are told at once; running statements finish. A second signal or the timeout exits at once.
        TimeSpan timeout = store.Current.Server.ShutdownTimeout;
        await shutdown.DrainOrExitAsync(listeners.StopAllAsync(Timeout.InfiniteTimeSpan), timeout).ConfigureAwait(false);
        await listeners.DisposeAsync().ConfigureAwait(false);
        await monitor.StopAsync().ConfigureAwait(false);
        Log.Info(EventId.Stopped, "stopped");
        return 0;
    }
}
