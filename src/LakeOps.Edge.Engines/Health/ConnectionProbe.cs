using System.Net.Sockets;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Engines.Health;

/// <summary>
/// A probe over a short connection of its own: connect (login included), one round trip
/// (<see cref="IPooledConnection.PingAsync"/>), close. Outside the pool, so a busy pool never makes a healthy
/// cluster look dead, and a restarted server counts as healthy with the first probe after it is back.
/// Failures throw <see cref="EngineException"/> (class 08 for connect problems).
/// </summary>
/// <remarks>
/// Not a connection kept between probes: a fresh one also proves that logins work, and a kept connection
/// pinged every 200 ms once stalled new client sessions in tests (most likely the socket reader's lost
/// wake-up fixed in commit 8447a52; the kept variant was not tried again).
/// </remarks>
internal sealed class ConnectionProbe<T> : IClusterProbe
    where T : class, IPooledConnection
{
    private readonly string _cluster;
    private readonly Func<CancellationToken, ValueTask<T>> _connect;

    public ConnectionProbe(string cluster, Func<CancellationToken, ValueTask<T>> connect)
    {
        _cluster = cluster;
        _connect = connect;
    }

    public async ValueTask ProbeAsync(CancellationToken cancellationToken)
    {
        T connection = await _connect(cancellationToken).ConfigureAwait(false);
        bool answered;
        try
        {
            answered = await connection.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            answered = false;
        }
        finally
        {
            await CloseAsync(connection).ConfigureAwait(false);
        }

        if (!answered)
        {
            throw new EngineException($"cluster '{_cluster}': the health probe's round trip failed", SqlStates.ConnectionFailure);
        }
    }

    private static async ValueTask CloseAsync(T connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or EngineException or ObjectDisposedException or SocketException)
        {
            // Closing a dead connection may fail; nothing to do.
        }
    }
}
