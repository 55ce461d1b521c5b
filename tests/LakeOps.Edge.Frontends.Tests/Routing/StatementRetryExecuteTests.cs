using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing.Admission;
using LakeOps.Edge.Routing.Balancing;

namespace LakeOps.Edge.Frontends.Tests.Routing;

public sealed class StatementRetryExecuteTests
{
    private const string Refused = "cluster 'dead': cannot connect to 127.0.0.1:1: Connection refused";

    [Fact]
    public async Task A_retried_statement_moves_its_slot_to_the_member_it_runs_on()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("failover", "[dead, duck]");
        await using Session session = await Session.StartAsync(setup);
        AdmissionGates gates = Gates();
        StatementLease lease = (await StatementAdmission.AdmitAsync(gates, "g", "dead", SpillPolicy.Stay, CancellationToken.None)).Lease;
        Assert.Equal(1, gates.ForCluster("dead")!.Running);

        (IQueryResult result, StatementLease held) = await StatementRetry.ExecuteAsync(
            session, new RetryScope(setup.Group, Eligible: true, "select 42", gates, "g"), lease, session.Failing, RunAsync);
        await using (result)
        {
            Assert.NotNull(await result.ReadBatchAsync(CancellationToken.None));
        }

        Assert.Equal("duck", session.CurrentCluster);
        Assert.Equal(1, setup.Registry.Get("dead").Failures);
        Assert.Equal(0, gates.ForCluster("dead")!.Running);
        Assert.Equal(1, gates.ForCluster("duck")!.Running);
        Assert.Equal(1, gates.ForGroup("g")!.Running);

        held.Dispose();
        Assert.Equal(0, gates.ForCluster("duck")!.Running);
        Assert.Equal(0, gates.ForGroup("g")!.Running);
    }

    [Fact]
    public async Task A_failure_that_is_not_retried_frees_the_slots()
    {
        await using ClusterFailoverTests.Setup setup = await ClusterFailoverTests.Setup.StartAsync("failover", "[dead, duck]");
        await using Session session = await Session.StartAsync(setup);
        AdmissionGates gates = Gates();
        StatementLease lease = (await StatementAdmission.AdmitAsync(gates, "g", "dead", SpillPolicy.Stay, CancellationToken.None)).Lease;

        // A statement kind the session never retries (transaction control, a spilled statement).
        var error = await Assert.ThrowsAsync<EngineException>(async () => await StatementRetry.ExecuteAsync(
            session, new RetryScope(setup.Group, Eligible: false, "select 42", gates, "g"), lease, session.Failing, RunAsync));
        Assert.Equal(Refused, error.Message);
        Assert.Equal("dead", session.CurrentCluster);
        Assert.Equal(0, gates.ForCluster("dead")!.Running);
        Assert.Equal(0, gates.ForGroup("g")!.Running);
    }

    // The session's first engine stands for the dead cluster: it refuses, every other runs the statement.
    private static ValueTask<IQueryResult> RunAsync(IEngineSession engine, IEngineSession failing) =>
        ReferenceEquals(engine, failing)
            ? ValueTask.FromException<IQueryResult>(new EngineException(Refused, SqlStates.ConnectionFailure))
            : engine.ExecuteAsync("select 42", CancellationToken.None);

    private static AdmissionGates Gates()
    {
        const string yaml = """
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
            clusters:
              dead:
                engine: duckdb
                admission: { max_running: 1, overflow: reject }
              duck:
                engine: duckdb
                admission: { max_running: 1, overflow: reject }
            groups:
              g:
                clusters: [dead, duck]
                admission: { max_running: 5 }
            routing:
              default_group: g
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return new AdmissionGates(new ConfigStore(result.Config!));
    }

    private sealed class Session : IRetryingSession, IAsyncDisposable
    {
        private readonly ClusterFailoverTests.Setup _setup;
        private readonly List<IEngineSession> _opened = [];

        private Session(ClusterFailoverTests.Setup setup, IEngineSession failing)
        {
            _setup = setup;
            Failing = failing;
            CurrentEngine = failing;
            _opened.Add(failing);
        }

        public IEngineSession Failing { get; }

        public ClusterPicker Picker => _setup.Picker;

        public IEngineProvider Engines => _setup.Engines;

        public SqlDialect EngineDialect => SqlDialect.DuckDb;

        public IEngineSession CurrentEngine { get; private set; }

        public string CurrentCluster { get; private set; } = "dead";

        public bool StatementTimedOut => false;

        public bool InTransaction => false;

        public string Describe => "test session";

        public static async Task<Session> StartAsync(ClusterFailoverTests.Setup setup) =>
            new(setup, await setup.Engines.Find("duck")!.OpenSessionAsync(new EngineSessionOptions("edge", "g", "tests"), CancellationToken.None));

        public EngineSessionOptions RetryOptions(GroupConfig group) => new("edge", group.Name, "tests");

        public ValueTask MoveToAsync(OpenedCluster moved, GroupConfig group)
        {
            _opened.Add(moved.Session);
            CurrentEngine = moved.Session;
            CurrentCluster = moved.Cluster;
            return ValueTask.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (IEngineSession session in _opened)
            {
                await session.DisposeAsync();
            }
        }
    }
}
