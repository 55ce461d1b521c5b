using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Frontends.Tests.Admission;

public sealed class StatementAdmissionTests
{
    private static AdmissionGates Gates(string groups, string clusterAdmission = "")
    {
        string yaml = $"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
            clusters:
              duck:
                engine: duckdb
            {clusterAdmission}
            groups:
            {groups}
              free:
                clusters: [duck]
            routing:
              default_group: free
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return new AdmissionGates(new ConfigStore(result.Config!));
    }

    [Fact]
    public async Task Without_admission_config_nothing_is_held()
    {
        AdmissionGates gates = Gates("");
        AdmissionDecision decision = await StatementAdmission.AdmitAsync(gates, "free", "duck", SpillPolicy.MaySpill, CancellationToken.None);
        Assert.False(decision.Lease.IsHeld);
        Assert.Null(decision.SpillGroup);

        decision = await StatementAdmission.AdmitAsync(null, "free", "duck", SpillPolicy.MaySpill, CancellationToken.None);
        Assert.False(decision.Lease.IsHeld);
    }

    [Fact]
    public async Task A_cluster_refusal_gives_the_group_slot_back()
    {
        AdmissionGates gates = Gates(
            "  dash:\n    clusters: [duck]\n    admission: { max_running: 5 }",
            "    admission: { max_running: 1, overflow: reject }");
        AdmissionDecision first = await StatementAdmission.AdmitAsync(gates, "dash", "duck", SpillPolicy.MaySpill, CancellationToken.None);
        Assert.Equal(1, gates.ForGroup("dash")!.Running);

        var error = await Assert.ThrowsAsync<EngineException>(async () => await StatementAdmission.AdmitAsync(gates, "dash", "duck", SpillPolicy.MaySpill, CancellationToken.None));
        Assert.Equal("53300", error.SqlState);
        Assert.Equal("cluster 'duck' is full: 1 running, 0 queued", error.Message);
        Assert.Equal(1040, StatementAdmission.MySqlErrorCode(error));
        Assert.True(StatementAdmission.IsRefusal(error));
        Assert.Equal(1, gates.ForGroup("dash")!.Running);

        first.Lease.Dispose();
        Assert.Equal(0, gates.ForGroup("dash")!.Running);
        Assert.Equal(0, gates.ForCluster("duck")!.Running);
    }

    [Fact]
    public async Task A_full_spill_group_sends_the_caller_to_its_target_once()
    {
        AdmissionGates gates = Gates(
            "  a:\n    clusters: [duck]\n    admission: { max_running: 1, overflow: { spill: b } }\n" +
            "  b:\n    clusters: [duck]\n    admission: { max_running: 1, overflow: { spill: a } }");
        AdmissionDecision onA = await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.MaySpill, CancellationToken.None);
        Assert.True(onA.Lease.IsHeld);

        AdmissionDecision spilled = await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.MaySpill, CancellationToken.None);
        Assert.Equal("b", spilled.SpillGroup);
        Assert.False(spilled.Lease.IsHeld);

        StatementLease onB = await StatementAdmission.AdmitSpilledAsync(gates, "b", "duck", CancellationToken.None);
        Assert.True(onB.IsHeld);

        // b is full too: its own spill back to a is not followed.
        var error = await Assert.ThrowsAsync<EngineException>(async () => await StatementAdmission.AdmitSpilledAsync(gates, "b", "duck", CancellationToken.None));
        Assert.Contains("group 'b' is full", error.Message, StringComparison.Ordinal);

        // Passthrough cannot spill: a full group is a rejection.
        error = await Assert.ThrowsAsync<EngineException>(async () => await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.Reject, CancellationToken.None));
        Assert.Equal("53300", error.SqlState);

        onA.Lease.Dispose();
        onB.Dispose();
        Assert.Equal(0, gates.ForGroup("a")!.Running);
        Assert.Equal(0, gates.ForGroup("b")!.Running);
    }

    [Fact]
    public async Task A_statement_that_must_stay_waits_in_the_spill_groups_queue()
    {
        AdmissionGates gates = Gates("  a:\n    clusters: [duck]\n    admission: { max_running: 1, max_queued: 2, overflow: { spill: free } }");
        AdmissionDecision holder = await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.MaySpill, CancellationToken.None);

        ValueTask<AdmissionDecision> waiting = StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.Stay, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, gates.ForGroup("a")!.Queued);

        holder.Lease.Dispose();
        AdmissionDecision admitted = await waiting;
        Assert.True(admitted.Lease.IsHeld);
        Assert.Null(admitted.SpillGroup);
        admitted.Lease.Dispose();
        Assert.Equal(0, gates.ForGroup("a")!.Running);
    }

    [Fact]
    public async Task Queue_timeout_is_57014_with_the_wait_and_mysql_1317()
    {
        AdmissionGates gates = Gates("  a:\n    clusters: [duck]\n    admission: { max_running: 1, queue_timeout: 50ms }");
        AdmissionDecision holder = await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.MaySpill, CancellationToken.None);

        var error = await Assert.ThrowsAsync<EngineException>(async () => await StatementAdmission.AdmitAsync(gates, "a", "duck", SpillPolicy.MaySpill, CancellationToken.None));
        Assert.Equal("57014", error.SqlState);
        Assert.Matches(@"^waited \d+\.\d s in the queue of group 'a'$", error.Message);
        Assert.Equal(1317, StatementAdmission.MySqlErrorCode(error));
        holder.Lease.Dispose();
        Assert.Equal(0, gates.ForGroup("a")!.Queued);
    }
}
