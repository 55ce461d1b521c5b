using System.Buffers;
using System.Buffers.Binary;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Tests.Support;

namespace LakeOps.Edge.Protocols.Tests.Codec;

public class FrameScannerTests
{
    [Fact]
    public void Empty_and_short_buffers_are_incomplete()
    {
        byte[] sync = [(byte)'S', 0, 0, 0, 4];
        for (int length = 0; length < sync.Length; length++)
        {
            var sequence = new ReadOnlySequence<byte>(sync, 0, length);
            Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadFrame(sequence, 100, out byte type, out int frameLength));
            Assert.Equal(0, frameLength);
            Assert.Equal(length == 0 ? (byte)0 : (byte)'S', type);
        }

        Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadStartupFrame(ReadOnlySequence<byte>.Empty, 100, out _));
    }

    [Fact]
    public void Incomplete_frame_reports_the_declared_length_once_the_header_is_in()
    {
        byte[] partial = [(byte)'Q', 0, 0, 0, 20, (byte)'S'];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(partial))
        {
            Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadFrame(sequence, 100, out byte type, out int frameLength));
            Assert.Equal((byte)'Q', type);
            Assert.Equal(21, frameLength);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Frame_length_below_four_is_malformed(int length)
    {
        byte[] header = new byte[5];
        header[0] = (byte)'Q';
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), length);
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(header))
        {
            Assert.Equal(PgFrameStatus.Malformed, PgFrameScanner.TryReadFrame(sequence, CodecTestHelpers.NoLimit, out _, out _));
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(0)]
    [InlineData(-8)]
    public void Startup_length_below_eight_is_malformed(int length)
    {
        byte[] header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, length);
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(header))
        {
            Assert.Equal(PgFrameStatus.Malformed, PgFrameScanner.TryReadStartupFrame(sequence, CodecTestHelpers.NoLimit, out _));
        }
    }

    [Fact]
    public void Oversized_frame_is_reported_before_its_body_arrives()
    {
        byte[] header = [(byte)'Q', 0x7F, 0xFF, 0xFF, 0xFF];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(header))
        {
            Assert.Equal(PgFrameStatus.TooLarge, PgFrameScanner.TryReadFrame(sequence, 1 << 20, out byte type, out int frameLength));
            Assert.Equal((byte)'Q', type);
            Assert.Equal(int.MaxValue, frameLength); // 1 + int.MaxValue clamped
        }

        byte[] startup = [0, 0, 0x27, 0x11, 0, 3, 0, 0]; // 10001 bytes declared
        Assert.Equal(PgFrameStatus.TooLarge, PgFrameScanner.TryReadStartupFrame(startup, 10000, out int startupLength));
        Assert.Equal(10001, startupLength);
        Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadStartupFrame(startup, 10001, out _));
    }

    [Fact]
    public void Limit_counts_the_type_byte()
    {
        byte[] query = CodecTestHelpers.Encode(w => PgFrontendWriter.WriteQuery(w, "SELECT 1")); // 14 bytes
        Assert.Equal(14, query.Length);
        Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(query, 14, out _, out _));
        Assert.Equal(PgFrameStatus.TooLarge, PgFrameScanner.TryReadFrame(query, 13, out _, out _));
    }

    [Fact]
    public void Pipelined_extended_query_batch_scans_into_the_same_frames_under_every_split()
    {
        byte[][] messages =
        [
            CodecTestHelpers.Encode(w => PgFrontendWriter.WriteParse(w, "s1", "SELECT $1::int + $2", [23, 0])),
            CodecTestHelpers.Encode(w => PgFrontendWriter.WriteBind(w, "", "s1", [1], [[0, 0, 0, 7], null], [1])),
            CodecTestHelpers.Encode(w => PgFrontendWriter.WriteDescribe(w, 'P', "")),
            CodecTestHelpers.Encode(w => PgFrontendWriter.WriteExecute(w, "", 0)),
            CodecTestHelpers.Encode(PgFrontendWriter.WriteSync),
            CodecTestHelpers.Encode(w => PgFrontendWriter.WriteQuery(w, "SELECT 2")),
        ];
        byte[] expectedTypes = [PgMessageTypes.Parse, PgMessageTypes.Bind, PgMessageTypes.DescribeMessage, PgMessageTypes.Execute, PgMessageTypes.Sync, PgMessageTypes.Query];
        byte[] batch = messages.SelectMany(m => m).ToArray();

        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(batch))
        {
            List<(byte Type, byte[] Frame)> frames = CodecTestHelpers.ScanAll(sequence);
            Assert.Equal(expectedTypes, frames.Select(f => f.Type));
            for (int i = 0; i < messages.Length; i++)
            {
                Assert.Equal(messages[i], frames[i].Frame);
            }
        }

        Assert.Equal(expectedTypes, CodecTestHelpers.ScanAll(SequenceSplits.OneBytePerSegment(batch)).Select(f => f.Type));
    }

    [Fact]
    public void Frame_followed_by_a_partial_frame_reports_only_the_first()
    {
        byte[] sync = CodecTestHelpers.Encode(PgFrontendWriter.WriteSync);
        byte[] buffer = [.. sync, (byte)'Q', 0, 0];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(buffer))
        {
            Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(sequence, 100, out byte type, out int frameLength));
            Assert.Equal(PgMessageTypes.Sync, type);
            Assert.Equal(5, frameLength);
            Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadFrame(sequence.Slice(frameLength), 100, out byte next, out _));
            Assert.Equal((byte)'Q', next);
        }
    }

    [Fact]
    public void Startup_frame_then_typed_frame_in_one_buffer()
    {
        byte[] startup = CodecTestHelpers.Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "alice")]));
        byte[] password = CodecTestHelpers.Encode(w => PgFrontendWriter.WritePassword(w, "secret"));
        byte[] buffer = [.. startup, .. password];
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(buffer))
        {
            Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadStartupFrame(sequence, 10000, out int startupLength));
            Assert.Equal(startup.Length, startupLength);
            ReadOnlySequence<byte> rest = sequence.Slice(startupLength);
            Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(rest, 10000, out byte type, out int frameLength));
            Assert.Equal(PgMessageTypes.PasswordMessage, type);
            Assert.Equal(password.Length, frameLength);
        }
    }

    [Fact]
    public void Empty_first_segment_is_handled()
    {
        byte[] sync = CodecTestHelpers.Encode(PgFrontendWriter.WriteSync);
        ReadOnlySequence<byte> sequence = SequenceSplits.Create(ReadOnlyMemory<byte>.Empty, sync.AsMemory(0, 1), ReadOnlyMemory<byte>.Empty, sync.AsMemory(1));
        Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(sequence, 100, out byte type, out int frameLength));
        Assert.Equal(PgMessageTypes.Sync, type);
        Assert.Equal(5, frameLength);

        ReadOnlySequence<byte> oneByte = SequenceSplits.Create(ReadOnlyMemory<byte>.Empty, sync.AsMemory(0, 1));
        Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadFrame(oneByte, 100, out byte partialType, out _));
        Assert.Equal(PgMessageTypes.Sync, partialType);
    }
}
