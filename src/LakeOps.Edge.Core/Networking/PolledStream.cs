using System.IO.Pipelines;

namespace LakeOps.Edge.Core.Networking;

/// <summary>
/// A <see cref="Stream"/> over a <see cref="PolledSocket"/> (what NetworkStream is to Socket), so
/// pipes and TLS sit on the event loop unchanged. Flush is a no-op: every write reaches the kernel.
/// </summary>
public sealed class PolledStream(PolledSocket socket, bool ownsSocket = true) : Stream
{
    /// <summary>
    /// Pipe reader options for connections that may sit idle: a zero-byte read waits for data without
    /// holding a buffer, and the buffer (rented per read, returned when consumed) fits a typical query.
    /// </summary>
    public static readonly StreamPipeReaderOptions IdleFriendlyReader = new(bufferSize: 8 * 1024, minimumReadSize: 2 * 1024, leaveOpen: true, useZeroByteReads: true);

    /// <summary>Pipe writer options: result rows are gathered into 16 KB before a send.</summary>
    public static readonly StreamPipeWriterOptions Writer = new(minimumBufferSize: 16 * 1024, leaveOpen: true);

    public PolledSocket Socket => socket;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        socket.ReceiveAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.SendAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        socket.SendAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => socket.Receive(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => socket.Receive(buffer);

    public override void Write(byte[] buffer, int offset, int count) => socket.Send(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => socket.Send(buffer);

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsSocket)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
