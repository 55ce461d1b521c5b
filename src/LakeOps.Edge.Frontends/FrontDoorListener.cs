using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Frontends;

/// <summary>
/// A TCP front door on one address: binds, accepts, counts connections against max_connections, runs
/// one session per client (<see cref="ServeAsync"/>, per protocol) and drains on stop. The listener's
/// address is fixed at start (a reload that changes it starts a new listener), its TLS certificate can be
/// swapped by a reload (<see cref="UseCertificate"/>); everything else is read from the current config
/// snapshot per connection.
/// </summary>
public abstract class FrontDoorListener : IFrontDoor, ICertificateSwap
{
    private readonly string _protocol;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Socket _socket;
    private readonly List<Task> _sessions = [];
    private readonly Lock _sessionsGate = new();
    private Task? _acceptLoop;
    private int _connections;
    private X509Certificate2? _certificate;

    // Certificates replaced by a reload: sessions that negotiated with one may still use it, so they live until disposal.
    private readonly List<X509Certificate2> _retiredCertificates = [];

    protected FrontDoorListener(string protocol, ListenerConfig listener, ConfigStore config, IEngineProvider engines)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(config);
        _protocol = protocol;
        Name = listener.Name;
        Config = config;
        Engines = engines;
        if (listener.Tls is { } tls)
        {
            _certificate = ListenerCertificate.Load(tls);
        }

        _socket = new Socket(listener.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT too, which would let a second
        // gateway silently share the port. (.NET already allows rebinding over TIME_WAIT.)
        _socket.Bind(listener.Endpoint);
        Endpoint = _socket.LocalEndPoint!.ToString()!;
    }

    public string Name { get; }

    /// <summary>The bound address (useful with port 0).</summary>
    public string Endpoint { get; }

    protected ConfigStore Config { get; }

    protected IEngineProvider Engines { get; }

    /// <summary>
    /// Picks a group's cluster among its eligible members (the process's one picker, sharing the health registry
    /// with the health monitor); a listener built without one gets its own, where every cluster stays healthy.
    /// </summary>
    public ClusterPicker Picker { get; init; } = new(new ClusterHealthRegistry());

    /// <summary>The certificate a new connection gets (a reload may replace it; see <see cref="UseCertificate"/>).</summary>
    protected X509Certificate2? Certificate => Volatile.Read(ref _certificate);

    public X509Certificate2? CurrentCertificate => Certificate;

    /// <summary>New connections get <paramref name="certificate"/>; open ones keep theirs (disposed with the listener).</summary>
    public void UseCertificate(X509Certificate2? certificate)
    {
        X509Certificate2? previous = Interlocked.Exchange(ref _certificate, certificate);
        if (previous is not null && !ReferenceEquals(previous, certificate))
        {
            lock (_retiredCertificates)
            {
                _retiredCertificates.Add(previous);
            }
        }
    }

    /// <summary>The audit log sessions write to (null: none); sessions check whether it is enabled when they start.</summary>
    public AuditLog? Audit { get; init; }

    /// <summary>The process's admission gates (null: no admission at all); sessions pass it to every statement they admit.</summary>
    public AdmissionGates? Admission { get; init; }

    public void Start()
    {
        _socket.Listen(512);
        _acceptLoop = AcceptLoopAsync();
        Log.Info(EventId.Listening, $"{_protocol} listener '{Name}' on {Endpoint}{(Certificate is null ? "" : " (TLS available)")}");
    }

    /// <summary>Called once the stopping token is cancelled: for sessions that watch the stop without a token registration.</summary>
    private protected virtual void OnStopping()
    {
    }

    /// <summary>Runs one client's session to its end (the transport is disposed afterwards).</summary>
    private protected abstract Task ServeAsync(ClientTransport transport, ListenerConfig listener, EdgeConfig config, bool overConnectionLimit, CancellationToken stopping);

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException ex) when (!_stopping.IsCancellationRequested)
            {
                Log.Warn(EventId.SessionFailed, $"accept failed on '{Name}': {ex.SocketErrorCode}");
                continue;
            }
            catch (ObjectDisposedException)
            {
                break;
            }

            // The transport takes over the descriptor here, so no session keeps the accepted Socket object.
            ClientTransport transport;
            try
            {
                transport = new ClientTransport(client);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                client.Dispose();
                Log.Warn(EventId.SessionFailed, $"accept on '{Name}': cannot take the connection: {ex.Message}");
                continue;
            }

            Task session = RunSessionAsync(transport);
            lock (_sessionsGate)
            {
                _sessions.RemoveAll(static t => t.IsCompleted);
                _sessions.Add(session);
            }
        }
    }

    private async Task RunSessionAsync(ClientTransport transport)
    {
        await Task.Yield();
        int active = Interlocked.Increment(ref _connections);
        try
        {
            await using (transport.ConfigureAwait(false))
            {
                EdgeConfig config = Config.Current;
                ListenerConfig listener = FindListener(config);
                await ServeAsync(transport, listener, config, active > listener.Limits.MaxConnections, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or we are stopping; the session already cleaned up.
        }
        catch (Exception ex)
        {
            Log.Error(EventId.SessionFailed, $"{_protocol} session on '{Name}' failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>The listener's settings in the current snapshot (limits may change on reload).</summary>
    private ListenerConfig FindListener(EdgeConfig config) =>
        config.FindListener(Name) ?? throw new InvalidOperationException($"listener '{Name}' is not in the current configuration");

    /// <summary>Stops accepting, asks idle sessions to end, and waits for running ones up to the timeout.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        OnStopping();
        _socket.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        Task[] running;
        lock (_sessionsGate)
        {
            running = [.. _sessions];
        }

        await Task.WhenAny(Task.WhenAll(running), Task.Delay(timeout)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        Certificate?.Dispose();
        lock (_retiredCertificates)
        {
            foreach (X509Certificate2 retired in _retiredCertificates)
            {
                retired.Dispose();
            }

            _retiredCertificates.Clear();
        }

        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
