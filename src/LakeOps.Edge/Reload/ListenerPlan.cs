using System.Net;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Reload;

internal enum ListenerStep
{
    /// <summary>Same name, protocol and address: keeps running (its TLS certificate may still be swapped).</summary>
    Keep,

    /// <summary>A new name: a new listener starts.</summary>
    Start,

    /// <summary>The name is gone: the listener stops accepting and drains its sessions.</summary>
    Stop,

    /// <summary>Same name, another address or protocol: a new listener starts, the old one stops and drains.</summary>
    Replace,
}

/// <summary>
/// One listener's part in a reload. <see cref="BindsAfterRelease"/>: the new socket's address is held by a listener
/// that this reload stops or moves, so it can only be bound once that one stopped accepting (a short gap); every
/// other new socket is bound before anything running changes.
/// </summary>
internal sealed record ListenerChange(ListenerStep Step, string Name, ListenerConfig? Running, ListenerConfig? Next, bool BindsAfterRelease);

/// <summary>Which listeners a reload starts, stops, replaces or keeps. Pure: no sockets.</summary>
internal static class ListenerPlan
{
    public static IReadOnlyList<ListenerChange> Create(IReadOnlyList<ListenerConfig> running, IReadOnlyList<ListenerConfig> next)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(next);
        var runningByName = new Dictionary<string, ListenerConfig>(StringComparer.Ordinal);
        foreach (ListenerConfig listener in running)
        {
            runningByName[listener.Name] = listener;
        }

        var nextByName = new Dictionary<string, ListenerConfig>(StringComparer.Ordinal);
        foreach (ListenerConfig listener in next)
        {
            nextByName[listener.Name] = listener;
        }

        // Addresses that running listeners give up in this reload (stopped, or moved/replaced by name).
        var released = new List<IPEndPoint>();
        foreach (ListenerConfig old in running)
        {
            if (!nextByName.TryGetValue(old.Name, out ListenerConfig? kept) || !Unchanged(old, kept))
            {
                released.Add(old.Endpoint);
            }
        }

        var changes = new List<ListenerChange>();
        foreach (ListenerConfig listener in next)
        {
            if (!runningByName.TryGetValue(listener.Name, out ListenerConfig? old))
            {
                changes.Add(new ListenerChange(ListenerStep.Start, listener.Name, null, listener, Holds(released, listener.Endpoint)));
            }
            else if (Unchanged(old, listener))
            {
                changes.Add(new ListenerChange(ListenerStep.Keep, listener.Name, old, listener, false));
            }
            else
            {
                changes.Add(new ListenerChange(ListenerStep.Replace, listener.Name, old, listener, Holds(released, listener.Endpoint)));
            }
        }

        foreach (ListenerConfig old in running)
        {
            if (!nextByName.ContainsKey(old.Name))
            {
                changes.Add(new ListenerChange(ListenerStep.Stop, old.Name, old, null, false));
            }
        }

        return changes;
    }

    /// <summary>
    /// The running listener serves the reloaded entry as it is (TLS and limits are applied in place). Addresses
    /// compare as configured: a listener on port 0 that stays on port 0 keeps the port it was given.
    /// </summary>
    public static bool Unchanged(ListenerConfig running, ListenerConfig next) =>
        running.Protocol == next.Protocol && running.Endpoint.Equals(next.Endpoint);

    /// <summary>Port 0 binds a fresh port, so it never waits for another listener's address.</summary>
    private static bool Holds(List<IPEndPoint> released, IPEndPoint endpoint)
    {
        if (endpoint.Port == 0)
        {
            return false;
        }

        foreach (IPEndPoint address in released)
        {
            if (address.Equals(endpoint))
            {
                return true;
            }
        }

        return false;
    }
}
