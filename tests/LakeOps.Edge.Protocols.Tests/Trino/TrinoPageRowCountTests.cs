using System.Buffers;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Protocols.Tests.Support;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

/// <summary>The passthrough's row count: the elements of a coordinator page's top-level <c>data</c>, counted while its URIs are rewritten.</summary>
public class TrinoPageRowCountTests
{
    // Rows hold the things a naive bracket or comma counter trips over: brackets, commas and escaped quotes in
    // strings, nested arrays (array and row types), objects (map), nulls and numbers; a nested "data" in stats.
    private const string Tricky =
        """{"id":"q","nextUri":"http://c/n","columns":[{"name":"a","type":"array(varchar)"}],"data":[ [["x]","y,"]] , [{"k[":"v\"],["}], [null],[1.5e3,[[],[[]]]] ,["\\\"]"] ],"stats":{"state":"RUNNING","data":[[1],[2]]}}""";

    [Theory]
    [InlineData(Tricky, 5)]
    [InlineData("""{"data":[[1],[2],[3]],"nextUri":"http://c/n"}""", 3)]
    [InlineData("""{"data":[],"nextUri":"http://c/n"}""", 0)]
    [InlineData("""{"data":null,"stats":{"state":"QUEUED"}}""", 0)]
    [InlineData("""{"id":"q","stats":{"state":"FINISHED"},"updateType":"INSERT","updateCount":2}""", 0)]
    [InlineData("{ \"data\" :\n [ [ 1 ] ,\t[ 2 ] ] }", 2)]
    public void Counts_the_rows_of_the_top_level_data_at_every_split(string page, long rows)
    {
        byte[] input = Encoding.UTF8.GetBytes(page);
        string expected = page.Replace("http://c/n", "http://e/n", StringComparison.Ordinal);
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(input).Append(SequenceSplits.OneBytePerSegment(input)))
        {
            var output = new ArrayBufferWriter<byte>();
            TrinoPageRewrite result = TrinoUriRewriter.RewriteCounting(sequence, "http://e/n", null, null, output);
            Assert.Equal(rows, result.Rows);
            Assert.Equal(page.Contains("\"nextUri\"", StringComparison.Ordinal) ? "http://c/n" : null, result.UpstreamNextUri);

            // Counting changes nothing in what is forwarded: the bytes are the coordinator's, URIs aside.
            Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void Count_agrees_with_a_json_parser_on_a_large_page()
    {
        var page = new StringBuilder("{\"id\":\"q\",\"data\":[");
        for (int i = 0; i < 10_000; i++)
        {
            page.Append(i == 0 ? "" : ",").Append("[").Append(i).Append(",\"r").Append(i).Append("\",[").Append(i % 7).Append("],{\"m\":null}]");
        }

        page.Append("],\"stats\":{\"state\":\"RUNNING\"}}");
        byte[] input = Encoding.UTF8.GetBytes(page.ToString());
        using JsonDocument parsed = JsonDocument.Parse(input);
        TrinoPageRewrite result = TrinoUriRewriter.RewriteCounting(input, null, null, null, new ArrayBufferWriter<byte>());
        Assert.Equal(parsed.RootElement.GetProperty("data").GetArrayLength(), result.Rows);
    }

    [Theory]
    [InlineData("""{"data":[[1],[2]""")]
    [InlineData("""{"data":[[1],[2}""")]
    public void Truncated_or_broken_data_is_not_a_page(string body)
    {
        Assert.ThrowsAny<JsonException>(() => TrinoUriRewriter.RewriteCounting(Encoding.UTF8.GetBytes(body), null, null, null, new ArrayBufferWriter<byte>()));
    }
}
