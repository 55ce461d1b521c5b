using System.Buffers;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Tests.Support;

namespace LakeOps.Edge.Protocols.Tests.Codec;

/// <summary>Encode with a writer, then frame the bytes over every two-segment split.</summary>
internal static class CodecTestHelpers
{
    public const int NoLimit = int.MaxValue;

    public static byte[] Encode(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Asserts that <paramref name="encoded"/> is exactly one typed frame of <paramref name="expectedType"/>
    /// under every split, that every strict prefix is Incomplete, and returns the body.
    /// </summary>
    public static byte[] ScanSingleFrame(byte[] encoded, byte expectedType)
    {
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(encoded))
        {
            PgFrameStatus status = PgFrameScanner.TryReadFrame(sequence, NoLimit, out byte type, out int frameLength);
            Assert.Equal(PgFrameStatus.Complete, status);
            Assert.Equal(expectedType, type);
            Assert.Equal(encoded.Length, frameLength);
            Assert.Equal(encoded[PgFrameScanner.HeaderLength..], sequence.Slice(PgFrameScanner.HeaderLength).ToArray());
        }

        for (int prefix = 0; prefix < encoded.Length; prefix++)
        {
            Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadFrame(encoded.AsSpan(0, prefix), NoLimit, out _, out _));
        }

        Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(SequenceSplits.OneBytePerSegment(encoded), NoLimit, out _, out int oneByteLength));
        Assert.Equal(encoded.Length, oneByteLength);

        // The exact size passes the limit; one byte less does not.
        Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadFrame(encoded, encoded.Length, out _, out _));
        Assert.Equal(PgFrameStatus.TooLarge, PgFrameScanner.TryReadFrame(encoded, encoded.Length - 1, out _, out _));
        return encoded[PgFrameScanner.HeaderLength..];
    }

    /// <summary>Same as <see cref="ScanSingleFrame"/> for untyped startup-phase packets; returns the whole frame.</summary>
    public static byte[] ScanSingleStartupFrame(byte[] encoded)
    {
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(encoded))
        {
            Assert.Equal(PgFrameStatus.Complete, PgFrameScanner.TryReadStartupFrame(sequence, NoLimit, out int frameLength));
            Assert.Equal(encoded.Length, frameLength);
            Assert.Equal(encoded, sequence.Slice(0, frameLength).ToArray());
        }

        for (int prefix = 0; prefix < encoded.Length; prefix++)
        {
            Assert.Equal(PgFrameStatus.Incomplete, PgFrameScanner.TryReadStartupFrame(encoded.AsSpan(0, prefix), NoLimit, out _));
        }

        Assert.Equal(PgFrameStatus.TooLarge, PgFrameScanner.TryReadStartupFrame(encoded, encoded.Length - 1, out _));
        return encoded;
    }

    /// <summary>Scans frame after frame until the buffer is used up; returns (type, whole frame) pairs.</summary>
    public static List<(byte Type, byte[] Frame)> ScanAll(ReadOnlySequence<byte> buffer)
    {
        var frames = new List<(byte, byte[])>();
        while (!buffer.IsEmpty)
        {
            PgFrameStatus status = PgFrameScanner.TryReadFrame(buffer, NoLimit, out byte type, out int frameLength);
            Assert.Equal(PgFrameStatus.Complete, status);
            frames.Add((type, buffer.Slice(0, frameLength).ToArray()));
            buffer = buffer.Slice(frameLength);
        }

        return frames;
    }
}
