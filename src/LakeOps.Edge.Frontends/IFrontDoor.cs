using System.Security.Cryptography.X509Certificates;

namespace LakeOps.Edge.Frontends;

/// <summary>
/// One listener (a protocol on an address), as the host starts, reloads and stops it. Constructing one binds its
/// address (so a reload can find out that an address is taken before it changes anything); <see cref="Start"/>
/// begins accepting; <see cref="StopAsync"/> stops accepting and lets the sessions that are running finish.
/// A Kestrel-based door (Trino's HTTP) binds only in <see cref="Start"/>, so a taken address shows up there, after
/// the reload already changed the rest; the host then logs it and keeps the listener it had (if any).
/// </summary>
public interface IFrontDoor : IAsyncDisposable
{
    /// <summary>The listener's name in the config (listeners.NAME).</summary>
    string Name { get; }

    /// <summary>The bound address (useful with port 0).</summary>
    string Endpoint { get; }

    void Start();

    /// <summary>Stops accepting and waits up to <paramref name="drain"/> for the running sessions to end.</summary>
    Task StopAsync(TimeSpan drain);
}

/// <summary>
/// A front door that can change its TLS certificate in place: new connections get <c>certificate</c>, connections
/// that are open keep the one they negotiated. A front door without it is replaced instead (briefly not listening).
/// </summary>
public interface ICertificateSwap
{
    /// <summary>Takes ownership of <paramref name="certificate"/> (null: no TLS from now on).</summary>
    void UseCertificate(X509Certificate2? certificate);

    /// <summary>The certificate new connections get now (null: none).</summary>
    X509Certificate2? CurrentCertificate { get; }
}
