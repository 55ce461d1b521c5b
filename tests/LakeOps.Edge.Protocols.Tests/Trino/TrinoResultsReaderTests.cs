using System.Text;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

/// <summary>The streaming page reader, fed every page whole, split at every byte boundary, and one byte at a time.</summary>
public sealed class TrinoResultsReaderTests
{
    private const string DataPage = """
        {"id":"20260101_000000_00001_abcde","infoUri":"http://c:8080/ui/query.html?20260101_000000_00001_abcde",
         "partialCancelUri":"http://c:8080/v1/stage/x.0","nextUri":"http://c:8080/v1/statement/executing/20260101_000000_00001_abcde/y1/2",
         "columns":[{"name":"id","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}},
                    {"name":"na\"me","type":"varchar(10)","typeSignature":{"rawType":"varchar","arguments":[{"kind":"LONG","value":10}]}},
                    {"name":"tags","type":"array(varchar)","typeSignature":{"rawType":"array","arguments":[{"kind":"TYPE","value":{"rawType":"varchar","arguments":[]}}]}}],
         "data":[[1,"a\u00e9\n",["x","y"]],[-2,null,[]],[3.5e0,"",{"k":[1,{"z":null}]}],[true,false,null]],
         "stats":{"state":"RUNNING","queued":false,"scheduled":true,"elapsedTimeMillis":120,"processedRows":4,"processedBytes":77,
                  "rootStage":{"stageId":"0","state":"RUNNING","subStages":[{"stageId":"1","subStages":[]}]}},
         "warnings":[{"warningCode":{"code":1,"name":"W"},"message":"m"}]}
        """;

    private const string FailedPage = """
        {"id":"q2","infoUri":"http://c/ui","stats":{"state":"FAILED","elapsedTimeMillis":3},
         "error":{"message":"line 1:8: Column 'x' cannot be resolved","errorCode":47,"errorName":"COLUMN_NOT_FOUND","errorType":"USER_ERROR",
                  "errorLocation":{"lineNumber":1,"columnNumber":8},"failureInfo":{"type":"io.trino.spi.TrinoException","suppressed":[],"stack":["a","b"]}},
         "warnings":[]}
        """;

    private const string UpdatePage = """{"id":"q3","infoUri":"http://c/ui","columns":[{"name":"rows","type":"bigint"}],"data":[[5]],"stats":{"state":"FINISHED"},"updateType":"INSERT","updateCount":5}""";

    private const string QueuedPage = """{"id":"q4","infoUri":"http://c/ui","nextUri":"http://c/v1/statement/queued/q4/y/1","stats":{"state":"QUEUED","queued":true,"elapsedTimeMillis":0,"processedRows":0,"processedBytes":0},"warnings":[]}""";

    private static readonly string[] DataPageEvents =
    [
        "columns id:bigint|na\"me:varchar(10)|tags:array(varchar)",
        "0 Number 1", "1 String aé\n", "2 Nested [\"x\",\"y\"]", "row 3",
        "0 Number -2", "1 Null ", "2 Nested []", "row 3",
        "0 Number 3.5e0", "1 String ", "2 Nested {\"k\":[1,{\"z\":null}]}", "row 3",
        "0 True ", "1 False ", "2 Null ", "row 3",
        "end",
    ];

    public static TheoryData<string> Pages => [DataPage, FailedPage, UpdatePage, QueuedPage];

    [Fact]
    public void ReadsAWholePage()
    {
        (List<string> events, TrinoPageInfo page) = ReadChunks(Bytes(DataPage), pauseEveryRow: false);

        Assert.Equal(DataPageEvents, events);
        Assert.Equal("20260101_000000_00001_abcde", page.Id);
        Assert.Equal("http://c:8080/v1/statement/executing/20260101_000000_00001_abcde/y1/2", page.NextUri);
        Assert.Equal("http://c:8080/v1/stage/x.0", page.PartialCancelUri);
        Assert.Equal("RUNNING", page.State);
        Assert.Equal(120, page.ElapsedTimeMillis);
        Assert.Equal(4, page.ProcessedRows);
        Assert.Equal(77, page.ProcessedBytes);
        Assert.Null(page.Error);
        Assert.Null(page.UpdateType);
        Assert.True(page.HasData);
        Assert.Equal(TrinoTypeKind.Array, page.Columns![2].Type.Kind);
    }

    [Fact]
    public void ReadsEverySplitOfAPageTheSame()
    {
        byte[] bytes = Bytes(DataPage);
        for (int split = 0; split <= bytes.Length; split++)
        {
            (List<string> events, TrinoPageInfo page) = ReadChunks(bytes, pauseEveryRow: split % 2 == 0, bytes.AsMemory(0, split), bytes.AsMemory(split));
            Assert.True(DataPageEvents.SequenceEqual(events), $"split at {split}: {string.Join(" / ", events)}");
            Assert.Equal("RUNNING", page.State);
        }
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EverySplitAndOneBytePerChunkMatchTheWholeRead(string json)
    {
        byte[] bytes = Bytes(json);
        (List<string> whole, TrinoPageInfo wholePage) = ReadChunks(bytes, pauseEveryRow: false);
        string wholeInfo = Describe(wholePage);
        for (int split = 0; split <= bytes.Length; split++)
        {
            (List<string> events, TrinoPageInfo page) = ReadChunks(bytes, pauseEveryRow: true, bytes.AsMemory(0, split), bytes.AsMemory(split));
            Assert.Equal(whole, events);
            Assert.Equal(wholeInfo, Describe(page));
        }

        var single = new ReadOnlyMemory<byte>[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            single[i] = bytes.AsMemory(i, 1);
        }

        (List<string> bytewise, TrinoPageInfo bytewisePage) = ReadChunks(bytes, pauseEveryRow: false, single);
        Assert.Equal(whole, bytewise);
        Assert.Equal(wholeInfo, Describe(bytewisePage));
    }

    [Fact]
    public void ReadsErrorsAndUpdateCounts()
    {
        TrinoPageInfo failed = TrinoResultsReader.ReadPageInfo(Bytes(FailedPage));
        Assert.Equal("FAILED", failed.State);
        Assert.Null(failed.NextUri);
        Assert.Equal(new TrinoPageError("line 1:8: Column 'x' cannot be resolved", 47, "COLUMN_NOT_FOUND", "USER_ERROR", null, 1, 8), failed.Error);

        TrinoPageInfo update = TrinoResultsReader.ReadPageInfo(Bytes(UpdatePage));
        Assert.Equal("INSERT", update.UpdateType);
        Assert.Equal(5, update.UpdateCount);
        Assert.True(update.HasData);
    }

    [Fact]
    public void PageInfoSkipsRowsWithoutReadingThem()
    {
        // Values that no column type could decode are fine: the passthrough never looks at them.
        TrinoPageInfo page = TrinoResultsReader.ReadPageInfo(Bytes("""{"id":"q","data":[[{"deep":[[[]]]},"x"],[1]],"nextUri":"http://c/n","stats":{"state":"RUNNING"}}"""));
        Assert.Equal("http://c/n", page.NextUri);
        Assert.Equal("RUNNING", page.State);
        Assert.True(page.HasData);
        Assert.Null(page.Columns);
        Assert.False(page.HasColumns);
    }

    [Fact]
    public void PageInfoDoesNotParseColumnTypes()
    {
        // A type the parser rejects proves whether the columns were parsed: the passthrough must not.
        byte[] page = Bytes("""{"id":"q","columns":[{"name":"a","type":"decimal(10"}],"nextUri":"http://c/n","stats":{"state":"RUNNING"}}""");

        TrinoPageInfo info = TrinoResultsReader.ReadPageInfo(page);
        Assert.Equal("http://c/n", info.NextUri);
        Assert.Null(info.Columns);
        Assert.True(info.HasColumns);

        using var reader = new TrinoResultsReader();
        reader.BeginPage();
        FormatException error = Assert.Throws<FormatException>(() => reader.Read(page, true, new RecordingSink(false), out _));
        Assert.Contains("column \"a\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReusesTheColumnListOfEarlierPages()
    {
        using var reader = new TrinoResultsReader();
        var sink = new RecordingSink(false);
        IReadOnlyList<TrinoPageColumn>? first = null;
        for (int page = 0; page < 2; page++)
        {
            reader.BeginPage();
            byte[] bytes = Bytes(DataPage);
            int at = 0;
            while (true)
            {
                TrinoReadStatus status = reader.Read(bytes.AsSpan(at), true, sink, out int consumed);
                at += consumed;
                if (status == TrinoReadStatus.PageEnd)
                {
                    break;
                }
            }

            first ??= reader.Page.Columns;
        }

        Assert.Same(first, reader.Page.Columns);
        Assert.Equal(8, reader.Rows + 4);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("""{"data":{"a":1}}""")]
    [InlineData("""{"data":[1]}""")]
    [InlineData("""{"columns":[{"name":"a"}]}""")]
    [InlineData("""{"columns":[{"name":"a","type":"decimal(10"}]}""")]
    [InlineData("""{"id":"x",}""")]
    [InlineData("""{"id":"x" """)]
    public void RejectsJsonThatIsNotAPage(string json)
    {
        Assert.Throws<FormatException>(() => ReadChunks(Bytes(json), pauseEveryRow: false));
    }

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json.ReplaceLineEndings("\n"));

    private static string Describe(TrinoPageInfo page) =>
        $"{page.Id}|{page.InfoUri}|{page.PartialCancelUri}|{page.NextUri}|{page.State}|{page.ElapsedTimeMillis}|{page.ProcessedRows}|{page.ProcessedBytes}|{page.Error}|{page.UpdateType}|{page.UpdateCount}|{page.HasData}|{page.Columns?.Count}";

    /// <summary>Feeds the chunks the way the engine does: unconsumed bytes stay in the buffer and the next chunk is appended.</summary>
    private static (List<string> Events, TrinoPageInfo Page) ReadChunks(byte[] all, bool pauseEveryRow, params ReadOnlyMemory<byte>[] chunks)
    {
        if (chunks.Length == 0)
        {
            chunks = [all];
        }

        var reader = new TrinoResultsReader();
        var sink = new RecordingSink(pauseEveryRow);
        reader.BeginPage();
        var buffer = new List<byte>();
        for (int c = 0; c < chunks.Length; c++)
        {
            buffer.AddRange(chunks[c].ToArray());
            bool final = c == chunks.Length - 1;
            while (true)
            {
                byte[] current = [.. buffer];
                TrinoReadStatus status = reader.Read(current, final, sink, out int consumed);
                buffer.RemoveRange(0, consumed);
                if (status == TrinoReadStatus.Columns)
                {
                    sink.Events.Add("columns " + string.Join('|', reader.Page.Columns!.Select(col => col.Name + ":" + col.Type.Name)));
                    continue;
                }

                if (status == TrinoReadStatus.Paused)
                {
                    continue;
                }

                if (status == TrinoReadStatus.PageEnd)
                {
                    sink.Events.Add("end");
                    return (sink.Events, reader.Page);
                }

                if (final)
                {
                    throw new FormatException("incomplete page");
                }

                break;
            }
        }

        throw new FormatException("incomplete page");
    }

    private sealed class RecordingSink(bool pauseEveryRow) : ITrinoRowSink
    {
        public List<string> Events { get; } = [];

        public void Value(int column, TrinoJsonValueKind kind, ReadOnlySpan<byte> utf8) =>
            Events.Add($"{column} {kind} {Encoding.UTF8.GetString(utf8)}");

        public bool EndRow(int valueCount)
        {
            Events.Add($"row {valueCount}");
            return !pauseEveryRow;
        }
    }
}
