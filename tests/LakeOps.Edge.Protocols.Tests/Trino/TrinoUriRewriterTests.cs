using System.Buffers;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Protocols.Tests.Support;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

public class TrinoUriRewriterTests
{
    private const string Page =
        """{"id":"q1","infoUri":"http://coord:8080/ui/query.html?q1","partialCancelUri":"http://coord:8080/v1/stage/q1.0","nextUri":"http://coord:8080/v1/statement/executing/q1/y/1","columns":[{"name":"nextUri","type":"varchar"}],"data":[["http://coord:8080/x"],["{\"nextUri\":\"keep\"}"]],"stats":{"state":"RUNNING","nextUri":"nested stays"}}""";

    [Fact]
    public void Replaces_only_the_top_level_uris_at_every_split()
    {
        byte[] input = Encoding.UTF8.GetBytes(Page);
        string expected = Page
            .Replace("http://coord:8080/v1/statement/executing/q1/y/1", "http://edge:18080/v1/statement/executing/e1/1", StringComparison.Ordinal)
            .Replace("http://coord:8080/ui/query.html?q1", "http://edge:18080/v1/query/e1", StringComparison.Ordinal)
            .Replace("http://coord:8080/v1/stage/q1.0", "http://edge:18080/v1/statement/partialCancel/e1", StringComparison.Ordinal);
        foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(input))
        {
            var output = new ArrayBufferWriter<byte>();
            string? upstream = TrinoUriRewriter.Rewrite(sequence, "http://edge:18080/v1/statement/executing/e1/1", "http://edge:18080/v1/query/e1", "http://edge:18080/v1/statement/partialCancel/e1", output);
            Assert.Equal("http://coord:8080/v1/statement/executing/q1/y/1", upstream);
            Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void Data_bytes_are_copied_verbatim_including_whitespace_and_escapes()
    {
        string page = "{ \"data\" : [ [ \"\\u00e9\\n\" , 1.50E+3 ] ] ,\n \"nextUri\" : \"http://c/n\" }";
        var output = new ArrayBufferWriter<byte>();
        TrinoUriRewriter.Rewrite(Encoding.UTF8.GetBytes(page), "http://e/n", null, null, output);
        Assert.Equal(page.Replace("http://c/n", "http://e/n", StringComparison.Ordinal), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Last_page_without_next_uri_returns_null_and_keeps_body()
    {
        string page = """{"id":"q","infoUri":"http://c/i","stats":{"state":"FINISHED"}}""";
        var output = new ArrayBufferWriter<byte>();
        Assert.Null(TrinoUriRewriter.Rewrite(Encoding.UTF8.GetBytes(page), "http://e/n", "http://e/i", null, output));
        Assert.Equal(page.Replace("http://c/i", "http://e/i", StringComparison.Ordinal), Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Null_replacement_keeps_the_coordinator_value()
    {
        string page = """{"nextUri":"http://c/n","infoUri":"http://c/i"}""";
        var output = new ArrayBufferWriter<byte>();
        TrinoUriRewriter.Rewrite(Encoding.UTF8.GetBytes(page), null, "http://e/\"i", null, output);
        using JsonDocument document = JsonDocument.Parse(output.WrittenMemory);
        Assert.Equal("http://c/n", document.RootElement.GetProperty("nextUri").GetString());
        Assert.Equal("http://e/\"i", document.RootElement.GetProperty("infoUri").GetString());
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("{\"nextUri\":")]
    [InlineData("not json")]
    public void Rejects_bodies_that_are_not_one_object(string body)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.ThrowsAny<JsonException>(() => TrinoUriRewriter.Rewrite(Encoding.UTF8.GetBytes(body), "x", "y", "z", output));
    }
}
