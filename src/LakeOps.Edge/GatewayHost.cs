using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Engines.Health;
using LakeOps.Edge.Frontends;
using LakeOps.Edge.Frontends.MySql;
using LakeOps.Edge.Frontends.Postgres;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
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

        Log.Info(EventId.Starting, $"lakeops-edge {Cli.Version} starting with {configPath}");
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
        var listeners = new List<FrontDoorListener>();
        try
        {
            foreach (ListenerConfig listener in config.Listeners)
            {
                FrontDoorListener started = listener.Protocol == ListenerProtocol.MySql
                    ? new MySqlListener(listener, store, engines) { Audit = audit, Admission = admission, Picker = picker }
                    : new PgListener(listener, store, engines) { Audit = audit, Admission = admission, Picker = picker };
                listeners.Add(started);
                started.Start();
            }
        }
        catch (Exception ex) when (ex is SocketException or CryptographicException or IOException)
        {
            Log.Error(EventId.Stopping, $"cannot start listener: {ex.Message}");
            foreach (FrontDoorListener started in listeners)
            {
                await started.DisposeAsync().ConfigureAwait(false);
            }

            await monitor.StopAsync().ConfigureAwait(false);
            return 1;
        }

        // Probes start once the listeners are bound (their outgoing connections never race the listeners' ports).
        monitor.Start(store.Current);
        Log.Info(EventId.Listening, $"ready in {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms since process start");
        SystemdNotify("READY=1");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Reload(configPath, store, audit, monitor); });

        await stop.Task.ConfigureAwait(false);
        Log.Info(EventId.Stopping, "stopping: no new connections, waiting for sessions to finish");
        SystemdNotify("STOPPING=1");
        TimeSpan timeout = store.Current.Server.ShutdownTimeout;
        await Task.WhenAll(listeners.Select(l => l.StopAsync(timeout))).ConfigureAwait(false);
        foreach (FrontDoorListener listener in listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        await monitor.StopAsync().ConfigureAwait(false);
        Log.Info(EventId.Stopped, "stopped");
        return 0;
    }

    /// <summary>Parse + validate everything, then swap the snapshot; a bad file keeps the last good one.</summary>
    private static void Reload(string configPath, ConfigStore store, AuditLog audit, HealthMonitor monitor)
    {
        ConfigLoadResult result = ConfigLoader.LoadFile(configPath);
        if (!result.Success)
        {
            Log.Error(EventId.ConfigReloadFailed, $"reload of {configPath} failed; keeping the running configuration:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", result.Errors)}");
            return;
        }

        store.Publish(result.Config!);

        // Health options and cluster states (draining, disabled) apply to the next pick; probes follow.
        monitor.Reconfigure(result.Config!);

        // Reopens the audit file too, so logrotate's rename + SIGHUP starts a new one.
        audit.Reconfigure(result.Config!.Audit);
        Log.Info(EventId.ConfigReloaded, $"reloaded {configPath} (listener addresses and cluster addresses apply at restart; cluster state and health at once; users and limits apply to new sessions, routes also to the next statement of sessions that route per statement)");
    }

    /// <summary>sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.</summary>
    private static void SystemdNotify(string state)
    {
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            string address = path[0] == '@' ? "\0" + path[1..] : path;
            socket.Connect(new UnixDomainSocketEndPoint(address));
            socket.Send(System.Text.Encoding.UTF8.GetBytes(state));
        }
        catch (SocketException ex)
        {
            Log.Warn(EventId.Starting, $"systemd notify failed: {ex.Message}");
        }
    }
}
