using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using LakeOps.Edge.Core.Networking;

namespace LakeOps.Edge.Core.Tests.Networking;

/// <summary>The socket pipes over real loopback sockets: framing across arbitrary arrival splits, growth, idle buffers, cancel, end of stream.</summary>
public sealed class SocketPipeTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly SocketEventLoop _loop = new("pipe-test-loop");
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public SocketPipeTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _loop.Dispose();
    }

    private async Task<(Socket Peer, PolledSocket Polled)> PairAsync(bool inline = false)
    {
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = _listener.AcceptAsync();
        await peer.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!);
        PolledSocket polled = PolledSocket.Attach(await accept, _loop);
        polled.InlineCompletions = inline;
        return (peer, polled);
    }

    /// <summary>Length-prefixed frames (4-byte big-endian length, then that many bytes) read from the pipe.</summary>
    private static async Task<List<byte[]>> ReadFramesAsync(PipeReader reader, int count)
    {
        var frames = new List<byte[]>();
        while (frames.Count < count)
        {
            ReadResult read = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            ReadOnlySequence<byte> buffer = read.Buffer;
            while (TryTakeFrame(ref buffer, out byte[]? frame))
            {
                frames.Add(frame);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(read.IsCompleted && frames.Count < count, "the stream ended early");
        }

        return frames;
    }

    private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out byte[] frame)
    {
        frame = [];
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        int length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (buffer.Length < 4 + length)
        {
            return false;
        }

        frame = buffer.Slice(4, length).ToArray();
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private static byte[] Frames(IEnumerable<byte[]> payloads)
    {
        var all = new List<byte>();
        foreach (byte[] payload in payloads)
        {
            byte[] header = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
            all.AddRange(header);
            all.AddRange(payload);
        }

        return [.. all];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Frames_arrive_intact_whatever_the_split_of_the_byte_stream(bool inline)
    {
        (Socket peer, PolledSocket polled) = await PairAsync(inline);
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 256);
            var random = new Random(11);
            byte[][] payloads = [.. Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, random.Next(0, 700)).Select(b => (byte)(b + i)).ToArray())];
            byte[] stream = Frames(payloads);

            // Every split point of the first frames, then random chunking of the rest: each piece is a separate send.
            Task<List<byte[]>> reading = ReadFramesAsync(reader, payloads.Length);
            int sent = 0;
            while (sent < stream.Length)
            {
                int chunk = Math.Min(stream.Length - sent, sent < 64 ? 1 : random.Next(1, 900));
                await peer.SendAsync(stream.AsMemory(sent, chunk));
                sent += chunk;
            }

            List<byte[]> frames = await reading;
            Assert.Equal(payloads.Length, frames.Count);
            for (int i = 0; i < payloads.Length; i++)
            {
                Assert.Equal(payloads[i], frames[i]);
            }

            Assert.False(reader.HoldsBuffer);
        }
    }

    [Fact]
    public async Task A_message_larger_than_the_buffer_grows_it_and_idle_readers_hold_no_buffer()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);
            byte[] payload = new byte[300_000];
            new Random(3).NextBytes(payload);
            Task<List<byte[]>> reading = ReadFramesAsync(reader, 1);
            await peer.SendAsync(Frames([payload]));
            Assert.Equal(payload, (await reading)[0]);
            Assert.False(reader.HoldsBuffer);
            Assert.Equal(0, reader.Buffered);
        }
    }

    [Fact]
    public async Task Unconsumed_bytes_are_returned_again_without_waiting_and_examined_ones_wait_for_more()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);
            await peer.SendAsync("abcdef"u8.ToArray());
            ReadResult first = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.Equal("abcdef"u8.ToArray(), first.Buffer.ToArray());

            // Consumed two, examined nothing more: the next read returns the rest at once.
            reader.AdvanceTo(first.Buffer.GetPosition(2));
            Assert.True(reader.TryRead(out ReadResult again));
            Assert.Equal("cdef"u8.ToArray(), again.Buffer.ToArray());

            // Examined everything: the next read waits for new bytes and then returns old and new together.
            reader.AdvanceTo(again.Buffer.Start, again.Buffer.End);
            Assert.False(reader.TryRead(out _));
            ValueTask<ReadResult> waiting = reader.ReadAsync();
            await peer.SendAsync("gh"u8.ToArray());
            ReadResult more = await waiting.AsTask().WaitAsync(Patience);
            Assert.Equal("cdefgh"u8.ToArray(), more.Buffer.ToArray());
            reader.AdvanceTo(more.Buffer.End);
            Assert.False(reader.HoldsBuffer);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stale_readiness_edge_with_no_data_keeps_the_read_waiting_for_the_real_data(bool inline)
    {
        (Socket peer, PolledSocket polled) = await PairAsync(inline);
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);

            // A first message drains the socket (a short read): the next read waits for data without a buffer.
            await peer.SendAsync("first"u8.ToArray());
            ReadResult first = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            reader.AdvanceTo(first.Buffer.End);
            // (Usually; if the loop delivered the first message's edge late, the read waits with a buffer and
            // the stale edge below is simply ignored: the test then passes without exercising the case.)
            ValueTask<ReadResult> waiting = reader.ReadAsync();
            Assert.False(waiting.IsCompleted);

            // An edge reported for bytes an earlier recv already took: the wait ends, the recv finds nothing,
            // and the same read must go on waiting (its caller's continuation must survive).
            polled.OnEvents(LinuxSockets.EPOLLIN);
            await peer.SendAsync("late"u8.ToArray());
            ReadResult read = await waiting.AsTask().WaitAsync(Patience);
            Assert.Equal("late"u8.ToArray(), read.Buffer.ToArray());
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    [Fact]
    public async Task CancelPendingRead_ends_a_waiting_read_or_the_next_one_as_canceled()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);
            ValueTask<ReadResult> waiting = reader.ReadAsync();
            Assert.False(waiting.IsCompleted);
            reader.CancelPendingRead();
            ReadResult canceled = await waiting.AsTask().WaitAsync(Patience);
            Assert.True(canceled.IsCanceled);
            Assert.False(canceled.IsCompleted);
            reader.AdvanceTo(canceled.Buffer.End);

            // Requested while no read is pending: the next read reports it, then reading goes on normally.
            reader.CancelPendingRead();
            ReadResult next = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.True(next.IsCanceled);
            reader.AdvanceTo(next.Buffer.End);
            await peer.SendAsync("x"u8.ToArray());
            ReadResult data = await reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.False(data.IsCanceled);
            Assert.Equal("x"u8.ToArray(), data.Buffer.ToArray());
            reader.AdvanceTo(data.Buffer.End);
        }
    }

    [Fact]
    public async Task The_end_of_the_stream_is_reported_after_the_last_bytes()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);
            await peer.SendAsync("bye"u8.ToArray());
            peer.Shutdown(SocketShutdown.Send);
            var seen = new List<byte>();
            while (true)
            {
                ReadResult read = await reader.ReadAsync().AsTask().WaitAsync(Patience);
                seen.AddRange(read.Buffer.ToArray());
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            Assert.Equal("bye"u8.ToArray(), seen.ToArray());
            peer.Dispose();
        }
    }

    [Fact]
    public async Task A_token_canceled_while_waiting_throws_OperationCanceledException()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var reader = new SocketPipeReader(polled, 1024);
            using var cancel = new CancellationTokenSource();
            ValueTask<ReadResult> waiting = reader.ReadAsync(cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(Patience));
        }
    }

    [Fact]
    public async Task The_writer_gathers_writes_until_a_flush_then_sends_them_in_order_and_drops_its_buffer()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var writer = new SocketPipeWriter(polled, 256);
            var expected = new List<byte>();
            for (int i = 0; i < 100; i++)
            {
                // Writes of every size, some beyond the initial buffer: it grows and keeps what was written.
                byte[] piece = Enumerable.Range(0, i * 13).Select(b => (byte)(b ^ i)).ToArray();
                piece.CopyTo(writer.GetSpan(piece.Length));
                writer.Advance(piece.Length);
                expected.AddRange(piece);
            }

            Assert.Equal(expected.Count, writer.UnflushedBytes);
            FlushResult flushed = await writer.FlushAsync().AsTask().WaitAsync(Patience);
            Assert.False(flushed.IsCanceled);
            Assert.Equal(0, writer.UnflushedBytes);
            Assert.False(writer.HoldsBuffer);

            byte[] received = new byte[expected.Count];
            int total = 0;
            while (total < received.Length)
            {
                total += await peer.ReceiveAsync(received.AsMemory(total));
            }

            Assert.Equal(expected.ToArray(), received);
        }
    }

    [Fact]
    public async Task A_flush_to_a_peer_that_does_not_read_waits_and_CancelPendingFlush_ends_it()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var writer = new SocketPipeWriter(polled, 1024);
            byte[] large = new byte[16 << 20];
            large.CopyTo(writer.GetSpan(large.Length));
            writer.Advance(large.Length);
            ValueTask<FlushResult> flushing = writer.FlushAsync();
            Assert.False(flushing.IsCompleted);
            writer.CancelPendingFlush();
            FlushResult result = await flushing.AsTask().WaitAsync(Patience);
            Assert.True(result.IsCanceled);
            Assert.False(writer.HoldsBuffer);
        }
    }

    [Fact]
    public async Task Advancing_past_the_memory_handed_out_is_refused()
    {
        (Socket peer, PolledSocket polled) = await PairAsync();
        using (peer)
        using (polled)
        {
            var writer = new SocketPipeWriter(polled, 256);
            int length = writer.GetMemory(10).Length;
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(length + 1));
        }
    }
}
