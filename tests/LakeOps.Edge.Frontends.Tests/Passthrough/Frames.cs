using System.Buffers;
using System.Text;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

/// <summary>Builds wire frames with the product's own writers, and byte sequences split the way sockets deliver them.</summary>
internal static class Frames
{
    public static byte[] Of(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    // Backend.
    public static byte[] ParseComplete => Of(PgBackendWriter.WriteParseComplete);

    public static byte[] BindComplete => Of(PgBackendWriter.WriteBindComplete);

    public static byte[] CloseComplete => Of(PgBackendWriter.WriteCloseComplete);

    public static byte[] NoData => Of(PgBackendWriter.WriteNoData);

    public static byte[] Ready(char status = 'I') => Of(w => PgBackendWriter.WriteReadyForQuery(w, (byte)status));

    public static byte[] Complete(string tag) => Of(w => PgBackendWriter.WriteCommandComplete(w, tag));

    public static byte[] Row(params string?[] values) =>
        Of(w => PgBackendWriter.WriteDataRow(w, values.Select(v => v is null ? null : Encoding.UTF8.GetBytes(v)).ToArray()));

    public static byte[] Columns(params string[] names) =>
        Of(w => PgBackendWriter.WriteRowDescription(w, names.Select(n => new PgFieldDescription(n, 0, 0, 25, -1, -1, 0)).ToArray()));

    public static byte[] Parameters(params int[] oids) => Of(w => PgBackendWriter.WriteParameterDescription(w, oids));

    public static byte[] Error(string sqlState = "42601", string message = "boom") =>
        Of(w => PgBackendWriter.WriteErrorResponse(w, new PgError("ERROR", sqlState, message)));

    public static byte[] Notice(string message) => Of(w => PgBackendWriter.WriteNoticeResponse(w, new PgError("NOTICE", "00000", message)));

    public static byte[] Status(string name, string value) => Of(w => PgBackendWriter.WriteParameterStatus(w, name, value));

    public static byte[] CopyIn => [(byte)'G', 0, 0, 0, 7, 0, 0, 0];

    public static byte[] CopyOut => [(byte)'H', 0, 0, 0, 7, 0, 0, 0];

    public static byte[] CopyData(string text) => Of(w =>
    {
        byte[] body = Encoding.UTF8.GetBytes(text);
        byte[] frame = new byte[5 + body.Length];
        frame[0] = (byte)'d';
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), 4 + body.Length);
        body.CopyTo(frame, 5);
        w.Write(frame);
    });

    public static byte[] CopyDone => [(byte)'c', 0, 0, 0, 4];

    // Frontend.
    public static byte[] Query(string sql) => Of(w => PgFrontendWriter.WriteQuery(w, sql));

    public static byte[] Parse(string name, string sql, params int[] oids) => Of(w => PgFrontendWriter.WriteParse(w, name, sql, oids));

    public static byte[] Bind(string statement, string portal = "", params string?[] values) =>
        Of(w => PgFrontendWriter.WriteBind(w, portal, statement, [], values.Select(v => v is null ? null : Encoding.UTF8.GetBytes(v)).ToArray(), []));

    public static byte[] Describe(char kind, string name) => Of(w => PgFrontendWriter.WriteDescribe(w, kind, name));

    public static byte[] Execute(string portal = "") => Of(w => PgFrontendWriter.WriteExecute(w, portal, 0));

    public static byte[] Close(char kind, string name) => Of(w => PgFrontendWriter.WriteClose(w, kind, name));

    public static byte[] Sync => Of(PgFrontendWriter.WriteSync);

    public static byte[] Flush => Of(PgFrontendWriter.WriteFlush);

    /// <summary>A sequence made of the given chunks, each in its own segment.</summary>
    public static ReadOnlySequence<byte> Sequence(params byte[][] chunks)
    {
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

    /// <summary>Splits a byte stream into the frames it holds (type byte + length).</summary>
    public static List<(char Type, byte[] Frame)> Split(byte[] stream)
    {
        var frames = new List<(char, byte[])>();
        int at = 0;
        while (at < stream.Length)
        {
            int length = 1 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(at + 1));
            frames.Add(((char)stream[at], stream[at..(at + length)]));
            at += length;
        }

        return frames;
    }

    /// <summary>The message types of a byte stream, e.g. "12DCZ".</summary>
    public static string Types(byte[] stream) => new(Split(stream).Select(f => f.Type).ToArray());

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
