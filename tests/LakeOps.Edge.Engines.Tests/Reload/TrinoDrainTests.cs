using System.Collections.Frozen;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Health;
using LakeOps.Edge.Engines.Trino;
using LakeOps.Edge.Routing.Health;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.Reload;

/// <summary>Draining a retired Trino engine (<see cref="IDrainableEngine"/>) against <see cref="FakeTrinoCoordinator"/>.</summary>
public sealed class TrinoDrainTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly FakeTrinoCoordinator _fake = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task BusyWhileAnEngineSessionIsOpen()
    {
        await using var engine = new TrinoEngine(Cluster());
        Assert.False(engine.IsBusy);

        IEngineSession session = await engine.OpenSessionAsync(new EngineSessionOptions("bob", "db", "tests"), Ct);
        Assert.True(engine.IsBusy);

        await session.DisposeAsync();
        Assert.False(engine.IsBusy);
    }

    [Fact]
    public async Task BusyWhileAPassthroughQueryHasPagesLeft()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued()),
            new FakePage(TrinoPages.Running()),
            new FakePage(TrinoPages.Finished()));
        await using var engine = new TrinoEngine(Cluster());
        ITrinoHttpEngine http = engine;

        using TrinoUpstreamPage queued = await http.SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), Ct);
        Assert.True(engine.IsBusy);
        using TrinoUpstreamPage running = await http.FetchAsync(queued.NextUri!, Ct);
        Assert.True(engine.IsBusy);
        using TrinoUpstreamPage finished = await http.FetchAsync(running.NextUri!, Ct);

        Assert.Null(finished.NextUri);
        Assert.False(engine.IsBusy);
    }

    [Fact]
    public async Task ACanceledPassthroughQueryIsNoLongerBusy()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Queued()), new FakePage(TrinoPages.Finished()));
        await using var engine = new TrinoEngine(Cluster());
        ITrinoHttpEngine http = engine;

        using TrinoUpstreamPage queued = await http.SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), Ct);
        Assert.Equal(1, engine.PassthroughQueryCount);

        await http.CancelAsync(queued.NextUri!, Ct);
        Assert.Equal(0, engine.PassthroughQueryCount);
        Assert.False(engine.IsBusy);
    }

    [Fact]
    public async Task AfterBeginDrainRequestsAskTheCoordinatorToCloseTheConnection()
    {
        await using var engine = new TrinoEngine(Cluster());
        ITrinoHttpEngine http = engine;
        using (await http.SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), Ct))
        {
        }

        engine.BeginDrain();
        using (await http.SubmitAsync(new TrinoUpstreamRequest("SELECT 2", []), Ct))
        {
        }

        IReadOnlyList<FakeTrinoRequest> posts = _fake.Statements;
        Assert.Equal(2, posts.Count);
        Assert.NotEqual("close", posts[0].Header("Connection"), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("close", posts[1].Header("Connection"), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HealthProbeIsNotBlockedByAFullPool()
    {
        var hold = new TaskCompletionSource();
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Queued()) { Hold = hold }, new FakePage(TrinoPages.Finished()));
        await using var engine = new TrinoEngine(Cluster(maxConnections: 1));
        IClusterProbe probe = ClusterProbes.Create(engine)!;

        // The pool's only connection waits for a held page.
        Task<TrinoUpstreamPage> held = ((ITrinoHttpEngine)engine).SubmitAsync(new TrinoUpstreamRequest("SELECT slow()", []), Ct).AsTask();
        Assert.True(await FakeTrinoCoordinator.WaitUntilAsync(() => _fake.Statements.Count == 1, Deadline));

        await probe.ProbeAsync(Ct).AsTask().WaitAsync(Deadline);

        hold.SetResult();
        using TrinoUpstreamPage page = await held.WaitAsync(Deadline);
        Assert.Equal("QUEUED", page.State);
    }

    [Fact]
    public async Task ARemovedClusterIsDisposedWhenItsPassthroughQueryEndsNotAtTheTimeout()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Queued()), new FakePage(TrinoPages.Finished()));
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Cluster()));
        var engine = Assert.IsType<TrinoEngine>(registry.Find("trino-a"));
        ITrinoHttpEngine http = engine;
        using TrinoUpstreamPage queued = await http.SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), Ct);

        registry.Commit(await registry.PrepareAsync(registry.Plan(Config())), TimeSpan.FromHours(1));
        Assert.Null(registry.Find("trino-a"));
        Task retired = registry.WhenRetiredAsync();
        Assert.False(retired.IsCompleted);

        // The client follows its query to the end on the retired engine; then the engine goes.
        using TrinoUpstreamPage finished = await http.FetchAsync(queued.NextUri!, Ct);
        Assert.Null(finished.NextUri);
        await retired.WaitAsync(Deadline);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.OpenSessionAsync(new EngineSessionOptions("bob", "db", "tests"), Ct));
    }

    private ClusterConfig Cluster(int maxConnections = 8) => new()
    {
        Name = "trino-a",
        Engine = EngineKind.Trino,
        Trino = new TrinoEngineOptions { Host = "127.0.0.1", Port = _fake.Port, User = "edge", Password = "secret" },
        Pool = new PoolOptions { MaxSize = maxConnections },
    };

    private static EdgeConfig Config(params ClusterConfig[] clusters) => new()
    {
        Listeners = [],
        Users = FrozenDictionary<string, UserConfig>.Empty,
        Clusters = clusters.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal),
        Groups = FrozenDictionary<string, GroupConfig>.Empty,
        Routing = new RoutingConfig { DefaultGroup = "g" },
        Server = new ServerConfig(),
    };
}
