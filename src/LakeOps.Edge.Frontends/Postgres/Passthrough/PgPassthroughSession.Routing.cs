using System.Buffers;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Engines.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// What a passthrough session does after a SET changed what routing rules look at: stay (the default value),
/// move to <see cref="Engine"/> on <see cref="Group"/>, or answer statements with <see cref="Error"/> (an
/// ErrorResponse frame) because the new route is one a passthrough cannot serve.
/// </summary>
internal readonly record struct PassthroughRoute(PostgresEngine? Engine, GroupConfig? Group, byte[]? Error)
{
    public static PassthroughRoute Fail(string sqlState, string message) => new(null, null, ClientMessageForwarder.ErrorFrame(sqlState, message));
}

/// <summary>
/// Routing rules in a passthrough session. The login decided the group; SET application_name, edge.tags or
/// search_path can change the decision. When such a SET has taken effect, the next transaction (the next time
/// the session borrows a server connection) asks <see cref="_reroute"/> again and is served by the new
/// group's cluster. Sessions without rules have no <see cref="_reroute"/> and do nothing here. A pinned session
/// keeps its connection, so it stays where it is.
/// </summary>
internal sealed partial class PgPassthroughSession
{
    private readonly Func<SessionSettings, string, PassthroughRoute>? _reroute;
    private int _routedVersion;

    // Set while the settings route the session somewhere a passthrough cannot go: its statements get this error.
    private byte[]? _routeError;

    // Clusters the session moved away from: connections borrowed there go back to their own pool.
    private volatile PostgresEngine[]? _movedFrom;

    /// <summary>The pool <paramref name="server"/> came from (the current cluster's unless the session moved).</summary>
    private ConnectionPool<PgServerConnection> PoolOf(PgServerConnection server)
    {
        PostgresEngine engine = _engine;
        PostgresEngine[]? movedFrom = _movedFrom;
        if (movedFrom is not null && !string.Equals(server.ClusterName, engine.ClusterName, StringComparison.Ordinal))
        {
            foreach (PostgresEngine previous in movedFrom)
            {
                if (string.Equals(server.ClusterName, previous.ClusterName, StringComparison.Ordinal))
                {
                    return previous.Pool;
                }
            }
        }

        return engine.Pool;
    }

    /// <summary>
    /// At a transaction boundary: follows a changed route. False when the message was answered with the
    /// route's error instead (SET, RESET and SHOW still run, so the client can route itself back).
    /// </summary>
    private bool FollowRoute(byte type, in ReadOnlySequence<byte> frame)
    {
        int version = _settings.RouteVersion;
        if (version != _routedVersion)
        {
            _routedVersion = version;
            PassthroughRoute route = _reroute!(_settings, _group.Name);
            _routeError = route.Error;
            if (route.Engine is { } engine && route.Group is { } group && !ReferenceEquals(engine, _engine))
            {
                _group = group;
                MoveTo(engine);
            }
            else if (route.Group is { } sameCluster)
            {
                _group = sameCluster;
            }
        }

        if (_routeError is null || MayRunOffRoute(_client.StatementText(type, frame)))
        {
            return true;
        }

        _client.Reject(type, _routeError);
        return false;
    }

    private static bool MayRunOffRoute(ReadOnlySpan<byte> sql)
    {
        ReadOnlySpan<byte> first = StatementEffects.FirstWord(sql);
        return System.Text.Ascii.EqualsIgnoreCase(first, "SET"u8) || System.Text.Ascii.EqualsIgnoreCase(first, "RESET"u8)
            || System.Text.Ascii.EqualsIgnoreCase(first, "SHOW"u8) || System.Text.Ascii.EqualsIgnoreCase(first, "DISCARD"u8);
    }
}
