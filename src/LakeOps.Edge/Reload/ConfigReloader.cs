using System.Globalization;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Reload;

/// <summary>
/// SIGHUP: re-reads the config file with the same loader and validator as <c>lakeops-edge validate</c>, prepares
/// every change that can fail (new engines, new listener sockets, new certificates) and only then applies them
/// all and publishes the snapshot. A file that does not validate, or a change that cannot be prepared, keeps the
/// running revision and logs every error with its YAML path. One reload runs at a time.
/// </summary>
internal sealed class ConfigReloader
{
    private readonly string _configPath;
    private readonly ConfigStore _store;
    private readonly EngineRegistry _engines;
    private readonly ListenerSet _listeners;
    private readonly AuditLog _audit;
    private readonly HealthMonitor _monitor;
    private readonly LogLevel _defaultLogLevel;
    private readonly SemaphoreSlim _serial = new(1, 1);
    private bool _stopped;

    public ConfigReloader(string configPath, ConfigStore store, EngineRegistry engines, ListenerSet listeners, AuditLog audit, HealthMonitor monitor, LogLevel defaultLogLevel)
    {
        _configPath = configPath;
        _store = store;
        _engines = engines;
        _listeners = listeners;
        _audit = audit;
        _monitor = monitor;
        _defaultLogLevel = defaultLogLevel;
    }

    /// <summary>Called when a reload starts (systemd RELOADING=1).</summary>
    public Action? Reloading { get; init; }

    /// <summary>Called when a reload ended, applied or not (systemd READY=1).</summary>
    public Action? Reloaded { get; init; }

    /// <summary>The level the log runs at for a config without server.log_level (the command line's, else info).</summary>
    public static LogLevel ApplyLogLevel(EdgeConfig config, LogLevel defaultLevel)
    {
        ArgumentNullException.ThrowIfNull(config);
        LogLevel level = config.Server.LogLevel ?? defaultLevel;
        LogLevel previous = Log.MinimumLevel;
        if (level == previous)
        {
            return level;
        }

        // Logged at whichever of the two levels shows an info line, so the change is always visible.
        string message = $"log level {LogLevels.Name(previous)} -> {LogLevels.Name(level)}";
        if (level <= LogLevel.Information)
        {
            Log.MinimumLevel = level;
            Log.Info(EventId.LogLevelChanged, message);
        }
        else
        {
            Log.Info(EventId.LogLevelChanged, message);
            Log.MinimumLevel = level;
        }

        return level;
    }

    /// <summary>Reloads the file; true when the new revision is live.</summary>
    public async Task<bool> ReloadAsync()
    {
        await _serial.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return false;
            }

            Reloading?.Invoke();
            return await ApplyAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A reload must never take the gateway down: whatever went wrong, the running revision stays.
            Log.Error(EventId.ConfigReloadFailed, $"reload of {_configPath} failed unexpectedly; revision {_store.Revision} stays live: {ex.GetType().Name}: {ex.Message}");
            return false;
        }
        finally
        {
            Reloaded?.Invoke();
            _serial.Release();
        }
    }

    /// <summary>Waits for a reload in progress and ignores later ones (the process is stopping).</summary>
    public async Task StopAsync()
    {
        await _serial.WaitAsync().ConfigureAwait(false);
        _stopped = true;
        _serial.Release();
    }

    private async Task<bool> ApplyAsync()
    {
        EdgeConfig running = _store.Current;
        ConfigLoadResult result = ConfigLoader.LoadFile(_configPath);
        if (!result.Success)
        {
            Log.Error(EventId.ConfigReloadFailed, $"reload of {_configPath} failed ({result.Errors.Count} error(s)); {Live(running)} stays live:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", result.Errors)}");
            return false;
        }

        EdgeConfig next = result.Config!;
        EnginePlan enginePlan = _engines.Plan(next);
        PreparedEngines? engines = null;
        PreparedListeners listeners;
        try
        {
            engines = await _engines.PrepareAsync(enginePlan).ConfigureAwait(false);
            listeners = await _listeners.PrepareAsync(next.Listeners).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineException or ListenerReloadException)
        {
            if (engines is not null)
            {
                await EngineRegistry.AbortAsync(engines).ConfigureAwait(false);
            }

            Log.Error(EventId.ConfigReloadFailed, $"reload of {_configPath} failed; {Live(running)} stays live:{Environment.NewLine}  {ex.Message}");
            return false;
        }

        // Nothing below can fail on bad input: engines first (so routes of the new snapshot find their clusters),
        // certificates before the snapshot (so a listener that now requires TLS can offer it), then the snapshot.
        TimeSpan drain = next.Server.ShutdownTimeout;
        _engines.Commit(engines, drain);
        _listeners.UseCertificates(listeners);
        long revision = _store.Publish(next);
        _monitor.Reconfigure(next);

        // Reopens the audit file too, so logrotate's rename + SIGHUP starts a new one.
        _audit.Reconfigure(next.Audit);
        ApplyLogLevel(next, _defaultLogLevel);
        await _listeners.CommitAsync(listeners, drain).ConfigureAwait(false);
        Log.Info(EventId.ConfigReloaded, string.Create(
            CultureInfo.InvariantCulture,
            $"reloaded {_configPath}: revision {revision} (sha256 {next.ContentHash}) is live; {Summary(enginePlan, listeners)}"));
        return true;
    }

    private string Live(EdgeConfig running) =>
        string.Create(CultureInfo.InvariantCulture, $"revision {_store.Revision} (sha256 {running.ContentHash})");

    private static string Summary(EnginePlan engines, PreparedListeners listeners)
    {
        var text = new StringBuilder();
        Append(text, "clusters started", engines.Added.Select(static c => c.Name));
        Append(text, "clusters replaced", engines.Replaced.Select(static c => c.Name));
        Append(text, "clusters removed", engines.Removed);
        Append(text, "listeners started", Names(listeners, ListenerStep.Start));
        Append(text, "listeners replaced", Names(listeners, ListenerStep.Replace));
        Append(text, "listeners stopped", Names(listeners, ListenerStep.Stop));
        if (text.Length == 0)
        {
            text.Append("no listener or cluster instance changed");
        }

        // Everything else is read from the snapshot per session, statement or pick.
        text.Append("; routes, groups, weights, users and limits apply to new sessions (routes also to the next statement)");
        return text.ToString();
    }

    private static IEnumerable<string> Names(PreparedListeners listeners, ListenerStep step)
    {
        foreach (ListenerChange change in listeners.Changes)
        {
            if (change.Step == step)
            {
                yield return change.Name;
            }
        }
    }

    private static void Append(StringBuilder text, string what, IEnumerable<string> names)
    {
        string joined = string.Join(", ", names);
        if (joined.Length == 0)
        {
            return;
        }

        if (text.Length > 0)
        {
            text.Append("; ");
        }

        text.Append(what).Append(": ").Append(joined);
    }
}
