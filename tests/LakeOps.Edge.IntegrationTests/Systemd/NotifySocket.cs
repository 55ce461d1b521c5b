using System.Net.Sockets;
using System.Text;

namespace LakeOps.Edge.IntegrationTests.Systemd;

/// <summary>
/// What systemd's notify socket is for a test: a real unix datagram socket bound at a file path or an
/// abstract name ('@' as in $NOTIFY_SOCKET), collecting every datagram it receives.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly List<string> _messages = [];
    private readonly string? _file;
    private readonly Task _receiving;

    private NotifySocket(string address, string? file)
    {
        Address = address;
        _file = file;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address));
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The value for $NOTIFY_SOCKET.</summary>
    public string Address { get; }

    public static NotifySocket AtPath()
    {
        string file = Path.Combine(Path.GetTempPath(), "edge-notify-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        return new NotifySocket(file, file);
    }

    public static NotifySocket Abstract() => new("@edge-notify-test-" + Guid.NewGuid().ToString("N"), null);

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Waits until a received message satisfies <paramref name="match"/>; returns its index.</summary>
    public async Task<int> WaitForAsync(Func<string, bool> match, int from = 0, int timeoutSeconds = 15)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            IReadOnlyList<string> messages = Messages;
            for (int i = from; i < messages.Count; i++)
            {
                if (match(messages[i]))
                {
                    return i;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no matching notify message; got: " + string.Join(" | ", messages.Select(m => m.Replace("\n", "\\n", StringComparison.Ordinal))));
            }

            await Task.Delay(5);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[4096];
        while (true)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_messages)
            {
                _messages.Add(Encoding.UTF8.GetString(buffer, 0, received));
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        if (_file is not null)
        {
            File.Delete(_file);
        }
    }
}
