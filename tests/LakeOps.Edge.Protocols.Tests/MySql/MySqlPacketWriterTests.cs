using System.Buffers;
using LakeOps.Edge.Protocols.MySql;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlPacketWriterTests
{
    [Fact]
    public void Header_is_filled_in_after_the_payload_and_sequence_ids_count_up()
    {
        byte[] wire = Wire(w =>
        {
            MySqlPayloadWriter payload = w.BeginPacket(100);
            payload.WriteByte(0xAB);
            payload.WriteUInt16(0x0102);
            payload.WriteUInt24(0x030405);
            w.EndPacket(payload);
            w.WritePacket([9, 9]);
        }, firstSequence: 254);
        Assert.Equal([6, 0, 0, 254, 0xAB, 0x02, 0x01, 0x05, 0x04, 0x03, 2, 0, 0, 255, 9, 9], wire);
    }

    [Fact]
    public void Sequence_id_wraps_at_256()
    {
        byte[] wire = Wire(w =>
        {
            w.WritePacket([1]);
            w.WritePacket([2]);
        }, firstSequence: 255);
        List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(wire);
        Assert.Equal(255, packets[0].Frame.SequenceId);
        Assert.Equal(0, packets[1].Frame.SequenceId);
    }

    [Theory]
    [InlineData(0UL, new byte[] { 0 })]
    [InlineData(250UL, new byte[] { 250 })]
    [InlineData(251UL, new byte[] { 0xFC, 251, 0 })]
    [InlineData(0xFFFFUL, new byte[] { 0xFC, 0xFF, 0xFF })]
    [InlineData(0x10000UL, new byte[] { 0xFD, 0, 0, 1 })]
    [InlineData(0xFFFFFFUL, new byte[] { 0xFD, 0xFF, 0xFF, 0xFF })]
    [InlineData(0x1000000UL, new byte[] { 0xFE, 0, 0, 0, 1, 0, 0, 0, 0 })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void Length_encoded_integers_round_trip(ulong value, byte[] expected)
    {
        byte[] payload = Payload(w =>
        {
            MySqlPayloadWriter p = w.BeginPacket(9);
            p.WriteLengthEncodedInteger(value);
            w.EndPacket(p);
        });
        Assert.Equal(expected, payload);
        Assert.Equal(expected.Length, MySqlPayloadWriter.LengthEncodedIntegerSize(value));
        var reader = new MySqlPayloadReader(payload);
        Assert.Equal(value, reader.ReadLengthEncodedInteger());
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void A_payload_of_exactly_16_MiB_minus_1_is_followed_by_an_empty_packet()
    {
        byte[] data = new byte[MySqlPacketScanner.MaxPacketPayload];
        data[^1] = 7;
        byte[] wire = Wire(w => w.WritePacket(data));
        Assert.Equal(4 + data.Length + 4, wire.Length);
        Assert.Equal([0, 0, 0, 1], wire[^4..]);
        (byte[] payload, MySqlFrame frame) = Assert.Single(ReadAll(wire));
        Assert.Equal(2, frame.PacketCount);
        Assert.Equal(data, payload);
    }

    [Fact]
    public void Large_payloads_built_with_BeginPacket_are_split_and_rejoin_unchanged()
    {
        int length = (2 * MySqlPacketScanner.MaxPacketPayload) + 10;
        byte[] wire = Wire(w =>
        {
            MySqlPayloadWriter p = w.BeginPacket(length + 100);
            Span<byte> free = p.FreeSpan[..length];
            for (int i = 0; i < length; i++)
            {
                free[i] = (byte)(i * 31);
            }

            p.Advance(length);
            w.EndPacket(p);
            w.WritePacket([42]);
        });
        List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(wire);
        Assert.Equal(2, packets.Count);
        Assert.Equal(3, packets[0].Frame.PacketCount);
        Assert.Equal(length, packets[0].Payload.Length);
        for (int i = 0; i < length; i += 4099)
        {
            Assert.Equal((byte)(i * 31), packets[0].Payload[i]);
        }

        Assert.Equal((byte)((length - 1) * 31), packets[0].Payload[^1]);
        Assert.Equal(3, packets[1].Frame.SequenceId);
        Assert.Equal([42], packets[1].Payload);
    }

    [Fact]
    public void Strings_are_written_length_encoded_and_nul_terminated()
    {
        byte[] payload = Payload(w =>
        {
            MySqlPayloadWriter p = w.BeginPacket(64);
            p.WriteLengthEncodedString("héllo");
            p.WriteNullTerminatedString("ab");
            p.WriteLengthEncodedBytes([]);
            p.WriteNull();
            w.EndPacket(p);
        });
        var reader = new MySqlPayloadReader(payload);
        Assert.Equal("héllo", reader.ReadLengthEncodedString());
        Assert.Equal("ab", reader.ReadNullTerminatedString());
        Assert.True(reader.ReadLengthEncodedBytes().IsEmpty);
        Assert.False(reader.TryReadLengthEncodedBytes(out _));
        reader.End();
    }

    [Fact]
    public void Writing_past_the_reservation_or_nesting_packets_throws()
    {
        var writer = new MySqlPacketWriter(new ArrayBufferWriter<byte>());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            MySqlPayloadWriter p = writer.BeginPacket(2);
            p.Advance(3);
        });

        var other = new MySqlPacketWriter(new ArrayBufferWriter<byte>());
        other.BeginPacket(1);
        Assert.Throws<InvalidOperationException>(() => other.BeginPacket(1));
    }
}
