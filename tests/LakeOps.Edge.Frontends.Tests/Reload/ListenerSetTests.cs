using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Reload;

namespace LakeOps.Edge.Frontends.Tests.Reload;

/// <summary>
/// The host's <see cref="ListenerSet"/> with fake front doors (no sockets): what a reload binds first, in which
/// order doors start and stop, certificate swaps, and that a failed prepare changes nothing.
/// </summary>
public sealed class ListenerSetTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task MovedListenerStartsOnTheNewAddressBeforeTheOldStops()
    {
        var world = new World();
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("pg", 5001), Pg("gone", 5002)]);
        world.Events.Clear();

        PreparedListeners prepared = await set.PrepareAsync([Pg("pg", 5011), Pg("added", 5003)]);
        Assert.Equal(["bind pg@5011", "bind added@5003"], world.Events);
        await set.CommitAsync(prepared, TimeSpan.FromSeconds(1));
        await world.WaitForAsync("dispose gone@5002");
        await world.WaitForAsync("dispose pg@5001");

        Assert.True(world.Index("start pg@5011") < world.Index("stop pg@5001"));
        Assert.Contains("start added@5003", world.Events);
        Assert.Equal(["added@5003", "pg@5011"], set.Doors.Select(d => d.Name + "@" + d.Endpoint).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ProtocolChangeStopsTheOldDoorBeforeBindingItsAddress()
    {
        var world = new World();
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("door", 5001)]);
        world.Events.Clear();

        PreparedListeners prepared = await set.PrepareAsync([Pg("door", 5001) with { Protocol = ListenerProtocol.MySql }]);
        Assert.Empty(world.Events);
        await set.CommitAsync(prepared, TimeSpan.FromSeconds(1));

        Assert.True(world.Index("stop door@5001") < world.Index("bind door@5001"));
        Assert.Equal(ListenerProtocol.MySql, Assert.Single(set.RunningConfigs).Protocol);
    }

    [Fact]
    public async Task FailedBindLeavesEverythingAsItWas()
    {
        var world = new World { Refuse = 5004 };
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("pg", 5001)]);

        ListenerReloadException error = await Assert.ThrowsAsync<ListenerReloadException>(() => set.PrepareAsync([Pg("pg", 5011), Pg("b", 5004)]));

        Assert.StartsWith("listeners.b.address: cannot listen on 127.0.0.1:5004", error.Message, StringComparison.Ordinal);
        Assert.Contains("dispose pg@5011", world.Events);
        Assert.DoesNotContain("stop pg@5001", world.Events);
        Assert.Equal(5001, Assert.Single(set.RunningConfigs).Endpoint.Port);
    }

    [Fact]
    public async Task ChangedCertificateIsSwappedInPlaceAndAnUnchangedOneIsNot()
    {
        var world = new World();
        using X509Certificate2 first = NewCertificate("first");
        using X509Certificate2 second = NewCertificate("second");
        world.Certificates["/tls/cert.pem"] = first;
        await using ListenerSet set = world.NewSet();
        ListenerConfig tls = Pg("pg", 5001) with { Tls = new TlsConfig("/tls/cert.pem", "/tls/key.pem", Required: false) };
        set.Start([tls]);
        FakeDoor door = world.Doors.Single();
        door.UseCertificate(world.Load(tls.Tls!));

        // Same file content: nothing to swap.
        PreparedListeners same = await set.PrepareAsync([tls]);
        set.UseCertificates(same);
        await set.CommitAsync(same, TimeSpan.FromSeconds(1));
        Assert.Equal(1, door.Swaps);

        // The file now holds another certificate: new connections get it, the door keeps running.
        world.Certificates["/tls/cert.pem"] = second;
        PreparedListeners changed = await set.PrepareAsync([tls]);
        set.UseCertificates(changed);
        await set.CommitAsync(changed, TimeSpan.FromSeconds(1));

        Assert.Equal(2, door.Swaps);
        Assert.Equal(second.RawData, door.CurrentCertificate!.RawData);
        Assert.Same(door, Assert.Single(set.Doors));
        Assert.DoesNotContain(world.Events, e => e.StartsWith("stop", StringComparison.Ordinal));

        // TLS removed from the listener: no certificate for new connections.
        PreparedListeners off = await set.PrepareAsync([tls with { Tls = null }]);
        set.UseCertificates(off);
        Assert.Null(door.CurrentCertificate);
    }

    [Fact]
    public async Task UnloadableCertificateFailsThePrepare()
    {
        var world = new World();
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("pg", 5001)]);

        ListenerReloadException error = await Assert.ThrowsAsync<ListenerReloadException>(() =>
            set.PrepareAsync([Pg("pg", 5001) with { Tls = new TlsConfig("/tls/missing.pem", null, Required: true) }]));

        Assert.StartsWith("listeners.pg.tls.certificate: cannot load the certificate", error.Message, StringComparison.Ordinal);
        Assert.Null(world.Doors.Single().CurrentCertificate);
    }

    [Fact]
    public async Task DoorThatCannotSwapCertificatesIsReplacedWhenItsTlsChanges()
    {
        var world = new World { WithoutCertificateSwap = true };
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("http", 5001)]);
        world.Events.Clear();

        PreparedListeners prepared = await set.PrepareAsync([Pg("http", 5001) with { Tls = new TlsConfig("/tls/cert.pem", null, Required: false) }]);
        await set.CommitAsync(prepared, TimeSpan.FromSeconds(1));

        Assert.True(world.Index("stop http@5001") < world.Index("bind http@5001"));
        Assert.True(world.Index("bind http@5001") < world.Index("start http@5001"));
        Assert.NotNull(Assert.Single(set.RunningConfigs).Tls);
    }

    [Fact]
    public async Task StopAllWaitsForRunningAndRetiringDoors()
    {
        var world = new World();
        await using ListenerSet set = world.NewSet();
        set.Start([Pg("a", 5001), Pg("b", 5002)]);
        await set.CommitAsync(await set.PrepareAsync([Pg("a", 5001)]), TimeSpan.FromSeconds(1));

        await set.StopAllAsync(TimeSpan.FromSeconds(1)).WaitAsync(Deadline);

        Assert.Contains("stop a@5001", world.Events);
        Assert.Contains("dispose b@5002", world.Events);
    }

    private static ListenerConfig Pg(string name, int port) => ListenerPlanTests.Pg(name, port);

    private static X509Certificate2 NewCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Records what happens to every fake door, in order.</summary>
    private sealed class World
    {
        public List<string> Events { get; } = [];

        public List<FakeDoor> Doors { get; } = [];

        public Dictionary<string, X509Certificate2> Certificates { get; } = [];

        public int Refuse { get; init; } = -1;

        public bool WithoutCertificateSwap { get; init; }

        public ListenerSet NewSet()
        {
            var factories = new Dictionary<ListenerProtocol, FrontDoorFactory>
            {
                [ListenerProtocol.Postgres] = Create,
                [ListenerProtocol.MySql] = Create,
            };
            return new ListenerSet(factories, Load);
        }

        public X509Certificate2 Load(TlsConfig tls) =>
            Certificates.TryGetValue(tls.CertificatePath, out X509Certificate2? certificate)
                ? X509CertificateLoader.LoadCertificate(certificate.RawData)
                : throw new CryptographicException($"'{tls.CertificatePath}' does not exist");

        public int Index(string text)
        {
            lock (Events)
            {
                int index = Events.IndexOf(text);
                Assert.True(index >= 0, $"'{text}' did not happen: {string.Join(", ", Events)}");
                return index;
            }
        }

        public void Record(string text)
        {
            lock (Events)
            {
                Events.Add(text);
            }
        }

        public async Task WaitForAsync(string text)
        {
            DateTime deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                lock (Events)
                {
                    if (Events.Contains(text))
                    {
                        return;
                    }
                }

                Assert.True(DateTime.UtcNow < deadline, $"'{text}' did not happen: {string.Join(", ", Events)}");
                await Task.Delay(10);
            }
        }

        private FakeDoor Create(ListenerConfig listener)
        {
            string name = $"{listener.Name}@{listener.Endpoint.Port}";
            if (listener.Endpoint.Port == Refuse)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            }

            Record("bind " + name);
            var door = WithoutCertificateSwap ? new FakeDoor(this, listener) : new SwappableDoor(this, listener);
            Doors.Add(door);
            return door;
        }
    }

    private class FakeDoor(World world, ListenerConfig listener) : IFrontDoor
    {
        private X509Certificate2? _certificate;

        public string Name => listener.Name;

        public string Endpoint => listener.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public int Swaps { get; private set; }

        public X509Certificate2? CurrentCertificate => _certificate;

        public void Start() => world.Record($"start {Name}@{Endpoint}");

        public Task StopAsync(TimeSpan drain)
        {
            world.Record($"stop {Name}@{Endpoint}");
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            world.Record($"dispose {Name}@{Endpoint}");
            return ValueTask.CompletedTask;
        }

        public void UseCertificate(X509Certificate2? certificate)
        {
            Swaps++;
            _certificate = certificate;
        }
    }

    private sealed class SwappableDoor(World world, ListenerConfig listener) : FakeDoor(world, listener), ICertificateSwap;
}
