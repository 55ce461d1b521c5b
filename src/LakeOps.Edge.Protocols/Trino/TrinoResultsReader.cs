using System.Buffers;
using System.Text.Json;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>How a row value of a Trino page is spelled in JSON.</summary>
public enum TrinoJsonValueKind : byte
{
    Null,

    /// <summary>A JSON string; the bytes are unescaped UTF-8.</summary>
    String,

    /// <summary>A JSON number; the bytes are its text.</summary>
    Number,
    True,
    False,

    /// <summary>An array or object (array, map and row values); the bytes are its raw JSON text.</summary>
    Nested,
}

/// <summary>Receives the rows of a page as <see cref="TrinoResultsReader"/> reads them, value by value.</summary>
public interface ITrinoRowSink
{
    /// <summary>One value of the current row. <paramref name="utf8"/> is valid only during the call.</summary>
    void Value(int column, TrinoJsonValueKind kind, ReadOnlySpan<byte> utf8);

    /// <summary>The current row ended with <paramref name="valueCount"/> values. False pauses reading right after this row.</summary>
    bool EndRow(int valueCount);
}

/// <summary>What <see cref="TrinoResultsReader.Read"/> stopped at.</summary>
public enum TrinoReadStatus : byte
{
    /// <summary>All complete tokens are consumed; call again with the unconsumed rest plus more bytes.</summary>
    NeedMoreData,

    /// <summary><c>columns</c> was just read (<see cref="TrinoPageInfo.Columns"/>); call again to go on.</summary>
    Columns,

    /// <summary>The sink asked to pause after a row; call again to go on.</summary>
    Paused,

    /// <summary>The page's JSON object is complete.</summary>
    PageEnd,
}

/// <summary>
/// Streaming reader of one Trino <c>QueryResults</c> page (the JSON of POST /v1/statement and of every
/// nextUri GET). Resumable: the page may arrive in chunks split anywhere; each call consumes complete
/// tokens only and the caller hands the unconsumed rest back with more bytes appended. Rows go to an
/// <see cref="ITrinoRowSink"/> value by value (nothing per row is allocated); the small members
/// (columns, stats, error) are read whole once they are complete. Without a sink, <c>data</c> and <c>columns</c>
/// are skipped unread, which is how the passthrough gets nextUri and state without decoding rows or types.
/// </summary>
/// <remarks>Pure codec: bytes in, page info and values out. Throws <see cref="FormatException"/> on JSON that is not a page.</remarks>
public sealed class TrinoResultsReader : IDisposable
{
    private JsonReaderState _json;
    private ReadState _state;
    private Member _member;
    private int _column;
    private byte[] _scratch = ArrayPool<byte>.Shared.Rent(256);
    private byte[] _lastColumnsJson = [];
    private IReadOnlyList<TrinoPageColumn>? _lastColumns;

    private enum ReadState : byte
    {
        Start,
        Members,
        MemberValue,
        DataStart,
        Rows,
        RowValues,
        Done,
    }

    private enum Member : byte
    {
        Other,
        Id,
        InfoUri,
        PartialCancelUri,
        NextUri,
        Columns,
        Data,
        Stats,
        Error,
        UpdateType,
        UpdateCount,
    }

    /// <summary>The page read so far; complete after <see cref="TrinoReadStatus.PageEnd"/>.</summary>
    public TrinoPageInfo Page { get; } = new();

    /// <summary>Rows of the current page read so far.</summary>
    public long Rows { get; private set; }

    public bool IsPageComplete => _state == ReadState.Done;

    /// <summary>Reads the page info of a complete page, skipping its rows and columns (for the passthrough).</summary>
    public static TrinoPageInfo ReadPageInfo(ReadOnlySpan<byte> page)
    {
        using var reader = new TrinoResultsReader();
        reader.BeginPage();
        while (true)
        {
            TrinoReadStatus status = reader.Read(page, isFinalBlock: true, sink: null, out int consumed);
            page = page[consumed..];
            if (status == TrinoReadStatus.PageEnd)
            {
                return reader.Page;
            }

            if (status == TrinoReadStatus.NeedMoreData)
            {
                throw new FormatException("the Trino page ended before its JSON object was complete");
            }
        }
    }

    /// <summary>Starts a new page (the column list of the previous page is remembered for reuse).</summary>
    public void BeginPage()
    {
        _json = default;
        _state = ReadState.Start;
        _column = 0;
        Rows = 0;
        Page.Clear();
    }

    /// <summary>
    /// Consumes complete tokens of <paramref name="buffer"/>. <paramref name="consumed"/> bytes are done with; the
    /// rest must be passed again (with more bytes after it) on the next call. With <paramref name="isFinalBlock"/>
    /// the buffer holds the whole rest of the page.
    /// </summary>
    public TrinoReadStatus Read(ReadOnlySpan<byte> buffer, bool isFinalBlock, ITrinoRowSink? sink, out int consumed)
    {
        var reader = new Utf8JsonReader(buffer, isFinalBlock, _json);
        try
        {
            TrinoReadStatus status = Step(ref reader, buffer, sink);
            _json = reader.CurrentState;
            consumed = (int)reader.BytesConsumed;
            return status;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"malformed Trino page JSON: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        byte[] scratch = _scratch;
        _scratch = [];
        if (scratch.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private TrinoReadStatus Step(ref Utf8JsonReader reader, ReadOnlySpan<byte> buffer, ITrinoRowSink? sink)
    {
        while (true)
        {
            switch (_state)
            {
                case ReadState.Start:
                    if (!reader.Read())
                    {
                        return TrinoReadStatus.NeedMoreData;
                    }

                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new FormatException($"a Trino page is a JSON object, found {reader.TokenType}");
                    }

                    _state = ReadState.Members;
                    break;

                case ReadState.Members:
                    if (!reader.Read())
                    {
                        return TrinoReadStatus.NeedMoreData;
                    }

                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        _state = ReadState.Done;
                        return TrinoReadStatus.PageEnd;
                    }

                    _member = MemberOf(ref reader);
                    if (_member == Member.Columns && sink is null)
                    {
                        // Without a sink nobody decodes rows, so the column types are not parsed either (only noted).
                        Page.HasColumns = true;
                        _member = Member.Other;
                    }

                    _state = _member == Member.Data && sink is not null ? ReadState.DataStart : ReadState.MemberValue;
                    break;

                case ReadState.MemberValue:
                    {
                        Utf8JsonReader checkpoint = reader;
                        if (!reader.Read())
                        {
                            return TrinoReadStatus.NeedMoreData;
                        }

                        int start = (int)reader.TokenStartIndex;
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                        {
                            reader = checkpoint;
                            return TrinoReadStatus.NeedMoreData;
                        }

                        _state = ReadState.Members;
                        if (StoreMember(ref reader, buffer[start..(int)reader.BytesConsumed]))
                        {
                            return TrinoReadStatus.Columns;
                        }

                        break;
                    }

                case ReadState.DataStart:
                    if (!reader.Read())
                    {
                        return TrinoReadStatus.NeedMoreData;
                    }

                    Page.HasData = true;
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        _state = ReadState.Members;
                    }
                    else if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        _state = ReadState.Rows;
                    }
                    else
                    {
                        throw new FormatException($"'data' of a Trino page must be an array of rows, found {reader.TokenType}");
                    }

                    break;

                case ReadState.Rows:
                    if (!reader.Read())
                    {
                        return TrinoReadStatus.NeedMoreData;
                    }

                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        _state = ReadState.Members;
                    }
                    else if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        _column = 0;
                        _state = ReadState.RowValues;
                    }
                    else
                    {
                        throw new FormatException($"a row of a Trino page must be an array, found {reader.TokenType}");
                    }

                    break;

                case ReadState.RowValues:
                    {
                        Utf8JsonReader checkpoint = reader;
                        if (!reader.Read())
                        {
                            return TrinoReadStatus.NeedMoreData;
                        }

                        if (reader.TokenType == JsonTokenType.EndArray)
                        {
                            Rows++;
                            _state = ReadState.Rows;
                            if (!sink!.EndRow(_column))
                            {
                                return TrinoReadStatus.Paused;
                            }

                            break;
                        }

                        if (!ReadValue(ref reader, ref checkpoint, buffer, sink!))
                        {
                            return TrinoReadStatus.NeedMoreData;
                        }

                        _column++;
                        break;
                    }

                default:
                    return TrinoReadStatus.PageEnd;
            }
        }
    }

    /// <summary>Hands one row value to the sink; false (reader rewound) when a nested value is not complete yet.</summary>
    private bool ReadValue(ref Utf8JsonReader reader, ref Utf8JsonReader checkpoint, ReadOnlySpan<byte> buffer, ITrinoRowSink sink)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                sink.Value(_column, TrinoJsonValueKind.Null, default);
                return true;
            case JsonTokenType.True:
                sink.Value(_column, TrinoJsonValueKind.True, default);
                return true;
            case JsonTokenType.False:
                sink.Value(_column, TrinoJsonValueKind.False, default);
                return true;
            case JsonTokenType.Number:
                sink.Value(_column, TrinoJsonValueKind.Number, reader.ValueSpan);
                return true;
            case JsonTokenType.String:
                sink.Value(_column, TrinoJsonValueKind.String, Unescaped(ref reader));
                return true;
            case JsonTokenType.StartArray:
            case JsonTokenType.StartObject:
                int start = (int)reader.TokenStartIndex;
                if (!reader.TrySkip())
                {
                    reader = checkpoint;
                    return false;
                }

                sink.Value(_column, TrinoJsonValueKind.Nested, buffer[start..(int)reader.BytesConsumed]);
                return true;
            default:
                throw new FormatException($"unexpected {reader.TokenType} in a row of a Trino page");
        }
    }

    private ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        // Unescaped text is never longer than the escaped token.
        if (_scratch.Length < reader.ValueSpan.Length)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        }

        int written = reader.CopyString(_scratch);
        return _scratch.AsSpan(0, written);
    }

    private static Member MemberOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return Member.Other;
        }

        ReadOnlySpan<byte> name = reader.ValueSpan;
        return name.Length switch
        {
            2 when name.SequenceEqual("id"u8) => Member.Id,
            4 when name.SequenceEqual("data"u8) => Member.Data,
            5 when name.SequenceEqual("stats"u8) => Member.Stats,
            5 when name.SequenceEqual("error"u8) => Member.Error,
            7 when name.SequenceEqual("infoUri"u8) => Member.InfoUri,
            7 when name.SequenceEqual("nextUri"u8) => Member.NextUri,
            7 when name.SequenceEqual("columns"u8) => Member.Columns,
            10 when name.SequenceEqual("updateType"u8) => Member.UpdateType,
            11 when name.SequenceEqual("updateCount"u8) => Member.UpdateCount,
            16 when name.SequenceEqual("partialCancelUri"u8) => Member.PartialCancelUri,
            _ => Member.Other,
        };
    }

    /// <summary>Stores a complete member value; true when it was the column list.</summary>
    private bool StoreMember(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        bool isNull = reader.TokenType == JsonTokenType.Null;
        switch (_member)
        {
            case Member.Id:
                Page.Id = isNull ? null : reader.GetString();
                return false;
            case Member.InfoUri:
                Page.InfoUri = isNull ? null : reader.GetString();
                return false;
            case Member.PartialCancelUri:
                Page.PartialCancelUri = isNull ? null : reader.GetString();
                return false;
            case Member.NextUri:
                Page.NextUri = isNull ? null : reader.GetString();
                return false;
            case Member.UpdateType:
                Page.UpdateType = isNull ? null : reader.GetString();
                return false;
            case Member.UpdateCount:
                Page.UpdateCount = isNull ? -1 : reader.GetInt64();
                return false;
            case Member.Data:
                Page.HasData = !isNull;
                return false;
            case Member.Stats:
                if (!isNull)
                {
                    ReadStats(json);
                }

                return false;
            case Member.Error:
                Page.Error = isNull ? null : ReadError(json);
                return false;
            case Member.Columns:
                if (isNull)
                {
                    return false;
                }

                Page.HasColumns = true;
                Page.Columns = ReadColumns(json);
                return true;
            default:
                return false;
        }
    }

    private IReadOnlyList<TrinoPageColumn> ReadColumns(ReadOnlySpan<byte> json)
    {
        // Every page repeats the columns: parse them once per query.
        if (_lastColumns is not null && json.SequenceEqual(_lastColumnsJson))
        {
            return _lastColumns;
        }

        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FormatException($"'columns' of a Trino page must be an array, found {reader.TokenType}");
        }

        var columns = new List<TrinoPageColumn>();
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string? name = null;
            string? type = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    name = reader.GetString();
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.GetString();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (name is null || type is null)
            {
                throw new FormatException($"column {columns.Count + 1} of a Trino page has no {(name is null ? "name" : "type")}");
            }

            TrinoType parsed;
            try
            {
                parsed = TrinoTypeSignatureParser.Parse(type);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"column \"{name}\": {ex.Message}", ex);
            }

            columns.Add(new TrinoPageColumn(name, parsed));
        }

        _lastColumns = columns.AsReadOnly();
        _lastColumnsJson = json.ToArray();
        return _lastColumns;
    }

    private void ReadStats(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("state"u8))
            {
                reader.Read();
                Page.State = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("elapsedTimeMillis"u8))
            {
                reader.Read();
                Page.ElapsedTimeMillis = Number(ref reader);
            }
            else if (reader.ValueTextEquals("processedRows"u8))
            {
                reader.Read();
                Page.ProcessedRows = Number(ref reader);
            }
            else if (reader.ValueTextEquals("processedBytes"u8))
            {
                reader.Read();
                Page.ProcessedBytes = Number(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static TrinoPageError ReadError(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        string message = "query failed";
        string? name = null;
        string? type = null;
        string? sqlState = null;
        int code = 0;
        int line = -1;
        int column = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                message = reader.GetString() ?? message;
            }
            else if (reader.ValueTextEquals("errorCode"u8))
            {
                reader.Read();
                code = (int)Number(ref reader);
            }
            else if (reader.ValueTextEquals("errorName"u8))
            {
                reader.Read();
                name = reader.GetString();
            }
            else if (reader.ValueTextEquals("errorType"u8))
            {
                reader.Read();
                type = reader.GetString();
            }
            else if (reader.ValueTextEquals("sqlState"u8))
            {
                reader.Read();
                sqlState = reader.GetString();
            }
            else if (reader.ValueTextEquals("errorLocation"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        bool isLine = reader.ValueTextEquals("lineNumber"u8);
                        bool isColumn = reader.ValueTextEquals("columnNumber"u8);
                        reader.Read();
                        long value = Number(ref reader);
                        line = isLine ? (int)value : line;
                        column = isColumn ? (int)value : column;
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new TrinoPageError(message, code, name, type, sqlState, line, column);
    }

    private static long Number(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            reader.Skip();
            return -1;
        }

        return reader.TryGetInt64(out long value) ? value : (long)reader.GetDouble();
    }
}
