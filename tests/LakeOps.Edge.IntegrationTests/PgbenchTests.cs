using System.Text.RegularExpressions;
using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>pgbench with a custom script in all three query modes: zero failed transactions.</summary>
[Collection(EdgeCollection.Name)]
public sealed partial class PgbenchTests(EdgeFixture fixture)
{
    private const string Script = """
        \set id random(1, 1000)
        SELECT :id::integer + 1 AS next_id, 'row ' || :id AS label;
        """;

    private readonly EdgeProcess _edge = fixture.Edge;

    [Theory]
    [InlineData("simple")]
    [InlineData("extended")]
    [InlineData("prepared")]
    public async Task Custom_script_completes_without_failures(string mode)
    {
        string script = Path.Combine(_edge.Directory, $"bench-{mode}.sql");
        await File.WriteAllTextAsync(script, Script);
        Tools.Result result = await Tools.RunAsync(
            "pgbench",
            ["-n", "-M", mode, "-f", script, "-c", "4", "-j", "2", "-t", "200", "-h", "127.0.0.1", "-p", _edge.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "edge", "local"]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(ProcessedRegex(), result.StdOut);
        Match failed = FailedRegex().Match(result.StdOut);
        Assert.True(failed.Success, result.StdOut);
        Assert.Equal("0", failed.Groups[1].Value);
    }

    [GeneratedRegex(@"number of transactions actually processed: 800/800")]
    private static partial Regex ProcessedRegex();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex FailedRegex();
}
