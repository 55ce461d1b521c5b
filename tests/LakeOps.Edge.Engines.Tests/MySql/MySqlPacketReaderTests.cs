using System.IO.Pipelines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>Whole packets out of a pipe, whatever chunks the bytes arrive in.</summary>
public sealed class MySqlPacketReaderTests
{
    private static byte[] Packet(byte sequence, params byte[] payload) =>
        [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence, .. payload];

    [Fact]
    public async Task Packets_are_read_whole_at_every_split_of_the_input()
    {
        byte[] stream = [.. Packet(0, 1, 2, 3), .. Packet(1), .. Packet(2, 0xFE, 0, 0, 2, 0)];
        for (int split = 0; split <= stream.Length; split++)
        {
            var pipe = new Pipe();
            var reader = new MySqlPacketReader(pipe.Reader);
            await pipe.Writer.WriteAsync(stream.AsMemory(0, split));
            Task<List<byte[]>> reading = ReadAllAsync(reader);
            await pipe.Writer.WriteAsync(stream.AsMemory(split));
            await pipe.Writer.CompleteAsync();
            List<byte[]> packets = await reading;
            Assert.Equal(3, packets.Count);
            Assert.Equal(new byte[] { 1, 2, 3 }, packets[0]);
            Assert.Empty(packets[1]);
            Assert.Equal(new byte[] { 0xFE, 0, 0, 2, 0 }, packets[2]);
        }
    }

    [Fact]
    public async Task The_raw_frame_is_the_packet_as_it_arrived()
    {
        var pipe = new Pipe();
        var reader = new MySqlPacketReader(pipe.Reader);
        byte[] packet = Packet(5, 9, 8, 7);
        await pipe.Writer.WriteAsync(packet);
        ReadOnlyMemory<byte>? payload = await reader.ReadAsync(100, CancellationToken.None);
        Assert.Equal(new byte[] { 9, 8, 7 }, payload!.Value.ToArray());
        Assert.Equal(packet, System.Buffers.BuffersExtensions.ToArray(reader.RawFrame));
        Assert.Equal(5, reader.LastSequenceId);
    }

    [Fact]
    public async Task A_joined_16_MiB_packet_is_one_payload()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var reader = new MySqlPacketReader(pipe.Reader);
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        big[^1] = 42;
        await pipe.Writer.WriteAsync(Packet(0, big)[..4]);
        await pipe.Writer.WriteAsync(big);
        await pipe.Writer.WriteAsync(Packet(1, 7));
        ReadOnlyMemory<byte>? payload = await reader.ReadAsync(int.MaxValue, CancellationToken.None);
        Assert.Equal(MySqlPacketScanner.MaxPacketPayload + 1, payload!.Value.Length);
        Assert.Equal(42, payload.Value.Span[MySqlPacketScanner.MaxPacketPayload - 1]);
        Assert.Equal(7, payload.Value.Span[^1]);
        Assert.Equal(1, reader.LastSequenceId);
    }

    [Fact]
    public async Task Limits_and_truncation_are_protocol_errors()
    {
        var pipe = new Pipe();
        var reader = new MySqlPacketReader(pipe.Reader);
        await pipe.Writer.WriteAsync(Packet(0, 1, 2, 3));
        await Assert.ThrowsAsync<MySqlProtocolException>(async () => await reader.ReadAsync(2, CancellationToken.None));

        var truncated = new Pipe();
        var second = new MySqlPacketReader(truncated.Reader);
        await truncated.Writer.WriteAsync(Packet(0, 1, 2, 3)[..5]);
        await truncated.Writer.CompleteAsync();
        await Assert.ThrowsAsync<MySqlProtocolException>(async () => await second.ReadAsync(100, CancellationToken.None));

        var closed = new Pipe();
        await closed.Writer.CompleteAsync();
        Assert.Null(await new MySqlPacketReader(closed.Reader).ReadAsync(100, CancellationToken.None));
    }

    private static async Task<List<byte[]>> ReadAllAsync(MySqlPacketReader reader)
    {
        var packets = new List<byte[]>();
        while (await reader.ReadAsync(1000, CancellationToken.None) is { } payload)
        {
            packets.Add(payload.ToArray());
        }

        return packets;
    }
}
