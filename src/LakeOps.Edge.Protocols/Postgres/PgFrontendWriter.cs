using System.Buffers;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// Encodes client-to-server messages (for tests, fake clients, and Edge's own PostgreSQL engine client).
/// Each message is sized exactly and written with one GetSpan/Advance.
/// </summary>
public static class PgFrontendWriter
{
    private static ReadOnlySpan<byte> SslRequestBytes => [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F];
    private static ReadOnlySpan<byte> GssEncRequestBytes => [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x30];
    private static ReadOnlySpan<byte> SyncBytes => [PgMessageTypes.Sync, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> FlushBytes => [PgMessageTypes.Flush, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> TerminateBytes => [PgMessageTypes.Terminate, 0, 0, 0, 4];

    /// <summary>StartupMessage with settings such as user, database, application_name (and "_pq_." options).</summary>
    public static void WriteStartup(IBufferWriter<byte> writer, ReadOnlySpan<KeyValuePair<string, string>> parameters, int major = 3, int minor = 0)
    {
        long size = 4 + 1;
        foreach (KeyValuePair<string, string> parameter in parameters)
        {
            size += PgSpanWriter.CStringSize(parameter.Key) + PgSpanWriter.CStringSize(parameter.Value);
        }

        var w = PgSpanWriter.BeginUntyped(writer, size, "StartupMessage");
        w.WriteInt32((major << 16) | (minor & 0xFFFF));
        foreach (KeyValuePair<string, string> parameter in parameters)
        {
            if (parameter.Key.Length == 0)
            {
                throw new ArgumentException("a startup parameter name cannot be empty", nameof(parameters));
            }

            w.WriteCString(parameter.Key, nameof(parameters));
            w.WriteCString(parameter.Value, nameof(parameters));
        }

        w.WriteByte(0);
        w.Finish(writer);
    }

    public static void WriteSslRequest(IBufferWriter<byte> writer) => writer.Write(SslRequestBytes);

    public static void WriteGssEncRequest(IBufferWriter<byte> writer) => writer.Write(GssEncRequestBytes);

    public static void WriteCancelRequest(IBufferWriter<byte> writer, int processId, int secretKey)
    {
        var w = PgSpanWriter.BeginUntyped(writer, 12, "CancelRequest");
        w.WriteInt32(StartupPacket.CancelRequestCode);
        w.WriteInt32(processId);
        w.WriteInt32(secretKey);
        w.Finish(writer);
    }

    public static void WriteQuery(IBufferWriter<byte> writer, string sql)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Query, PgSpanWriter.CStringSize(sql), "Query");
        w.WriteCString(sql, nameof(sql));
        w.Finish(writer);
    }

    public static void WriteParse(IBufferWriter<byte> writer, string statementName, string query, ReadOnlySpan<int> parameterTypeOids)
    {
        PgBackendWriter.CheckCount(parameterTypeOids.Length, nameof(parameterTypeOids));
        long size = (long)PgSpanWriter.CStringSize(statementName) + PgSpanWriter.CStringSize(query) + 2 + (4L * parameterTypeOids.Length);
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Parse, size, "Parse");
        w.WriteCString(statementName, nameof(statementName));
        w.WriteCString(query, nameof(query));
        w.WriteUInt16((ushort)parameterTypeOids.Length);
        foreach (int oid in parameterTypeOids)
        {
            w.WriteInt32(oid);
        }

        w.Finish(writer);
    }

    /// <summary>Bind; <paramref name="parameterValues"/> entries that are null are sent as SQL NULL.</summary>
    public static void WriteBind(IBufferWriter<byte> writer, string portalName, string statementName,
        ReadOnlySpan<short> parameterFormats, ReadOnlySpan<byte[]?> parameterValues, ReadOnlySpan<short> resultFormats)
    {
        PgBackendWriter.CheckCount(parameterFormats.Length, nameof(parameterFormats));
        PgBackendWriter.CheckCount(parameterValues.Length, nameof(parameterValues));
        PgBackendWriter.CheckCount(resultFormats.Length, nameof(resultFormats));
        long size = (long)PgSpanWriter.CStringSize(portalName) + PgSpanWriter.CStringSize(statementName)
            + 2 + (2L * parameterFormats.Length) + 2 + 2 + (2L * resultFormats.Length);
        foreach (byte[]? value in parameterValues)
        {
            size += 4 + (value?.Length ?? 0);
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Bind, size, "Bind");
        w.WriteCString(portalName, nameof(portalName));
        w.WriteCString(statementName, nameof(statementName));
        w.WriteUInt16((ushort)parameterFormats.Length);
        foreach (short format in parameterFormats)
        {
            w.WriteInt16(format);
        }

        w.WriteUInt16((ushort)parameterValues.Length);
        foreach (byte[]? value in parameterValues)
        {
            if (value is null)
            {
                w.WriteInt32(-1);
            }
            else
            {
                w.WriteInt32(value.Length);
                w.WriteBytes(value);
            }
        }

        w.WriteUInt16((ushort)resultFormats.Length);
        foreach (short format in resultFormats)
        {
            w.WriteInt16(format);
        }

        w.Finish(writer);
    }

    /// <summary>Describe a statement (<paramref name="kind"/> 'S') or portal ('P').</summary>
    public static void WriteDescribe(IBufferWriter<byte> writer, char kind, string name) =>
        WriteTargeted(writer, PgMessageTypes.DescribeMessage, kind, name, "Describe");

    public static void WriteExecute(IBufferWriter<byte> writer, string portalName, int maxRows)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Execute, PgSpanWriter.CStringSize(portalName) + 4L, "Execute");
        w.WriteCString(portalName, nameof(portalName));
        w.WriteInt32(maxRows);
        w.Finish(writer);
    }

    public static void WriteSync(IBufferWriter<byte> writer) => writer.Write(SyncBytes);

    public static void WriteFlush(IBufferWriter<byte> writer) => writer.Write(FlushBytes);

    /// <summary>Close a statement (<paramref name="kind"/> 'S') or portal ('P').</summary>
    public static void WriteClose(IBufferWriter<byte> writer, char kind, string name) =>
        WriteTargeted(writer, PgMessageTypes.Close, kind, name, "Close");

    public static void WriteTerminate(IBufferWriter<byte> writer) => writer.Write(TerminateBytes);

    public static void WritePassword(IBufferWriter<byte> writer, string password)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.PasswordMessage, PgSpanWriter.CStringSize(password), "PasswordMessage");
        w.WriteCString(password, nameof(password));
        w.Finish(writer);
    }

    /// <summary>SASLInitialResponse with an initial response (which may be empty).</summary>
    public static void WriteSaslInitialResponse(IBufferWriter<byte> writer, string mechanism, ReadOnlySpan<byte> data) =>
        WriteSaslInitialResponse(writer, mechanism, data, hasData: true);

    /// <summary>SASLInitialResponse without an initial response (length -1).</summary>
    public static void WriteSaslInitialResponse(IBufferWriter<byte> writer, string mechanism) =>
        WriteSaslInitialResponse(writer, mechanism, default, hasData: false);

    public static void WriteSaslResponse(IBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.SaslResponse, data.Length, "SASLResponse");
        w.WriteBytes(data);
        w.Finish(writer);
    }

    private static void WriteSaslInitialResponse(IBufferWriter<byte> writer, string mechanism, ReadOnlySpan<byte> data, bool hasData)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.SaslInitialResponse,
            PgSpanWriter.CStringSize(mechanism) + 4L + data.Length, "SASLInitialResponse");
        w.WriteCString(mechanism, nameof(mechanism));
        w.WriteInt32(hasData ? data.Length : -1);
        w.WriteBytes(data);
        w.Finish(writer);
    }

    private static void WriteTargeted(IBufferWriter<byte> writer, byte type, char kind, string name, string messageName)
    {
        if (kind is not (StatementOrPortal.Statement or StatementOrPortal.Portal))
        {
            PgThrow.ArgumentOutOfRange(nameof(kind), "must be 'S' (statement) or 'P' (portal)");
        }

        var w = PgSpanWriter.Begin(writer, type, 1L + PgSpanWriter.CStringSize(name), messageName);
        w.WriteByte((byte)kind);
        w.WriteCString(name, nameof(name));
        w.Finish(writer);
    }
}
