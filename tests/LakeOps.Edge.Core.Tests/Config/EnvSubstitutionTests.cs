using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Core.Tests.Config;

public class EnvSubstitutionTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["HOST"] = "db1",
        ["PORT"] = "5432",
        ["EMPTY"] = string.Empty,
    };

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("${HOST}", "db1")]
    [InlineData("${HOST}:${PORT}", "db1:5432")]
    [InlineData("x${HOST}y", "xdb1y")]
    [InlineData("${MISSING:-fallback}", "fallback")]
    [InlineData("${MISSING:-}", "")]
    [InlineData("${HOST:-fallback}", "db1")]
    [InlineData("${EMPTY:-fallback}", "fallback")]
    [InlineData("${EMPTY}", "")]
    [InlineData("${MISSING:-a:b/c d}", "a:b/c d")]
    [InlineData("$${HOST}", "${HOST}")]
    [InlineData("$$${HOST}", "$${HOST}")]
    [InlineData("cost $5 or $$", "cost $5 or $$")]
    [InlineData("SCRAM-SHA-256$4096:abc$def", "SCRAM-SHA-256$4096:abc$def")]
    [InlineData("end$", "end$")]
    public void Substitutes(string text, string expected)
    {
        Assert.Equal(expected, EnvSubstitution.Substitute(text, Lookup, out string? error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("${MISSING}", "environment variable 'MISSING' is not set (use ${MISSING:-default} to give a default)")]
    [InlineData("a ${HOST", "unterminated '${' (write '$${' for a literal '${')")]
    [InlineData("${}", "'${}' is not a valid substitution")]
    [InlineData("${1X}", "'${1X}' is not a valid substitution")]
    [InlineData("${A-B}", "'${A-B}' is not a valid substitution")]
    [InlineData("${HOST:=x}", "'${HOST:=x}' is not a valid substitution")]
    public void Reports_bad_references(string text, string expected)
    {
        Assert.Null(EnvSubstitution.Substitute(text, Lookup, out string? error));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    private static string? Lookup(string name) => Env.TryGetValue(name, out string? value) ? value : null;
}
