using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// The PostgreSQL front door on one address: accepts connections and runs one
/// <see cref="PgSession"/> per client. The listener's own settings (address, TLS certificate) are
/// fixed at start; everything else is read from the current config snapshot per connection.
/// </summary>
public sealed class PgListener : IAsyncDisposable
{
    private readonly ConfigStore _config;
    private readonly IEngineProvider _engines;
    private readonly GroupBalancer _balancer = new();
    private readonly PgSessionRegistry _registry = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly X509Certificate2? _certificate;
    private readonly Socket _socket;
    private readonly List<Task> _sessions = [];
    private readonly Lock _sessionsGate = new();
    private Task? _acceptLoop;
    private int _connections;

    public PgListener(ListenerConfig listener, ConfigStore config, IEngineProvider engines)
    {
        ArgumentNullException.ThrowIfNull(listener);
        Name = listener.Name;
        _config = config;
        _engines = engines;
        if (listener.Tls is { } tls)
        {
            _certificate = tls.KeyPath is null
                ? X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
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

    public void Start()
    {
        _socket.Listen(512);
        _acceptLoop = AcceptLoopAsync();
        Log.Info(EventId.Listening, $"postgres listener '{Name}' on {Endpoint}{(_certificate is null ? "" : " (TLS available)")}");
    }

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

            Task session = RunSessionAsync(client);
            lock (_sessionsGate)
            {
                _sessions.RemoveAll(static t => t.IsCompleted);
                _sessions.Add(session);
            }
        }
    }

    private async Task RunSessionAsync(Socket client)
    {
        await Task.Yield();
        int active = Interlocked.Increment(ref _connections);
        try
        {
            EdgeConfig config = _config.Current;
            ListenerConfig listener = FindListener(config);
            var transport = new ClientTransport(client);
            await using (transport.ConfigureAwait(false))
            {
                var session = new PgSession(transport, listener, config, _config, _engines, _balancer, _registry, _certificate, active > listener.Limits.MaxConnections);
                await session.RunAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or we are stopping; the session already cleaned up.
        }
        catch (Exception ex)
        {
            Log.Error(EventId.SessionFailed, $"session on '{Name}' failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>The listener's settings in the current snapshot (limits may change on reload).</summary>
    private ListenerConfig FindListener(EdgeConfig config)
    {
        foreach (ListenerConfig candidate in config.Listeners)
        {
            if (candidate.Name == Name)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"listener '{Name}' is not in the current configuration");
    }

    /// <summary>Stops accepting, asks idle sessions to end, and waits for running ones up to the timeout.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
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

        _certificate?.Dispose();
        _stopping.Dispose();
    }
}
