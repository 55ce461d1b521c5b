using System.Collections.Frozen;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines.Tests.Reload;

/// <summary>Reload of the engine set with fake engines: prepare, commit (swap + drain + dispose), abort.</summary>
public sealed class EngineRegistryReloadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task CommitSwapsEnginesAndDisposesRetiredOnesOnceIdle()
    {
        var factory = new FakeFactory();
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "10.0.0.1"), Pg("b", "10.0.0.1")), factory.Create);
        FakeEngine oldA = factory.Latest("a");
        FakeEngine oldB = factory.Latest("b");
        oldA.Busy = true;

        EdgeConfig next = Config(Pg("a", "10.0.0.2"), Pg("c", "10.0.0.1"));
        PreparedEngines prepared = await registry.PrepareAsync(registry.Plan(next));

        // Prepared engines exist but nobody finds them yet.
        Assert.Same(oldA, registry.Find("a"));
        Assert.Null(registry.Find("c"));

        registry.Commit(prepared, TimeSpan.FromMinutes(1));

        Assert.NotSame(oldA, registry.Find("a"));
        Assert.Same(factory.Latest("a"), registry.Find("a"));
        Assert.Same(factory.Latest("c"), registry.Find("c"));
        Assert.Null(registry.Find("b"));
        Assert.Equal(["a", "c"], registry.ClusterNames.Order(StringComparer.Ordinal));
        Assert.Equal("10.0.0.2", registry.RunningClusters["a"].Remote!.Host);

        // The idle removed engine goes at once; the busy replaced one waits for its work.
        await oldB.Disposed.Task.WaitAsync(Deadline);
        Assert.True(oldA.DrainStarted);
        Assert.True(oldB.DrainStarted);
        Assert.False(oldA.Disposed.Task.IsCompleted);

        oldA.Busy = false;
        await registry.WhenRetiredAsync().WaitAsync(Deadline);
        Assert.True(oldA.Disposed.Task.IsCompleted);
        Assert.False(factory.Latest("a").Disposed.Task.IsCompleted);
    }

    [Fact]
    public async Task BusyRetiredEngineIsDisposedAfterTheDrainTimeout()
    {
        var factory = new FakeFactory();
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "h")), factory.Create);
        FakeEngine old = factory.Latest("a");
        old.Busy = true;

        registry.Commit(await registry.PrepareAsync(registry.Plan(Config())), TimeSpan.FromMilliseconds(100));

        await old.Disposed.Task.WaitAsync(Deadline);
        Assert.True(old.Busy);
        Assert.Null(registry.Find("a"));
    }

    [Fact]
    public async Task PrepareFailureNamesTheClusterAndChangesNothing()
    {
        var factory = new FakeFactory { FailForHost = "unreachable" };
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "h")), factory.Create);
        FakeEngine running = factory.Latest("a");

        // Clusters are prepared in name order: "b" is created before "c" fails.
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () =>
            await registry.PrepareAsync(registry.Plan(Config(Pg("b", "h"), Pg("c", "unreachable")))));

        Assert.Contains("cluster 'c'", error.Message, StringComparison.Ordinal);
        Assert.Same(running, registry.Find("a"));
        Assert.Null(registry.Find("b"));
        Assert.False(running.Disposed.Task.IsCompleted);
        Assert.True(factory.Latest("b").Disposed.Task.IsCompleted);
    }

    [Fact]
    public async Task AbortDisposesPreparedEngines()
    {
        var factory = new FakeFactory();
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "h")), factory.Create);

        PreparedEngines prepared = await registry.PrepareAsync(registry.Plan(Config(Pg("a", "h"), Pg("b", "h"))));
        await EngineRegistry.AbortAsync(prepared);

        Assert.True(factory.Latest("b").Disposed.Task.IsCompleted);
        Assert.Null(registry.Find("b"));
    }

    [Fact]
    public async Task DisposingTheRegistryEndsDrainsAtOnce()
    {
        var factory = new FakeFactory();
        EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "h")), factory.Create);
        FakeEngine old = factory.Latest("a");
        old.Busy = true;
        registry.Commit(await registry.PrepareAsync(registry.Plan(Config())), TimeSpan.FromHours(1));

        await registry.DisposeAsync().AsTask().WaitAsync(Deadline);

        Assert.True(old.Disposed.Task.IsCompleted);
    }

    [Fact]
    public async Task UnchangedConfigPreparesNothing()
    {
        var factory = new FakeFactory();
        await using EngineRegistry registry = await EngineRegistry.StartAsync(Config(Pg("a", "h")), factory.Create);

        EnginePlan plan = registry.Plan(Config(Pg("a", "h") with { State = ClusterAdminState.Disabled }));
        registry.Commit(await registry.PrepareAsync(plan), TimeSpan.FromSeconds(1));

        Assert.Empty(plan.Added);
        Assert.Empty(plan.Replaced);
        Assert.Empty(plan.Removed);
        Assert.Equal(1, factory.Created);
        Assert.Same(factory.Latest("a"), registry.Find("a"));
    }

    private static ClusterConfig Pg(string name, string host) =>
        new() { Name = name, Engine = EngineKind.Postgres, Remote = new RemoteEngineOptions { Host = host, Port = 5432, User = "u" } };

    private static EdgeConfig Config(params ClusterConfig[] clusters) => new()
    {
        Listeners = [],
        Users = FrozenDictionary<string, UserConfig>.Empty,
        Clusters = clusters.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal),
        Groups = FrozenDictionary<string, GroupConfig>.Empty,
        Routing = new RoutingConfig { DefaultGroup = "g" },
        Server = new ServerConfig(),
    };

    private sealed class FakeFactory
    {
        private readonly Dictionary<string, FakeEngine> _latest = new(StringComparer.Ordinal);

        public string? FailForHost { get; init; }

        public int Created { get; private set; }

        public FakeEngine Latest(string name) => _latest[name];

        public IEngine Create(ClusterConfig cluster)
        {
            if (cluster.Remote?.Host == FailForHost)
            {
                throw new ArgumentException("no such host");
            }

            Created++;
            var engine = new FakeEngine(cluster.Name);
            _latest[cluster.Name] = engine;
            return engine;
        }
    }

    private sealed class FakeEngine(string name) : IEngine, IDrainableEngine
    {
        private volatile bool _busy;

        public string ClusterName => name;

        public SqlDialect Dialect => SqlDialect.Postgres;

        public bool Busy
        {
            get => _busy;
            set => _busy = value;
        }

        public bool IsBusy => _busy;

        public bool DrainStarted { get; private set; }

        public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void BeginDrain() => DrainStarted = true;

        public ValueTask<IEngineSession> OpenSessionAsync(EngineSessionOptions options, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask DisposeAsync()
        {
            Disposed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
