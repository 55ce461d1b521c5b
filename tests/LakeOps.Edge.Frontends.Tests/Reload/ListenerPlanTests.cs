using System.Net;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Reload;

namespace LakeOps.Edge.Frontends.Tests.Reload;

/// <summary>Which listeners a reload keeps, starts, stops or replaces (the host's <see cref="ListenerPlan"/>, no sockets).</summary>
public sealed class ListenerPlanTests
{
    [Fact]
    public void ClassifiesEveryListener()
    {
        IReadOnlyList<ListenerChange> changes = ListenerPlan.Create(
            [Pg("same", 5001), Pg("moved", 5002), Pg("gone", 5003)],
            [Pg("same", 5001) with { Limits = new ListenerLimits { MaxConnections = 3 } }, Pg("moved", 5012), Pg("new", 5013)]);

        Assert.Equal(
            ["Keep same", "Replace moved", "Start new", "Stop gone"],
            changes.Select(c => $"{c.Step} {c.Name}"));
        Assert.All(changes, c => Assert.False(c.BindsAfterRelease));
        Assert.Equal(3, changes[0].Next!.Limits.MaxConnections);
    }

    [Fact]
    public void ProtocolChangeOnTheSameAddressWaitsForTheOldSocket()
    {
        ListenerChange change = Assert.Single(ListenerPlan.Create([Pg("door", 5001)], [Pg("door", 5001) with { Protocol = ListenerProtocol.MySql }]));

        Assert.Equal(ListenerStep.Replace, change.Step);
        Assert.True(change.BindsAfterRelease);
    }

    [Fact]
    public void AddressesTakenOverFromDepartingListenersBindLate()
    {
        IReadOnlyList<ListenerChange> changes = ListenerPlan.Create(
            [Pg("a", 5001), Pg("b", 5002), Pg("old", 5003)],
            [Pg("a", 5002), Pg("b", 5001), Pg("renamed", 5003)]);

        Assert.Equal(
            ["Replace a late", "Replace b late", "Start renamed late", "Stop old early"],
            changes.Select(c => $"{c.Step} {c.Name} {(c.BindsAfterRelease ? "late" : "early")}"));
    }

    [Fact]
    public void AddressOfAKeptListenerIsNotReleased()
    {
        IReadOnlyList<ListenerChange> changes = ListenerPlan.Create([Pg("a", 5001)], [Pg("a", 5001), Pg("b", 5001)]);

        Assert.False(changes.Single(c => c.Name == "b").BindsAfterRelease);
    }

    [Fact]
    public void PortZeroStaysKeptAndNeverWaits()
    {
        IReadOnlyList<ListenerChange> changes = ListenerPlan.Create([Pg("a", 0), Pg("b", 0)], [Pg("a", 0), Pg("c", 0)]);

        Assert.Equal(["Keep a", "Start c", "Stop b"], changes.Select(c => $"{c.Step} {c.Name}"));
        Assert.All(changes, c => Assert.False(c.BindsAfterRelease));
    }

    internal static ListenerConfig Pg(string name, int port) =>
        new() { Name = name, Protocol = ListenerProtocol.Postgres, Endpoint = new IPEndPoint(IPAddress.Loopback, port) };
}
