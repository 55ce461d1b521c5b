using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// Live sessions by backend process id, so a CancelRequest (which arrives on a new connection)
/// can find the session it targets; its secret key must match.
/// </summary>
internal sealed class PgSessionRegistry
{
    private readonly ConcurrentDictionary<int, PgSession> _sessions = new();
    private int _nextProcessId = RandomNumberGenerator.GetInt32(1000, 1 << 20);

    public (int ProcessId, int SecretKey) Register(PgSession session)
    {
        while (true)
        {
            int pid = Interlocked.Increment(ref _nextProcessId) & 0x7FFFFFFF;
            if (pid != 0 && _sessions.TryAdd(pid, session))
            {
                return (pid, RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue));
            }
        }
    }

    public void Unregister(int processId) => _sessions.TryRemove(processId, out _);

    /// <summary>The listener is stopping: idle passthrough sessions end now (running work drains first).</summary>
    public void StopIdleSessions()
    {
        foreach (KeyValuePair<int, PgSession> entry in _sessions)
        {
            entry.Value.OnListenerStopping();
        }
    }

    /// <summary>Cancels the running statement of the matching session; false when none matches.</summary>
    public bool TryCancel(int processId, int secretKey)
    {
        if (!_sessions.TryGetValue(processId, out PgSession? session) || session.SecretKey != secretKey)
        {
            return false;
        }

        session.CancelRunningStatement();
        return true;
    }
}
