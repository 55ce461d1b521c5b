using System.Buffers;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>CopyFail ('f'): the client gives up a COPY FROM STDIN; the server answers with an ErrorResponse.</summary>
public static class PgCopyFail
{
    public static void Write(IBufferWriter<byte> writer, string message)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.CopyFail, PgSpanWriter.CStringSize(message), "CopyFail");
        w.WriteCString(message, nameof(message));
        w.Finish(writer);
    }
}
