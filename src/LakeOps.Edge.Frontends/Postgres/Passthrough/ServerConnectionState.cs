using LakeOps.Edge.Engines.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// What the passthrough knows about one server connection beyond what <see cref="PgServerConnection"/>
/// tracks: which of Edge's statements it has prepared (with last use, for least-recently-used
/// eviction). Names are mirrored into
/// <see cref="PgServerConnection.PreparedStatements"/> so other users of the pool see them.
/// </summary>
/// <remarks>
/// The borrowing session's client loop adds statements while its response pump may remove failed ones,
/// so the statement set is guarded by a lock (never held across I/O).
/// </remarks>
internal sealed class ServerConnectionState
{
    private readonly Dictionary<ServerStatement, long> _prepared = [];
    private readonly HashSet<string>? _mirror;
    private readonly Lock _gate = new();
    private long _clock;

    public ServerConnectionState(HashSet<string>? mirror, string clusterName = "")
    {
        _mirror = mirror;
        ClusterName = clusterName;
    }

    public string ClusterName { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _prepared.Count;
            }
        }
    }

    public static ServerConnectionState For(PgServerConnection connection) =>
        connection.ForwardingState as ServerConnectionState
        ?? (ServerConnectionState)(connection.ForwardingState = new ServerConnectionState(connection.PreparedStatements, connection.ClusterName));

    /// <summary>True (and marks it used) when the connection has <paramref name="statement"/>.</summary>
    public bool TryUse(ServerStatement statement)
    {
        lock (_gate)
        {
            if (!_prepared.ContainsKey(statement))
            {
                return false;
            }

            // The mirror is the connection's own record: whoever emptied it (DISCARD ALL elsewhere) knew better.
            if (_mirror is not null && !_mirror.Contains(statement.Name))
            {
                _prepared.Remove(statement);
                return false;
            }

            _prepared[statement] = ++_clock;
            return true;
        }
    }

    /// <summary>Records a Parse about to be sent (undone by <see cref="Remove"/> if it fails).</summary>
    public void Add(ServerStatement statement)
    {
        lock (_gate)
        {
            _prepared[statement] = ++_clock;
            _mirror?.Add(statement.Name);
        }
    }

    public void Remove(ServerStatement statement)
    {
        lock (_gate)
        {
            _prepared.Remove(statement);
            _mirror?.Remove(statement.Name);
        }
    }

    /// <summary>The server dropped every prepared statement (DISCARD ALL, DEALLOCATE ALL).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _mirror?.Clear();
            _prepared.Clear();
        }
    }

    /// <summary>
    /// Called when a session borrows the connection. Returns the least recently used statements beyond
    /// <paramref name="capacity"/>, already forgotten, for the caller to Close on the server.
    /// </summary>
    public List<ServerStatement>? Borrowed(int capacity)
    {
        lock (_gate)
        {
            int excess = _prepared.Count - capacity;
            if (excess <= 0)
            {
                return null;
            }

            var byAge = new List<KeyValuePair<ServerStatement, long>>(_prepared);
            byAge.Sort(static (a, b) => a.Value.CompareTo(b.Value));
            var evicted = new List<ServerStatement>(excess);
            for (int i = 0; i < excess; i++)
            {
                ServerStatement statement = byAge[i].Key;
                evicted.Add(statement);
                _prepared.Remove(statement);
                _mirror?.Remove(statement.Name);
            }

            return evicted;
        }
    }
}
