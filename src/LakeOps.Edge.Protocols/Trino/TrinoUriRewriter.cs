using System.Buffers;
using System.Text.Json;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// Passthrough of a Trino coordinator's page: copies the QueryResults JSON bytes unchanged except the
/// top-level string values of <c>nextUri</c>, <c>infoUri</c> and <c>partialCancelUri</c>, which are
/// replaced by the gateway's own URLs. Everything else (columns, data, stats, error) is copied byte for
/// byte, never decoded. Pure: bytes in, bytes out.
/// </summary>
public static class TrinoUriRewriter
{
    /// <summary>
    /// Copies <paramref name="json"/> to <paramref name="output"/>, replacing the three URIs where a
    /// replacement is given (null keeps the coordinator's value). Returns the coordinator's nextUri (null
    /// when the page has none). <see cref="JsonException"/> when the body is not one JSON object.
    /// </summary>
    public static string? Rewrite(ReadOnlySequence<byte> json, string? nextUri, string? infoUri, string? partialCancelUri, IBufferWriter<byte> output) =>
        RewriteCounting(json, nextUri, infoUri, partialCancelUri, output).UpstreamNextUri;

    /// <summary>
    /// <see cref="Rewrite(ReadOnlySequence{byte}, string?, string?, string?, IBufferWriter{byte})"/>, and also counts the rows
    /// of the top-level <c>data</c> array (its elements) for the audit record. The count comes from the same pass of
    /// the reader that skips over the data anyway: nothing is decoded or copied for it.
    /// </summary>
    public static TrinoPageRewrite RewriteCounting(ReadOnlySequence<byte> json, string? nextUri, string? infoUri, string? partialCancelUri, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a Trino page is a JSON object");
        }

        string? upstreamNext = null;
        long copied = 0;
        long rows = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? replacement = null;
            bool isNext = false;
            bool target = false;
            bool isData = false;
            if (reader.ValueTextEquals("data"u8))
            {
                isData = true;
            }
            else if (reader.ValueTextEquals("nextUri"u8))
            {
                replacement = nextUri;
                isNext = true;
                target = true;
            }
            else if (reader.ValueTextEquals("infoUri"u8))
            {
                replacement = infoUri;
                target = true;
            }
            else if (reader.ValueTextEquals("partialCancelUri"u8))
            {
                replacement = partialCancelUri;
                target = true;
            }

            if (!reader.Read())
            {
                throw new JsonException("truncated Trino page");
            }

            if (isData && reader.TokenType == JsonTokenType.StartArray)
            {
                rows += CountElements(ref reader);
                continue;
            }

            if (!target || reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
                continue;
            }

            if (isNext)
            {
                upstreamNext = reader.GetString();
            }

            if (replacement is null)
            {
                continue;
            }

            long start = reader.TokenStartIndex;
            Copy(json.Slice(copied, start - copied), output);
            WriteString(replacement, output);
            copied = reader.BytesConsumed;
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            throw new JsonException("a Trino page is a JSON object");
        }

        Copy(json.Slice(copied), output);
        return new TrinoPageRewrite(upstreamNext, rows);
    }

    /// <inheritdoc cref="RewriteCounting(ReadOnlySequence{byte}, string?, string?, string?, IBufferWriter{byte})"/>
    public static TrinoPageRewrite RewriteCounting(ReadOnlyMemory<byte> json, string? nextUri, string? infoUri, string? partialCancelUri, IBufferWriter<byte> output) =>
        RewriteCounting(new ReadOnlySequence<byte>(json), nextUri, infoUri, partialCancelUri, output);

    /// <summary>Counts the elements of the array the reader stands at the start of, leaving it on the array's end.</summary>
    private static long CountElements(ref Utf8JsonReader reader)
    {
        long count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            count++;
            reader.Skip();
        }

        return count;
    }

    /// <inheritdoc cref="Rewrite(ReadOnlySequence{byte}, string?, string?, string?, IBufferWriter{byte})"/>
    public static string? Rewrite(ReadOnlyMemory<byte> json, string? nextUri, string? infoUri, string? partialCancelUri, IBufferWriter<byte> output) =>
        Rewrite(new ReadOnlySequence<byte>(json), nextUri, infoUri, partialCancelUri, output);

    private static void Copy(ReadOnlySequence<byte> bytes, IBufferWriter<byte> output)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            output.Write(segment.Span);
        }
    }

    private static void WriteString(string value, IBufferWriter<byte> output)
    {
        JsonEncodedText encoded = JsonEncodedText.Encode(value, TrinoQueryResultsWriter.Options.Encoder);
        ReadOnlySpan<byte> bytes = encoded.EncodedUtf8Bytes;
        Span<byte> target = output.GetSpan(bytes.Length + 2);
        target[0] = (byte)'"';
        bytes.CopyTo(target[1..]);
        target[bytes.Length + 1] = (byte)'"';
        output.Advance(bytes.Length + 2);
    }
}

/// <summary>What <see cref="TrinoUriRewriter.RewriteCounting(ReadOnlySequence{byte}, string?, string?, string?, IBufferWriter{byte})"/> read from a page: the coordinator's nextUri (null: last page) and the rows of its <c>data</c>.</summary>
public readonly record struct TrinoPageRewrite(string? UpstreamNextUri, long Rows);
