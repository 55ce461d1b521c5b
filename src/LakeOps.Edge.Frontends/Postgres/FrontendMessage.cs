using System.Buffers;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// A frontend message lifted out of the pipe buffer into owned objects, so the buffer can be
/// released before the (asynchronous) handling starts.
/// </summary>
internal readonly record struct FrontendMessage(byte Type, object? Payload)
{
    private const int HeaderLength = 5;

    public static FrontendMessage Parse(byte type, ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment)
        {
            return Parse(type, frame.FirstSpan[HeaderLength..]);
        }

        int length = checked((int)frame.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            frame.CopyTo(rented);
            return Parse(type, rented.AsSpan(HeaderLength, length - HeaderLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static FrontendMessage Parse(byte type, ReadOnlySpan<byte> body) => type switch
    {
        PgMessageTypes.Query => new(type, QueryMessage.Parse(body)),
        PgMessageTypes.Parse => new(type, ParseMessage.Parse(body)),
        PgMessageTypes.Bind => new(type, BindMessage.Parse(body)),
        PgMessageTypes.DescribeMessage => new(type, DescribeMessage.Parse(body)),
        PgMessageTypes.Execute => new(type, ExecuteMessage.Parse(body)),
        PgMessageTypes.Close => new(type, CloseMessage.Parse(body)),
        PgMessageTypes.Sync or PgMessageTypes.Flush or PgMessageTypes.Terminate => EmptyBody(type, body),
        PgMessageTypes.PasswordMessage => new(type, body.ToArray()),
        _ => new(type, null),
    };

    private static FrontendMessage EmptyBody(byte type, ReadOnlySpan<byte> body)
    {
        if (!body.IsEmpty)
        {
            throw new PgProtocolException($"{PgMessageTypes.Describe(type)} must have an empty body");
        }

        return new(type, null);
    }
}
