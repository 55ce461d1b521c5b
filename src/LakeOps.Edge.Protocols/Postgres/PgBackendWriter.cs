using System.Buffers;
using System.Globalization;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>
/// Encodes server-to-client messages straight into an <see cref="IBufferWriter{T}"/>: each message
/// is sized exactly, written with one GetSpan/Advance, and allocates nothing.
/// </summary>
public static class PgBackendWriter
{
    // Messages that never change are copied from the assembly's data section in one go.
    private static ReadOnlySpan<byte> AuthenticationOkBytes => [PgMessageTypes.Authentication, 0, 0, 0, 8, 0, 0, 0, 0];
    private static ReadOnlySpan<byte> AuthenticationCleartextBytes => [PgMessageTypes.Authentication, 0, 0, 0, 8, 0, 0, 0, 3];
    private static ReadOnlySpan<byte> ParseCompleteBytes => [PgMessageTypes.ParseComplete, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> BindCompleteBytes => [PgMessageTypes.BindComplete, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> CloseCompleteBytes => [PgMessageTypes.CloseComplete, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> NoDataBytes => [PgMessageTypes.NoData, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> PortalSuspendedBytes => [PgMessageTypes.PortalSuspended, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> EmptyQueryResponseBytes => [PgMessageTypes.EmptyQueryResponse, 0, 0, 0, 4];
    private static ReadOnlySpan<byte> ReadyForQueryIdleBytes => [PgMessageTypes.ReadyForQuery, 0, 0, 0, 5, PgTransactionStatus.Idle];
    private static ReadOnlySpan<byte> ReadyForQueryInTransactionBytes => [PgMessageTypes.ReadyForQuery, 0, 0, 0, 5, PgTransactionStatus.InTransaction];
    private static ReadOnlySpan<byte> ReadyForQueryFailedBytes => [PgMessageTypes.ReadyForQuery, 0, 0, 0, 5, PgTransactionStatus.Failed];

    public static void WriteAuthenticationOk(IBufferWriter<byte> writer) => writer.Write(AuthenticationOkBytes);

    public static void WriteAuthenticationCleartextPassword(IBufferWriter<byte> writer) => writer.Write(AuthenticationCleartextBytes);

    public static void WriteAuthenticationMd5Password(IBufferWriter<byte> writer, ReadOnlySpan<byte> salt4)
    {
        if (salt4.Length != 4)
        {
            PgThrow.ArgumentOutOfRange(nameof(salt4), "the MD5 salt is exactly 4 bytes");
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Authentication, 8, "AuthenticationMD5Password");
        w.WriteInt32((int)AuthenticationKind.Md5Password);
        w.WriteBytes(salt4);
        w.Finish(writer);
    }

    /// <summary>AuthenticationSASL listing the mechanisms the server offers (e.g. "SCRAM-SHA-256").</summary>
    public static void WriteAuthenticationSasl(IBufferWriter<byte> writer, ReadOnlySpan<string> mechanisms)
    {
        long size = 4 + 1;
        foreach (string mechanism in mechanisms)
        {
            size += PgSpanWriter.CStringSize(mechanism);
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Authentication, size, "AuthenticationSASL");
        w.WriteInt32((int)AuthenticationKind.Sasl);
        foreach (string mechanism in mechanisms)
        {
            w.WriteCString(mechanism, nameof(mechanisms));
        }

        w.WriteByte(0);
        w.Finish(writer);
    }

    public static void WriteAuthenticationSaslContinue(IBufferWriter<byte> writer, ReadOnlySpan<byte> data) =>
        WriteAuthenticationData(writer, AuthenticationKind.SaslContinue, data);

    public static void WriteAuthenticationSaslFinal(IBufferWriter<byte> writer, ReadOnlySpan<byte> data) =>
        WriteAuthenticationData(writer, AuthenticationKind.SaslFinal, data);

    public static void WriteParameterStatus(IBufferWriter<byte> writer, string name, string value)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.ParameterStatus,
            (long)PgSpanWriter.CStringSize(name) + PgSpanWriter.CStringSize(value), "ParameterStatus");
        w.WriteCString(name, nameof(name));
        w.WriteCString(value, nameof(value));
        w.Finish(writer);
    }

    public static void WriteBackendKeyData(IBufferWriter<byte> writer, int processId, int secretKey)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.BackendKeyData, 8, "BackendKeyData");
        w.WriteInt32(processId);
        w.WriteInt32(secretKey);
        w.Finish(writer);
    }

    /// <summary>ReadyForQuery with a <see cref="PgTransactionStatus"/> byte.</summary>
    public static void WriteReadyForQuery(IBufferWriter<byte> writer, byte status)
    {
        switch (status)
        {
            case PgTransactionStatus.Idle:
                writer.Write(ReadyForQueryIdleBytes);
                break;
            case PgTransactionStatus.InTransaction:
                writer.Write(ReadyForQueryInTransactionBytes);
                break;
            case PgTransactionStatus.Failed:
                writer.Write(ReadyForQueryFailedBytes);
                break;
            default:
                PgThrow.ArgumentOutOfRange(nameof(status), "transaction status must be 'I', 'T' or 'E'");
                break;
        }
    }

    public static void WriteRowDescription(IBufferWriter<byte> writer, ReadOnlySpan<PgFieldDescription> fields)
    {
        CheckCount(fields.Length, nameof(fields));
        long size = 2;
        foreach (ref readonly PgFieldDescription field in fields)
        {
            size += PgSpanWriter.CStringSize(field.Name) + RowDescriptionMessage.FixedFieldSize;
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.RowDescription, size, "RowDescription");
        w.WriteUInt16((ushort)fields.Length);
        foreach (ref readonly PgFieldDescription field in fields)
        {
            w.WriteCString(field.Name, nameof(fields));
            w.WriteInt32(field.TableOid);
            w.WriteInt16(field.ColumnNumber);
            w.WriteInt32(field.TypeOid);
            w.WriteInt16(field.TypeSize);
            w.WriteInt32(field.TypeModifier);
            w.WriteInt16(field.FormatCode);
        }

        w.Finish(writer);
    }

    public static void WriteCommandComplete(IBufferWriter<byte> writer, string tag)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.CommandComplete, PgSpanWriter.CStringSize(tag), "CommandComplete");
        w.WriteCString(tag, nameof(tag));
        w.Finish(writer);
    }

    /// <summary>CommandComplete from a UTF-8 tag such as "BEGIN"u8.</summary>
    public static void WriteCommandComplete(IBufferWriter<byte> writer, ReadOnlySpan<byte> tag)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.CommandComplete, tag.Length + 1L, "CommandComplete");
        w.WriteCString(tag, nameof(tag));
        w.Finish(writer);
    }

    /// <summary>CommandComplete "&lt;tag&gt; &lt;rowCount&gt;", e.g. ("SELECT"u8, 5) or ("INSERT 0"u8, 1), without building a string.</summary>
    public static void WriteCommandComplete(IBufferWriter<byte> writer, ReadOnlySpan<byte> tag, long rowCount)
    {
        Span<byte> digits = stackalloc byte[20];
        if (!rowCount.TryFormat(digits, out int digitCount, default, CultureInfo.InvariantCulture))
        {
            PgThrow.ArgumentOutOfRange(nameof(rowCount), "row count does not format");
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.CommandComplete, tag.Length + 1L + digitCount + 1, "CommandComplete");
        if (tag.Contains((byte)0))
        {
            PgThrow.NulInString(nameof(tag));
        }

        w.WriteBytes(tag);
        w.WriteByte((byte)' ');
        w.WriteBytes(digits[..digitCount]);
        w.WriteByte(0);
        w.Finish(writer);
    }

    public static void WriteEmptyQueryResponse(IBufferWriter<byte> writer) => writer.Write(EmptyQueryResponseBytes);

    /// <summary>ErrorResponse. NUL characters in the texts become '?' so an error can always be sent.</summary>
    public static void WriteErrorResponse(IBufferWriter<byte> writer, in PgError error) =>
        WriteErrorOrNotice(writer, PgMessageTypes.ErrorResponse, error, "ErrorResponse");

    public static void WriteNoticeResponse(IBufferWriter<byte> writer, in PgError notice) =>
        WriteErrorOrNotice(writer, PgMessageTypes.NoticeResponse, notice, "NoticeResponse");

    public static void WriteParseComplete(IBufferWriter<byte> writer) => writer.Write(ParseCompleteBytes);

    public static void WriteBindComplete(IBufferWriter<byte> writer) => writer.Write(BindCompleteBytes);

    public static void WriteCloseComplete(IBufferWriter<byte> writer) => writer.Write(CloseCompleteBytes);

    public static void WriteNoData(IBufferWriter<byte> writer) => writer.Write(NoDataBytes);

    public static void WritePortalSuspended(IBufferWriter<byte> writer) => writer.Write(PortalSuspendedBytes);

    public static void WriteParameterDescription(IBufferWriter<byte> writer, ReadOnlySpan<int> oids)
    {
        CheckCount(oids.Length, nameof(oids));
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.ParameterDescription, 2 + (4L * oids.Length), "ParameterDescription");
        w.WriteUInt16((ushort)oids.Length);
        foreach (int oid in oids)
        {
            w.WriteInt32(oid);
        }

        w.Finish(writer);
    }

    /// <summary>Tells a client that asked for 3.x (x &gt; 0) or "_pq_." options what the server speaks.</summary>
    public static void WriteNegotiateProtocolVersion(IBufferWriter<byte> writer, int newestMinor, ReadOnlySpan<string> unsupportedOptions)
    {
        long size = 8;
        foreach (string option in unsupportedOptions)
        {
            size += PgSpanWriter.CStringSize(option);
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.NegotiateProtocolVersion, size, "NegotiateProtocolVersion");
        w.WriteInt32(newestMinor);
        w.WriteInt32(unsupportedOptions.Length);
        foreach (string option in unsupportedOptions)
        {
            w.WriteCString(option, nameof(unsupportedOptions));
        }

        w.Finish(writer);
    }

    /// <summary>A DataRow from already-encoded values (null = SQL NULL). The streaming row encoder lives elsewhere.</summary>
    public static void WriteDataRow(IBufferWriter<byte> writer, ReadOnlySpan<byte[]?> values)
    {
        CheckCount(values.Length, nameof(values));
        long size = 2;
        foreach (byte[]? value in values)
        {
            size += 4 + (value?.Length ?? 0);
        }

        var w = PgSpanWriter.Begin(writer, PgMessageTypes.DataRow, size, "DataRow");
        w.WriteUInt16((ushort)values.Length);
        foreach (byte[]? value in values)
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

        w.Finish(writer);
    }

    private static void WriteAuthenticationData(IBufferWriter<byte> writer, AuthenticationKind kind, ReadOnlySpan<byte> data)
    {
        var w = PgSpanWriter.Begin(writer, PgMessageTypes.Authentication, 4L + data.Length, "Authentication");
        w.WriteInt32((int)kind);
        w.WriteBytes(data);
        w.Finish(writer);
    }

    private static void WriteErrorOrNotice(IBufferWriter<byte> writer, byte type, in PgError error, string messageName)
    {
        Span<byte> position = stackalloc byte[11];
        int positionLength = 0;
        if (error.Position > 0)
        {
            error.Position.TryFormat(position, out positionLength, default, CultureInfo.InvariantCulture);
        }

        long size = 1; // terminator
        size += 2 * (1L + PgSpanWriter.CStringSize(error.Severity)); // S and V
        size += 1 + PgSpanWriter.CStringSize(error.SqlState);
        size += 1 + PgSpanWriter.CStringSize(error.Message);
        if (error.Detail is not null)
        {
            size += 1 + PgSpanWriter.CStringSize(error.Detail);
        }

        if (error.Hint is not null)
        {
            size += 1 + PgSpanWriter.CStringSize(error.Hint);
        }

        if (positionLength > 0)
        {
            size += 1 + positionLength + 1;
        }

        var w = PgSpanWriter.Begin(writer, type, size, messageName);
        WriteField(ref w, PgErrorFields.Severity, error.Severity);
        WriteField(ref w, PgErrorFields.SeverityNonLocalized, error.Severity);
        WriteField(ref w, PgErrorFields.Code, error.SqlState);
        WriteField(ref w, PgErrorFields.Message, error.Message);
        if (error.Detail is not null)
        {
            WriteField(ref w, PgErrorFields.Detail, error.Detail);
        }

        if (error.Hint is not null)
        {
            WriteField(ref w, PgErrorFields.Hint, error.Hint);
        }

        if (positionLength > 0)
        {
            w.WriteByte(PgErrorFields.Position);
            w.WriteBytes(position[..positionLength]);
            w.WriteByte(0);
        }

        w.WriteByte(0);
        w.Finish(writer);
    }

    private static void WriteField(ref PgSpanWriter w, byte field, string value)
    {
        w.WriteByte(field);
        w.WriteCStringSanitized(value);
    }

    internal static void CheckCount(int count, string paramName)
    {
        if (count > ushort.MaxValue)
        {
            PgThrow.ArgumentOutOfRange(paramName, "the protocol allows at most 65535 entries");
        }
    }
}
