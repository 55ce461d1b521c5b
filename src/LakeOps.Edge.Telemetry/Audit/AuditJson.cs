using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LakeOps.Edge.Telemetry.Audit;

/// <summary>
/// One audit record as one JSON line, written with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe).
/// Field names are stable: tools parse them.
/// </summary>
internal static class AuditJson
{
    // Quotes, backslashes and control characters are escaped; other non-ASCII text stays readable UTF-8.
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    public static Utf8JsonWriter CreateWriter(IBufferWriter<byte> output) => new(output, Options);

    /// <summary>Appends the record and a newline to <paramref name="output"/> (through <paramref name="json"/>, reset onto it).</summary>
    public static void WriteLine(Utf8JsonWriter json, IBufferWriter<byte> output, in AuditRecord record, bool includeSql, int maxSqlLength)
    {
        json.Reset(output);
        json.WriteStartObject();
        json.WriteNumber("query_id"u8, record.QueryId);
        json.WriteString("start_time"u8, record.StartTimeUtc);
        WriteText(json, "protocol"u8, record.Protocol);
        WriteText(json, "listener"u8, record.Listener);
        WriteText(json, "user"u8, record.User);
        WriteText(json, "database"u8, record.Database);
        WriteText(json, "application"u8, record.Application);
        WriteText(json, "client_address"u8, record.ClientAddress);
        WriteText(json, "group"u8, record.Group);
        WriteText(json, "cluster"u8, record.Cluster);
        WriteText(json, "rule"u8, record.Rule);
        WriteText(json, "reason"u8, record.Reason);
        Span<char> hex = stackalloc char[16];
        record.Fingerprint.TryFormat(hex, out int written, "x16", CultureInfo.InvariantCulture);
        json.WriteString("fingerprint"u8, hex[..written]);
        WriteText(json, "statement_kind"u8, record.StatementKind);
        json.WriteNumber("duration_us"u8, record.DurationMicroseconds);
        json.WriteNumber("rows"u8, record.Rows);
        json.WriteString("outcome"u8, AuditRecord.OutcomeName(record.Outcome));
        if (record.Outcome != AuditOutcome.Ok)
        {
            WriteText(json, "sqlstate"u8, record.SqlState);
        }

        if (includeSql && record.Sql is { } sql)
        {
            json.WriteString("sql"u8, Truncate(sql, maxSqlLength));
        }

        json.WriteEndObject();
        json.Flush();
        output.Write("\n"u8);
    }

    /// <summary>The first <paramref name="max"/> characters, never ending inside a surrogate pair.</summary>
    public static ReadOnlySpan<char> Truncate(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        int length = max;
        if (length > 0 && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return text.AsSpan(0, length);
    }

    private static void WriteText(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
