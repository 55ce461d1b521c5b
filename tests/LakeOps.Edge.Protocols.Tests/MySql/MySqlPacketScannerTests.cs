using System.Buffers;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.Tests.Support;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlPacketScannerTests
{
    [Fact]
    public void A_packet_is_found_over_every_split_and_short_input_is_incomplete()
    {
        byte[] wire = Packet(7, 0x03, (byte)'a', (byte)'b');
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(wire))
        {
            var scanner = default(MySqlPacketScanner);
            Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(sequence, NoLimit));
            Assert.Equal(new MySqlFrame(3, 7, 7, 7, 1), scanner.Frame);
        }

        for (int length = 0; length < wire.Length; length++)
        {
            var scanner = default(MySqlPacketScanner);
            Assert.Equal(MySqlPacketStatus.Incomplete, scanner.TryRead(new ReadOnlySequence<byte>(wire, 0, length), NoLimit));
        }
    }

    [Fact]
    public void Empty_payload_is_a_complete_packet()
    {
        var scanner = default(MySqlPacketScanner);
        Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(new ReadOnlySequence<byte>(Packet(0)), NoLimit));
        Assert.Equal(0, scanner.Frame.PayloadLength);
        Assert.Equal(4, scanner.Frame.FrameLength);
    }

    [Fact]
    public void Two_packets_in_one_buffer_are_read_one_after_the_other()
    {
        byte[] wire = [.. Packet(0, 1, 2), .. Packet(1, 3)];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(wire))
        {
            List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(sequence);
            Assert.Equal(2, packets.Count);
            Assert.Equal([1, 2], packets[0].Payload);
            Assert.Equal([3], packets[1].Payload);
            Assert.Equal(1, packets[1].Frame.SequenceId);
        }
    }

    [Fact]
    public void A_payload_over_the_limit_is_reported_from_the_header_alone()
    {
        byte[] header = Packet(0, new byte[100])[..4];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(header))
        {
            var scanner = default(MySqlPacketScanner);
            MySqlPacketStatus status = scanner.TryRead(sequence, 99);
            Assert.Equal(sequence.Length >= 4 ? MySqlPacketStatus.TooLarge : MySqlPacketStatus.Incomplete, status);
        }

        var exact = default(MySqlPacketScanner);
        Assert.Equal(MySqlPacketStatus.Complete, exact.TryRead(new ReadOnlySequence<byte>(Packet(0, new byte[100])), 100));
    }

    [Fact]
    public void Continuation_packets_are_joined_with_the_last_sequence_id()
    {
        // A 16 MiB - 1 packet, then a 5-byte one: one logical payload.
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        big[0] = 0x11;
        big[^1] = 0x22;
        byte[] wire = [.. Packet(3, big), .. Packet(4, 1, 2, 3, 4, 5)];

        // Splits around the headers and the ends, plus a few in the middle.
        int second = 4 + MySqlPacketScanner.MaxPacketPayload;
        int[] splits = [0, 1, 3, 4, 5, 1000, second - 1, second, second + 2, second + 4, second + 5, wire.Length - 1, wire.Length];
        foreach (int split in splits)
        {
            ReadOnlySequence<byte> sequence = SequenceSplits.Create(wire.AsMemory(0, split), wire.AsMemory(split));
            var scanner = default(MySqlPacketScanner);
            Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(sequence, NoLimit));
            MySqlFrame frame = scanner.Frame;
            Assert.Equal(new MySqlFrame(MySqlPacketScanner.MaxPacketPayload + 5, wire.Length, 3, 4, 2), frame);
            byte[] payload = new byte[frame.PayloadLength];
            MySqlPacketScanner.CopyPayload(sequence, frame, payload);
            Assert.Equal(0x11, payload[0]);
            Assert.Equal(0x22, payload[MySqlPacketScanner.MaxPacketPayload - 1]);
            Assert.Equal([1, 2, 3, 4, 5], payload[^5..]);
        }
    }

    [Fact]
    public void The_scanner_resumes_as_a_large_packet_arrives_in_pieces()
    {
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        byte[] wire = [.. Packet(0, big), .. Packet(1, big), .. Packet(2)];
        var scanner = default(MySqlPacketScanner);
        int available = 0;
        int step = 3 * 1024 * 1024 + 7;
        MySqlPacketStatus status;
        do
        {
            available = Math.Min(wire.Length, available + step);
            status = scanner.TryRead(new ReadOnlySequence<byte>(wire, 0, available), NoLimit);
            Assert.True(status == MySqlPacketStatus.Complete || available < wire.Length);
        }
        while (status == MySqlPacketStatus.Incomplete);

        Assert.Equal(MySqlPacketStatus.Complete, status);
        Assert.Equal(2 * MySqlPacketScanner.MaxPacketPayload, scanner.Frame.PayloadLength);
        Assert.Equal(3, scanner.Frame.PacketCount);
        Assert.Equal(2, scanner.Frame.LastSequenceId);
    }

    [Fact]
    public void A_continuation_with_a_wrong_sequence_id_is_out_of_order()
    {
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        byte[] wire = [.. Packet(0, big), .. Packet(5, 1)];
        var scanner = default(MySqlPacketScanner);
        Assert.Equal(MySqlPacketStatus.OutOfOrder, scanner.TryRead(new ReadOnlySequence<byte>(wire), NoLimit));
    }

    [Fact]
    public void Joined_payload_over_the_limit_is_too_large_before_it_arrives()
    {
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        byte[] wire = [.. Packet(0, big), .. Packet(1, 1, 2)[..4]];
        var scanner = default(MySqlPacketScanner);
        Assert.Equal(MySqlPacketStatus.TooLarge, scanner.TryRead(new ReadOnlySequence<byte>(wire), MySqlPacketScanner.MaxPacketPayload + 1));
    }

    [Fact]
    public void Sequence_ids_wrap_from_255_to_0_across_continuations()
    {
        byte[] big = new byte[MySqlPacketScanner.MaxPacketPayload];
        byte[] wire = [.. Packet(255, big), .. Packet(0, 9)];
        var scanner = default(MySqlPacketScanner);
        Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(new ReadOnlySequence<byte>(wire), NoLimit));
        Assert.Equal(255, scanner.Frame.SequenceId);
        Assert.Equal(0, scanner.Frame.LastSequenceId);
    }
}
