using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Core.Networking;

/// <summary>
/// One thread waiting on one edge-triggered epoll set, like PgBouncer's event loop. It learns that a
/// socket is readable or writable before anyone calls recv or send, so a receive never costs a
/// failed syscall, and an idle connection holds no buffer at all. Work resumed by an event runs
/// on this thread when the socket asks for inline completions (passthrough sessions, which only
/// copy frames) and on the thread pool otherwise.
/// </summary>
public sealed unsafe class SocketEventLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;

    private static readonly Lazy<SocketEventLoop[]> SharedLoops = new(CreateShared);
    private static int _nextShared = -1;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly Lock _slotsGate = new();
    private readonly Stack<int> _freeSlots = new();
    private PolledSocket?[] _slots = new PolledSocket?[64];
    private int _usedSlots;
    private uint _generation;
    private volatile bool _stopping;

    // The watchdog's probe (PingAsync): completed by the loop thread when it wakes for it.
    private TaskCompletionSource? _ping;

    public SocketEventLoop(string name)
    {
        _epoll = LinuxSockets.epoll_create1(LinuxSockets.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw LinuxSockets.Error(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        _wake = LinuxSockets.eventfd(0, LinuxSockets.EFD_NONBLOCK | LinuxSockets.EFD_CLOEXEC);
        if (_wake < 0 || LinuxSockets.Control(_epoll, LinuxSockets.EPOLL_CTL_ADD, _wake, LinuxSockets.EPOLLIN, WakeToken) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            LinuxSockets.close(_epoll);
            throw LinuxSockets.Error(errno);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.UnsafeStart();
    }

    /// <summary>
    /// The process's loops: half the cores (at least one, at most 16), so the other half runs the
    /// thread pool, the engines and the kernel's share of the network work.
    /// </summary>
    public static int SharedLoopCount => Math.Clamp(Environment.ProcessorCount / 2, 1, 16);

    /// <summary>The next shared loop, round robin: connections spread evenly over the loops.</summary>
    public static SocketEventLoop NextShared()
    {
        SocketEventLoop[] loops = SharedLoops.Value;
        return loops[(int)((uint)Interlocked.Increment(ref _nextShared) % (uint)loops.Length)];
    }

    /// <summary>True on this loop's own thread (where inline completions run).</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Adds the socket to the epoll set; its token is set before epoll can report an event for it.</summary>
    internal void Register(PolledSocket socket, int fd)
    {
        ulong token;
        lock (_slotsGate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            int index;
            if (_freeSlots.Count > 0)
            {
                index = _freeSlots.Pop();
            }
            else
            {
                if (_usedSlots == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                }

                index = _usedSlots++;
            }

            // The generation tells a stale event (for a socket closed in the same batch) from the slot's new owner.
            token = ((ulong)++_generation << 32) | (uint)index;
            socket.Token = token;
            Volatile.Write(ref _slots[index], socket);
        }

        const uint Interest = LinuxSockets.EPOLLIN | LinuxSockets.EPOLLOUT | LinuxSockets.EPOLLRDHUP | LinuxSockets.EPOLLET;
        if (LinuxSockets.Control(_epoll, LinuxSockets.EPOLL_CTL_ADD, fd, Interest, token) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            Release(token);
            throw LinuxSockets.Error(errno);
        }
    }

    internal void Unregister(ulong token, int fd)
    {
        // The descriptor is still open here; closing it afterwards would drop it from the set anyway,
        // but an explicit delete keeps a duplicated descriptor from delivering stale events.
        LinuxSockets.Control(_epoll, LinuxSockets.EPOLL_CTL_DEL, fd, 0, 0);
        Release(token);
    }

    private void Release(ulong token)
    {
        int index = (int)(uint)token;
        lock (_slotsGate)
        {
            if (_slots[index] is { } owner && owner.Token == token)
            {
                Volatile.Write(ref _slots[index], null);
                _freeSlots.Push(index);
            }
        }
    }

    private void Run()
    {
        byte* events = stackalloc byte[MaxEvents * 16];
        while (!_stopping)
        {
            int count = LinuxSockets.epoll_wait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == LinuxSockets.EINTR)
                {
                    continue;
                }

                Log.Error(EventId.EventLoopFailed, $"event loop {_thread.Name}: epoll_wait failed with errno {errno}");
                return;
            }

            PolledSocket?[] slots = Volatile.Read(ref _slots);
            for (int i = 0; i < count; i++)
            {
                ulong token = LinuxSockets.EventData(events, i);
                if (token == WakeToken)
                {
                    // Drain the eventfd (level-triggered) and answer a pending watchdog ping.
                    ulong wakes;
                    LinuxSockets.read(_wake, (byte*)&wakes, sizeof(ulong));
                    Interlocked.Exchange(ref _ping, null)?.TrySetResult();
                    continue;
                }

                int index = (int)(uint)token;
                PolledSocket? socket = index < slots.Length ? Volatile.Read(ref slots[index]) : null;
                if (socket is null || socket.Token != token)
                {
                    continue;
                }

                try
                {
                    socket.OnEvents(LinuxSockets.EventMask(events, i));
                }
                catch (Exception ex)
                {
                    // A bug in one connection's continuation must not stop every other connection on this loop.
                    Log.Error(EventId.EventLoopFailed, $"event loop {_thread.Name}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
    }

    /// <summary>
    /// Completes once this loop's thread came back from epoll_wait to handle the wake it sends: the
    /// systemd watchdog's proof that the loop still turns. One caller at a time (the watchdog).
    /// </summary>
    public Task PingAsync()
    {
        var ping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _ping, ping);
        ulong one = 1;
        LinuxSockets.write(_wake, (byte*)&one, sizeof(ulong));
        return ping.Task;
    }

    /// <summary>The shared loops if any connection created them yet (the watchdog probes only loops that exist).</summary>
    public static IReadOnlyList<SocketEventLoop> StartedShared => SharedLoops.IsValueCreated ? SharedLoops.Value : [];

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        ulong one = 1;
        LinuxSockets.write(_wake, (byte*)&one, sizeof(ulong));
        if (!IsLoopThread)
        {
            _thread.Join();
        }

        LinuxSockets.close(_wake);
        LinuxSockets.close(_epoll);
    }

    private static SocketEventLoop[] CreateShared()
    {
        var loops = new SocketEventLoop[SharedLoopCount];
        for (int i = 0; i < loops.Length; i++)
        {
            loops[i] = new SocketEventLoop($"edge-loop-{i}");
        }

        return loops;
    }
}
