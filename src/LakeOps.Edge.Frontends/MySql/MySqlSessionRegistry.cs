using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// Live MySQL sessions by connection id (the id the handshake announces and CONNECTION_ID() returns), so
/// <c>KILL [QUERY] id</c> from another connection finds the session it targets.
/// </summary>
internal sealed class MySqlSessionRegistry
{
    private readonly ConcurrentDictionary<uint, MySqlSession> _sessions = new();
    private int _nextId = RandomNumberGenerator.GetInt32(1, 1 << 16);

    public uint Register(MySqlSession session)
    {
        while (true)
        {
            uint id = (uint)Interlocked.Increment(ref _nextId) & 0x7FFFFFFF;
            if (id != 0 && _sessions.TryAdd(id, session))
            {
                return id;
            }
        }
    }

    public void Unregister(uint connectionId) => _sessions.TryRemove(connectionId, out _);

    public MySqlSession? Find(uint connectionId) => _sessions.TryGetValue(connectionId, out MySqlSession? session) ? session : null;

    public int Count => _sessions.Count;
}
