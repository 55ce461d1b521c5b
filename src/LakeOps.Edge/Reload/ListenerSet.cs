using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Frontends;

namespace LakeOps.Edge.Reload;

/// <summary>Creates (and so binds) the front door of one listener entry; one per <see cref="ListenerProtocol"/>.</summary>
internal delegate IFrontDoor FrontDoorFactory(ListenerConfig listener);

/// <summary>A reload could not be applied to the listeners; the message starts with the listener's YAML path.</summary>
internal sealed class ListenerReloadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The running front doors, one per listener entry, and how a reload changes them (<see cref="ListenerPlan"/>):
/// <see cref="PrepareAsync"/> binds every new address and loads every changed certificate before anything running
/// changes (a failure leaves the listeners as they were); <see cref="UseCertificates"/> and <see cref="CommitAsync"/>
/// then swap certificates, start the new listeners, and stop the removed or moved ones, which drain their sessions.
/// Only one reload at a time may call these (the host serialises reloads).
/// </summary>
internal sealed class ListenerSet : IAsyncDisposable
{
    private static readonly TimeSpan ReleaseWait = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyDictionary<ListenerProtocol, FrontDoorFactory> _factories;
    private readonly Func<TlsConfig, X509Certificate2> _loadCertificate;
    private readonly Dictionary<string, RunningDoor> _running = new(StringComparer.Ordinal);
    private readonly List<(IPEndPoint Endpoint, Task Stopped)> _retiring = [];
    private readonly Lock _gate = new();

    public ListenerSet(IReadOnlyDictionary<ListenerProtocol, FrontDoorFactory> factories, Func<TlsConfig, X509Certificate2> loadCertificate)
    {
        _factories = factories;
        _loadCertificate = loadCertificate;
    }

    /// <summary>The front doors running now (a retired one that still drains is not among them).</summary>
    public IReadOnlyList<IFrontDoor> Doors
    {
        get
        {
            lock (_gate)
            {
                var doors = new List<IFrontDoor>(_running.Count);
                foreach (RunningDoor running in _running.Values)
                {
                    doors.Add(running.Door);
                }

                return doors;
            }
        }
    }

    /// <summary>The config each running front door was started (or last reloaded) with.</summary>
    public IReadOnlyList<ListenerConfig> RunningConfigs
    {
        get
        {
            lock (_gate)
            {
                var configs = new List<ListenerConfig>(_running.Count);
                foreach (RunningDoor running in _running.Values)
                {
                    configs.Add(running.Config);
                }

                return configs;
            }
        }
    }

    /// <summary>
    /// Starts every listener of the first config. Throws when one cannot bind; those already started stay in the
    /// set, and the owner's <see cref="DisposeAsync"/> closes them.
    /// </summary>
    public void Start(IReadOnlyList<ListenerConfig> listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        foreach (ListenerConfig listener in listeners)
        {
            IFrontDoor door = Create(listener);
            lock (_gate)
            {
                _running[listener.Name] = new RunningDoor(listener, door);
            }

            door.Start();
        }
    }

    /// <summary>
    /// Binds the new addresses of <paramref name="next"/> and loads the certificates that changed. Throws
    /// <see cref="ListenerReloadException"/> naming the listener when an address cannot be bound or a certificate
    /// cannot be loaded; then nothing was changed.
    /// </summary>
    public async Task<PreparedListeners> PrepareAsync(IReadOnlyList<ListenerConfig> next)
    {
        IReadOnlyList<ListenerChange> changes = ListenerPlan.Create(RunningConfigs, next);
        var prepared = new PreparedListeners(changes);
        try
        {
            foreach (ListenerChange change in changes)
            {
                switch (change.Step)
                {
                    case ListenerStep.Start or ListenerStep.Replace when !change.BindsAfterRelease:
                        // An address a listener retired by an earlier reload is still closing: wait for it briefly.
                        prepared.Bound[change.Name] = IsRetiring(change.Next!)
                            ? await BindRetryingAsync(change.Next!).ConfigureAwait(false)
                            : Bind(change.Next!);
                        break;
                    case ListenerStep.Keep:
                        PrepareTls(change, prepared);
                        break;
                }
            }
        }
        catch
        {
            await AbortAsync(prepared).ConfigureAwait(false);
            throw;
        }

        return prepared;
    }

    /// <summary>A prepared reload that will not be committed: closes its sockets and certificates.</summary>
    public static async Task AbortAsync(PreparedListeners prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        foreach (IFrontDoor door in prepared.Bound.Values)
        {
            await door.DisposeAsync().ConfigureAwait(false);
        }

        foreach ((_, X509Certificate2? certificate) in prepared.Certificates)
        {
            certificate?.Dispose();
        }

        prepared.Bound.Clear();
        prepared.Certificates.Clear();
    }

    /// <summary>Kept listeners switch to their new certificates: new connections get them, open ones keep theirs.</summary>
    public void UseCertificates(PreparedListeners prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        foreach ((string name, X509Certificate2? certificate) in prepared.Certificates)
        {
            RunningDoor running;
            lock (_gate)
            {
                running = _running[name];
            }

            ((ICertificateSwap)running.Door).UseCertificate(certificate);
            Log.Info(EventId.ListenerChanged, certificate is null
                ? $"listener '{name}': TLS off for new connections"
                : string.Create(CultureInfo.InvariantCulture, $"listener '{name}': new connections get certificate {certificate.Subject} (SHA-256 {certificate.GetCertHashString(HashAlgorithmName.SHA256)[..16]}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})"));
        }

        prepared.Certificates.Clear();
    }

    /// <summary>
    /// Starts the listeners bound by <see cref="PrepareAsync"/>, stops the removed and moved ones (they drain for at
    /// most <paramref name="drain"/> in the background), then binds and starts those whose address another listener
    /// just gave up. Such a late bind that still fails is logged: that listener is not running until the next reload.
    /// </summary>
    public async Task CommitAsync(PreparedListeners prepared, TimeSpan drain)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var late = new List<ListenerChange>();
        foreach (ListenerChange change in prepared.Changes)
        {
            switch (change.Step)
            {
                case ListenerStep.Keep:
                    lock (_gate)
                    {
                        _running[change.Name] = _running[change.Name] with { Config = change.Next! };
                    }

                    break;
                case ListenerStep.Stop:
                    Retire(Take(change.Name), drain, $"listener '{change.Name}' was removed");
                    break;
                case ListenerStep.Start or ListenerStep.Replace when change.BindsAfterRelease:
                    late.Add(change);
                    break;
                default:
                    // The new address accepts before the old one stops: clients always find one of them.
                    IFrontDoor door = prepared.Bound[change.Name];
                    prepared.Bound.Remove(change.Name);
                    RunningDoor? old = change.Step == ListenerStep.Replace ? Take(change.Name) : null;
                    if (Install(change.Next!, door))
                    {
                        Retire(old, drain, $"listener '{change.Name}' moved to {change.Next!.Endpoint} ({Describe(change.Next)})");
                    }
                    else if (old is { } kept)
                    {
                        // The new door could not start (a door that binds only when started): the old one stays.
                        lock (_gate)
                        {
                            _running[change.Name] = kept;
                        }
                    }

                    break;
            }
        }

        foreach (ListenerChange change in late)
        {
            if (change.Step == ListenerStep.Replace)
            {
                Retire(Take(change.Name), drain, $"listener '{change.Name}' is replaced on {change.Next!.Endpoint} ({Describe(change.Running!)} -> {Describe(change.Next)})");
            }
        }

        foreach (ListenerChange change in late)
        {
            IFrontDoor door;
            try
            {
                door = await BindRetryingAsync(change.Next!).ConfigureAwait(false);
            }
            catch (ListenerReloadException ex)
            {
                Log.Error(EventId.ListenerChanged, $"{ex.Message}; listener '{change.Name}' is not running (fix the config and reload)");
                continue;
            }

            _ = Install(change.Next!, door);
        }
    }

    /// <summary>Stops every listener (running and retiring) and waits up to <paramref name="drain"/> for their sessions.</summary>
    public async Task StopAllAsync(TimeSpan drain)
    {
        List<Task> stops = [];
        foreach (IFrontDoor door in Doors)
        {
            stops.Add(door.StopAsync(drain));
        }

        lock (_gate)
        {
            foreach ((_, Task stopped) in _retiring)
            {
                stops.Add(stopped);
            }
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        List<RunningDoor> running;
        Task[] retiring;
        lock (_gate)
        {
            running = [.. _running.Values];
            _running.Clear();
            retiring = [.. _retiring.Select(static r => r.Stopped)];
        }

        foreach (RunningDoor door in running)
        {
            await door.Door.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(retiring).ConfigureAwait(false);
    }

    private IFrontDoor Create(ListenerConfig listener) =>
        _factories.TryGetValue(listener.Protocol, out FrontDoorFactory? factory)
            ? factory(listener)
            : throw new ListenerReloadException($"listeners.{listener.Name}.protocol: no front door for protocol {listener.Protocol} in this build");

    /// <summary>Creates (binds) a front door, turning bind and certificate failures into a message with the YAML path.</summary>
    private IFrontDoor Bind(ListenerConfig listener)
    {
        try
        {
            return Create(listener);
        }
        catch (SocketException ex)
        {
            throw new ListenerReloadException($"listeners.{listener.Name}.address: cannot listen on {listener.Endpoint}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ListenerReloadException($"listeners.{listener.Name}.tls: cannot load the certificate: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A kept listener whose TLS settings or certificate files changed gets the new certificate in place. A front
    /// door that cannot swap certificates is not kept but replaced (it is stopped, then started again).
    /// </summary>
    private void PrepareTls(ListenerChange change, PreparedListeners prepared)
    {
        ListenerConfig next = change.Next!;
        RunningDoor running;
        lock (_gate)
        {
            running = _running[change.Name];
        }

        if (running.Door is not ICertificateSwap swap)
        {
            if (!Equals(running.Config.Tls, next.Tls))
            {
                prepared.Replace(change);
            }

            return;
        }

        X509Certificate2? current = swap.CurrentCertificate;
        if (next.Tls is null)
        {
            if (current is not null)
            {
                prepared.Certificates.Add((change.Name, null));
            }

            return;
        }

        X509Certificate2 loaded;
        try
        {
            loaded = _loadCertificate(next.Tls);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ListenerReloadException($"listeners.{change.Name}.tls.certificate: cannot load the certificate: {ex.Message}", ex);
        }

        if (current is not null && current.RawData.AsSpan().SequenceEqual(loaded.RawData))
        {
            loaded.Dispose();
            return;
        }

        prepared.Certificates.Add((change.Name, loaded));
    }

    /// <summary>Starts a bound door (a front door that binds only when started, as Kestrel does, may fail here: logged).</summary>
    private bool Install(ListenerConfig listener, IFrontDoor door)
    {
        try
        {
            door.Start();
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
        {
            Log.Error(EventId.ListenerChanged, $"listeners.{listener.Name}.address: cannot listen on {listener.Endpoint}: {ex.Message}; listener '{listener.Name}' is not running (fix the config and reload)");
            _ = door.DisposeAsync().AsTask();
            return false;
        }

        lock (_gate)
        {
            _running[listener.Name] = new RunningDoor(listener, door);
        }

        return true;
    }

    /// <summary>Removes the running door of <paramref name="name"/> from the set (null when there is none).</summary>
    private RunningDoor? Take(string name)
    {
        lock (_gate)
        {
            return _running.Remove(name, out RunningDoor old) ? old : null;
        }
    }

    /// <summary>A door taken out of the set stops accepting now and drains in the background.</summary>
    private void Retire(RunningDoor? retired, TimeSpan drain, string reason)
    {
        if (retired is not { } old)
        {
            return;
        }

        Log.Info(EventId.ListenerChanged, string.Create(CultureInfo.InvariantCulture, $"{reason}: stops accepting on {old.Door.Endpoint}; its sessions drain (at most {drain.TotalSeconds:0.###} s)"));
        Task stopped = RetireAsync(old.Door, drain);
        lock (_gate)
        {
            _retiring.RemoveAll(static r => r.Stopped.IsCompleted);
            _retiring.Add((old.Config.Endpoint, stopped));
        }
    }

    private static async Task RetireAsync(IFrontDoor door, TimeSpan drain)
    {
        await door.StopAsync(drain).ConfigureAwait(false);
        await door.DisposeAsync().ConfigureAwait(false);
        Log.Info(EventId.ListenerChanged, $"listener '{door.Name}' on {door.Endpoint} stopped");
    }

    /// <summary>True when a retiring listener (still closing or draining) was bound to the address of <paramref name="listener"/>.</summary>
    private bool IsRetiring(ListenerConfig listener)
    {
        lock (_gate)
        {
            foreach ((IPEndPoint endpoint, Task stopped) in _retiring)
            {
                if (!stopped.IsCompleted && endpoint.Port != 0 && endpoint.Equals(listener.Endpoint))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Binds an address another listener is giving up this moment: retried briefly while it is still in use.</summary>
    private async Task<IFrontDoor> BindRetryingAsync(ListenerConfig listener)
    {
        DateTime deadline = DateTime.UtcNow + ReleaseWait;
        while (true)
        {
            try
            {
                return Bind(listener);
            }
            catch (ListenerReloadException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
            }
        }
    }

    private static string Describe(ListenerConfig listener) => listener.Protocol switch
    {
        ListenerProtocol.Postgres => "postgres",
        ListenerProtocol.MySql => "mysql",
        ListenerProtocol.Trino => "trino",
        _ => listener.Protocol.ToString(),
    };

    private readonly record struct RunningDoor(ListenerConfig Config, IFrontDoor Door);
}

/// <summary>Sockets bound and certificates loaded for a reload, not yet in use.</summary>
internal sealed class PreparedListeners
{
    private List<ListenerChange> _changes;

    public PreparedListeners(IReadOnlyList<ListenerChange> changes) => _changes = [.. changes];

    public IReadOnlyList<ListenerChange> Changes => _changes;

    public Dictionary<string, IFrontDoor> Bound { get; } = new(StringComparer.Ordinal);

    public List<(string Name, X509Certificate2? Certificate)> Certificates { get; } = [];

    /// <summary>A kept listener must be replaced after all (its TLS changed and it cannot swap certificates in place).</summary>
    public void Replace(ListenerChange kept)
    {
        int index = _changes.IndexOf(kept);
        _changes[index] = kept with { Step = ListenerStep.Replace, BindsAfterRelease = true };
    }
}
