using System.Buffers;

namespace LakeOps.Edge.Protocols.Tests.Support;

/// <summary>
/// Builds multi-segment <see cref="ReadOnlySequence{T}"/>s so codec tests see input the way a socket
/// delivers it: split anywhere, including inside headers and with empty segments.
/// </summary>
public static class SequenceSplits
{
    /// <summary>
    /// Every two-segment split of <paramref name="data"/>: first segment data[..i], second data[i..],
    /// for i = 0..Length (so the first and last splits each have one empty segment).
    /// The split point of a yielded sequence is its <c>FirstSpan.Length</c>.
    /// </summary>
    public static IEnumerable<ReadOnlySequence<byte>> Of(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        for (int i = 0; i <= data.Length; i++)
        {
            yield return Create(data.AsMemory(0, i), data.AsMemory(i));
        }
    }

    /// <summary>A sequence of the given chunks, each copied into its own array (so no read can run past a segment unnoticed).</summary>
    public static ReadOnlySequence<byte> Create(params ReadOnlyMemory<byte>[] chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(chunks[0].ToArray(), 0);
        Segment last = first;
        for (int i = 1; i < chunks.Length; i++)
        {
            last = last.Append(chunks[i].ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>One segment per byte: the worst case for header reads.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var chunks = new ReadOnlyMemory<byte>[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            chunks[i] = data.AsMemory(i, 1);
        }

        return Create(chunks);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
