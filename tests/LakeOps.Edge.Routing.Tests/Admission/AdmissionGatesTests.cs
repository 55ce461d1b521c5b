using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Routing.Tests.Admission;

public sealed class AdmissionGatesTests
{
    private static EdgeConfig Load(string groupAdmission, string clusterAdmission = "")
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
              limited:
                clusters: [duck]
            {groupAdmission}
              free:
                clusters: [duck]
            routing:
              default_group: free
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config!;
    }

    [Fact]
    public void Without_admission_sections_nothing_is_active_and_no_gate_exists()
    {
        var gates = new AdmissionGates(new ConfigStore(Load("")));

        Assert.False(gates.IsActive);
        Assert.Null(gates.ForGroup("limited"));
        Assert.Null(gates.ForGroup("missing"));
        Assert.Null(gates.ForCluster("duck"));
    }

    [Fact]
    public void Gates_are_created_once_per_name_with_the_configured_limits()
    {
        var gates = new AdmissionGates(new ConfigStore(Load(
            "    admission: { max_running: 3, max_queued: 7, queue_timeout: 2s }",
            "    admission: { max_running: 5, overflow: reject }")));

        Assert.True(gates.IsActive);
        AdmissionGate group = gates.ForGroup("limited")!;
        Assert.Same(group, gates.ForGroup("limited"));
        Assert.Equal(AdmissionScope.Group, group.Scope);
        Assert.Equal(3, group.MaxRunning);
        Assert.Equal(7, group.MaxQueued);
        Assert.Equal(TimeSpan.FromSeconds(2), group.QueueTimeout);
        Assert.Null(gates.ForGroup("free"));

        AdmissionGate cluster = gates.ForCluster("duck")!;
        Assert.Equal(AdmissionScope.Cluster, cluster.Scope);
        Assert.Equal(5, cluster.MaxRunning);
        Assert.Equal(0, cluster.MaxQueued);
    }

    [Fact]
    public void A_reload_resizes_the_same_gate_and_keeps_its_running_slots()
    {
        var store = new ConfigStore(Load("    admission: { max_running: 2 }"));
        var gates = new AdmissionGates(store);
        AdmissionGate before = gates.ForGroup("limited")!;
        Assert.True(before.TryAdmit(out AdmissionTicket first));
        Assert.True(before.TryAdmit(out AdmissionTicket second));

        store.Publish(Load("    admission: { max_running: 1 }"));
        AdmissionGate after = gates.ForGroup("limited")!;
        Assert.Same(before, after);
        Assert.Equal(1, after.MaxRunning);
        Assert.Equal(2, after.Running);

        first.Dispose();
        Assert.False(after.TryAdmit(out _));
        second.Dispose();
        Assert.True(after.TryAdmit(out AdmissionTicket third));
        third.Dispose();
    }

    [Fact]
    public void A_reload_that_removes_all_sections_turns_admission_off()
    {
        var store = new ConfigStore(Load("    admission: { max_running: 2 }"));
        var gates = new AdmissionGates(store);
        Assert.True(gates.IsActive);

        store.Publish(Load(""));
        Assert.False(gates.IsActive);
        Assert.Null(gates.ForGroup("limited"));
    }

    [Fact]
    public void Spill_groups_keep_a_queue_for_statements_that_may_not_spill()
    {
        var gates = new AdmissionGates(new ConfigStore(Load("    admission: { max_running: 1, max_queued: 4, overflow: { spill: free } }")));

        Assert.Equal(4, gates.ForGroup("limited")!.MaxQueued);
        Assert.Equal("free", gates.GroupConfig("limited")!.SpillGroup);
    }

    [Fact]
    public void TryAdmitNow_reports_a_rejection_with_the_figures()
    {
        var gates = new AdmissionGates(new ConfigStore(Load("    admission: { max_running: 1, overflow: reject }")));
        AdmissionGate gate = gates.ForGroup("limited")!;

        AdmissionResult admitted = AdmissionGates.TryAdmitNow(gate);
        Assert.True(admitted.IsAdmitted);
        AdmissionResult refused = AdmissionGates.TryAdmitNow(gate);
        Assert.Equal(AdmissionOutcome.Rejected, refused.Outcome);
        Assert.Equal("53300", refused.SqlState);
        Assert.Equal("group 'limited' is full: 1 running, 0 queued", refused.ErrorMessage());

        AdmissionTicket ticket = admitted.Ticket;
        ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }
}
