using System.Buffers;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>Frames from a client: the next complete one, or a protocol error that names the limit it broke.</summary>
internal static class PgClientFrames
{
    /// <summary>False when the next frame is not complete yet; throws for an oversized or malformed one.</summary>
    public static bool TryRead(in ReadOnlySequence<byte> buffer, int maxMessage, string listenerName, out byte type, out int length)
    {
        PgFrameStatus status = PgFrameScanner.TryReadFrame(buffer, maxMessage, out type, out length);
        return status switch
        {
            PgFrameStatus.Incomplete => false,
            PgFrameStatus.TooLarge => throw new PgProtocolException(
                $"message of type '{(char)type}' is larger than the limit of {maxMessage} bytes (listeners.{listenerName}.limits.max_message_size)",
                SqlStates.ProgramLimitExceeded),
            PgFrameStatus.Malformed => throw new PgProtocolException($"invalid message length for message type '{(char)type}'"),
            _ => true,
        };
    }
}
