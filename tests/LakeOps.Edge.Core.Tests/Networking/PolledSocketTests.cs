using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.Core.Networking;

namespace LakeOps.Edge.Core.Tests.Networking;

public sealed class PolledSocketTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly SocketEventLoop _loop = new("test-loop");
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public PolledSocketTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    private int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public void Dispose()
    {
        _listener.Dispose();
        _loop.Dispose();
    }

    /// <summary>A connected pair: an ordinary .NET socket as the peer, the accepted side polled by the test loop.</summary>
    private async Task<(Socket Peer, PolledSocket Polled)> PairAsync()
    {
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = _listener.AcceptAsync();
        await peer.ConnectAsync(IPEndPoint.Parse($"127.0.0.1:{Port}"));
        return (peer, PolledSocket.Attach(await accept, _loop));
    }

    [Fact]
    public async Task Request_response_exchanges_carry_every_byte_in_order()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            byte[] buffer = new byte[64];
            for (int i = 0; i < 500; i++)
            {
                byte[] request = BitConverter.GetBytes(i);
                await peer.SendAsync(request);
                int received = await polled.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);
                Assert.Equal(request, buffer[..received]);
                await polled.SendAsync(BitConverter.GetBytes(i * 2));
                byte[] reply = new byte[4];
                Assert.Equal(4, await peer.ReceiveAsync(reply));
                Assert.Equal(i * 2, BitConverter.ToInt32(reply));
            }
        }
    }

    [Fact]
    public async Task Large_sends_wait_for_the_peer_to_drain_and_arrive_intact()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            // 8 MiB is far beyond the socket buffers: the send must pend on EPOLLOUT and resume.
            byte[] payload = new byte[8 << 20];
            new Random(7).NextBytes(payload);
            Task send = polled.SendAsync(payload).AsTask();
            byte[] received = new byte[payload.Length];
            int total = 0;
            while (total < received.Length)
            {
                int n = await peer.ReceiveAsync(received.AsMemory(total));
                Assert.NotEqual(0, n);
                total += n;
            }

            await send.WaitAsync(Patience);
            Assert.Equal(payload, received);

            // And the other way, through a pipe reader over the stream in small reads.
            Task peerSend = peer.SendAsync(payload);
            PipeReader reader = PipeReader.Create(new PolledStream(polled, ownsSocket: false), PolledStream.IdleFriendlyReader);
            using var copy = new MemoryStream();
            while (copy.Length < payload.Length)
            {
                ReadResult read = await reader.ReadAsync().AsTask().WaitAsync(Patience);
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    copy.Write(segment.Span);
                }

                reader.AdvanceTo(read.Buffer.End);
            }

            await peerSend;
            Assert.Equal(payload, copy.ToArray());
        }
    }

    [Fact]
    public async Task A_zero_byte_receive_waits_for_data_without_consuming_it()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            // A fresh socket may be readable; one exchange (receive first, then send) settles what the loop knows.
            byte[] buffer = new byte[16];
            ValueTask<int> first = polled.ReceiveAsync(buffer);
            await peer.SendAsync("a"u8.ToArray());
            Assert.Equal(1, await first.AsTask().WaitAsync(Patience));

            ValueTask<int> wait = polled.ReceiveAsync(Memory<byte>.Empty);
            Assert.False(wait.IsCompleted);
            await peer.SendAsync("xyz"u8.ToArray());
            Assert.Equal(0, await wait.AsTask().WaitAsync(Patience));
            Assert.Equal(3, await polled.ReceiveAsync(buffer).AsTask().WaitAsync(Patience));
            Assert.Equal("xyz"u8.ToArray(), buffer[..3]);
        }
    }

    [Fact]
    public async Task A_cancelled_receive_leaves_the_socket_usable()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            await peer.SendAsync("a"u8.ToArray());
            byte[] buffer = new byte[16];
            Assert.Equal(1, await polled.ReceiveAsync(buffer).AsTask().WaitAsync(Patience));

            using var cancel = new CancellationTokenSource();
            ValueTask<int> pending = polled.ReceiveAsync(buffer, cancel.Token);
            Assert.False(pending.IsCompleted);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Patience));

            await peer.SendAsync("b"u8.ToArray());
            Assert.Equal(1, await polled.ReceiveAsync(buffer).AsTask().WaitAsync(Patience));
            Assert.Equal((byte)'b', buffer[0]);
        }
    }

    [Fact]
    public async Task The_peer_closing_ends_the_stream_and_disposal_fails_a_pending_receive()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (polled)
        {
            byte[] buffer = new byte[16];
            ValueTask<int> pending = polled.ReceiveAsync(buffer);
            peer.Dispose();
            Assert.Equal(0, await pending.AsTask().WaitAsync(Patience));
        }

        (Socket peer2, PolledSocket polled2) = await PairAsync();
        using (peer2)
        {
            await peer2.SendAsync("a"u8.ToArray());
            Assert.Equal(1, await polled2.ReceiveAsync(new byte[4]).AsTask().WaitAsync(Patience));
            ValueTask<int> pending = polled2.ReceiveAsync(new byte[4]);
            polled2.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(Patience));
            Assert.True(polled2.IsClosed);
            Assert.Throws<ObjectDisposedException>(() => polled2.ReceiveAsync(new byte[4]));
        }
    }

    [Fact]
    public async Task Data_followed_by_a_close_is_read_and_then_the_end_of_stream()
    {
        // The FIN arrives with (or right after) the last bytes: the short read that takes the bytes must
        // not leave the socket marked drained, or the end of the stream would never be seen.
        for (int round = 0; round < 50; round++)
        {
            (Socket peer, PolledSocket polled) = await PairAsync();
            using (polled)
            {
                byte[] buffer = new byte[64];
                ValueTask<int> first = polled.ReceiveAsync(buffer);
                await peer.SendAsync("bye"u8.ToArray());
                peer.Shutdown(SocketShutdown.Send);
                int total = await first.AsTask().WaitAsync(Patience);
                int last;
                while ((last = await polled.ReceiveAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Patience)) > 0)
                {
                    total += last;
                }

                Assert.Equal("bye"u8.ToArray(), buffer[..total]);
                peer.Dispose();
            }
        }
    }

    [Fact]
    public async Task Inline_completions_resume_on_the_loop_thread_and_the_default_on_the_thread_pool()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            byte[] buffer = new byte[16];
            await peer.SendAsync("a"u8.ToArray());
            await polled.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);

            Task<bool> pooled = OnLoopAfterReceiveAsync(polled, buffer);
            await peer.SendAsync("b"u8.ToArray());
            Assert.False(await pooled.WaitAsync(Patience));

            polled.InlineCompletions = true;
            Task<bool> inline = OnLoopAfterReceiveAsync(polled, buffer);
            await peer.SendAsync("c"u8.ToArray());
            Assert.True(await inline.WaitAsync(Patience));
        }
    }

    private async Task<bool> OnLoopAfterReceiveAsync(PolledSocket polled, byte[] buffer)
    {
        await polled.ReceiveAsync(buffer).ConfigureAwait(false);
        return _loop.IsLoopThread;
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Connect_reaches_a_listener_by_name_and_refusal_is_a_socket_error(string host)
    {
        Task<Socket> accept = _listener.AcceptAsync();
        using PolledSocket client = await PolledSocket.ConnectAsync(host, Port, CancellationToken.None).AsTask().WaitAsync(Patience);
        using Socket server = await accept;
        await client.SendAsync("hello"u8.ToArray());
        byte[] buffer = new byte[5];
        Assert.Equal(5, await server.ReceiveAsync(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer);

        int closedPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var refused = await Assert.ThrowsAsync<SocketException>(() => PolledSocket.ConnectAsync("127.0.0.1", closedPort, CancellationToken.None).AsTask().WaitAsync(Patience));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Synchronous_reads_and_writes_work_alongside()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            using var stream = new PolledStream(polled, ownsSocket: false);
            stream.Write("ping"u8);
            byte[] buffer = new byte[4];
            Assert.Equal(4, await peer.ReceiveAsync(buffer));
            await peer.SendAsync("pong"u8.ToArray());
            int total = 0;
            while (total < 4)
            {
                total += stream.Read(buffer.AsSpan(total));
            }

            Assert.Equal("pong"u8.ToArray(), buffer);
        }
    }
}
