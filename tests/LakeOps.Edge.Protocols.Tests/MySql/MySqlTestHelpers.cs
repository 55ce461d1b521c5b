using System.Buffers;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.Tests.Support;

namespace LakeOps.Edge.Protocols.Tests.MySql;

/// <summary>Builds MySQL wire bytes and reads them back through the scanner, over every two-chunk split.</summary>
internal static class MySqlTestHelpers
{
    public const int NoLimit = int.MaxValue;

    /// <summary>What a writer action puts on the wire (headers included), sequence ids from <paramref name="firstSequence"/>.</summary>
    public static byte[] Wire(Action<MySqlPacketWriter> write, byte firstSequence = 0)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MySqlPacketWriter(buffer) { SequenceId = firstSequence };
        write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One physical packet: 3-byte length, sequence id, payload.</summary>
    public static byte[] Packet(byte sequence, params byte[] payload)
    {
        byte[] packet = new byte[4 + payload.Length];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet, 4);
        return packet;
    }

    /// <summary>The logical payloads of every packet in <paramref name="wire"/>, in order.</summary>
    public static List<(byte[] Payload, MySqlFrame Frame)> ReadAll(ReadOnlySequence<byte> wire)
    {
        var packets = new List<(byte[], MySqlFrame)>();
        var scanner = default(MySqlPacketScanner);
        while (!wire.IsEmpty)
        {
            Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(wire, NoLimit));
            MySqlFrame frame = scanner.Frame;
            byte[] payload = new byte[frame.PayloadLength];
            MySqlPacketScanner.CopyPayload(wire, frame, payload);
            packets.Add((payload, frame));
            wire = wire.Slice(frame.FrameLength);
        }

        return packets;
    }

    public static List<(byte[] Payload, MySqlFrame Frame)> ReadAll(byte[] wire) => ReadAll(new ReadOnlySequence<byte>(wire));

    /// <summary>Reads the single packet of <paramref name="wire"/> over every two-chunk split and runs <paramref name="check"/> on each payload.</summary>
    public static void EverySplit(byte[] wire, Action<byte[]> check)
    {
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(wire))
        {
            List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(sequence);
            Assert.Single(packets);
            check(packets[0].Payload);
        }
    }

    /// <summary>The payload of the single packet a writer action produces.</summary>
    public static byte[] Payload(Action<MySqlPacketWriter> write)
    {
        List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(Wire(write));
        Assert.Single(packets);
        return packets[0].Payload;
    }
}
