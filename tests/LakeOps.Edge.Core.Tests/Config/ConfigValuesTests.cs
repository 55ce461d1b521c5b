using System.Net;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Core.Tests.Config;

public class ConfigValuesTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("30", 30_000)]
    [InlineData("250ms", 250)]
    [InlineData("10s", 10_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData(" 7 s ", 7_000)]
    [InlineData("24d", 2_073_600_000)]
    public void Durations_parse(string text, long milliseconds)
    {
        Assert.True(ConfigValues.TryParseDuration(text, out TimeSpan value, out string? error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("-1", "must not be negative")]
    [InlineData("-5s", "must not be negative")]
    [InlineData("", "is not a duration")]
    [InlineData("s", "is not a duration")]
    [InlineData("1.5s", "is not a duration")]
    [InlineData("10 seconds", "is not a duration")]
    [InlineData("10S", "is not a duration")]
    [InlineData("25d", "too long")]
    [InlineData("99999999999999999999h", "too long")]
    public void Bad_durations_are_explained(string text, string expected)
    {
        Assert.False(ConfigValues.TryParseDuration(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1024", 1024)]
    [InlineData("0", 0)]
    [InlineData("12B", 12)]
    [InlineData("512KiB", 512 * 1024)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("64MB", 64_000_000)]
    [InlineData("3KB", 3_000)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("64 MiB", 64L << 20)]
    public void Sizes_parse(string text, long bytes)
    {
        Assert.True(ConfigValues.TryParseSize(text, out long value, out string? error), error);
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("-1", "must not be negative")]
    [InlineData("MiB", "is not a size")]
    [InlineData("64mib", "is not a size")]
    [InlineData("1.5GiB", "is not a size")]
    [InlineData("99999999999TiB", "too large")]
    public void Bad_sizes_are_explained(string text, string expected)
    {
        Assert.False(ConfigValues.TryParseSize(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:15432", "127.0.0.1", 15432)]
    [InlineData("0.0.0.0:1", "0.0.0.0", 1)]
    [InlineData("localhost:65535", "127.0.0.1", 65535)]
    [InlineData("LOCALHOST:80", "127.0.0.1", 80)]
    [InlineData("[::1]:5432", "::1", 5432)]
    [InlineData("[::]:5432", "::", 5432)]
    [InlineData("[fe80::1%2]:5432", "fe80::1%2", 5432)]
    public void Endpoints_parse(string text, string address, int port)
    {
        Assert.True(ConfigValues.TryParseEndpoint(text, out IPEndPoint? endpoint, out string? error), error);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), endpoint);
    }

    [Theory]
    [InlineData("127.0.0.1", "has no port")]
    [InlineData("127.0.0.1:", "port '' must be a number from 1 to 65535")]
    [InlineData("127.0.0.1:0", "from 1 to 65535")]
    [InlineData("127.0.0.1:65536", "from 1 to 65535")]
    [InlineData("127.0.0.1:+80", "from 1 to 65535")]
    [InlineData("127.0.0.1:8o", "from 1 to 65535")]
    [InlineData("::1:5432", "write IPv6 addresses in brackets")]
    [InlineData("[::1]5432", "write [IPv6]:port")]
    [InlineData("127.1:5432", "'127.1' is not an IP address")]
    [InlineData("example.com:5432", "'example.com' is not an IP address")]
    [InlineData("[127.0.0.1]:5432", "not an IP address")]
    [InlineData(":5432", "'' is not an IP address")]
    public void Bad_endpoints_are_explained(string text, string expected)
    {
        Assert.False(ConfigValues.TryParseEndpoint(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.0.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    public void Loopback_is_127_slash_8_and_ipv6_localhost(string address, bool loopback)
    {
        Assert.Equal(loopback, ConfigValues.IsLoopback(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("pg", true)]
    [InlineData("a.b-c_D9", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("ä", false)]
    public void Names_use_a_small_alphabet(string name, bool valid)
    {
        Assert.Equal(valid, ConfigValues.IsValidName(name));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    public void Booleans_parse(string text, bool expected)
    {
        Assert.True(ConfigValues.TryParseBool(text, out bool value, out _));
        Assert.Equal(expected, value);
        Assert.False(ConfigValues.TryParseBool("yes", out _, out string? error));
        Assert.Equal("'yes' is not a boolean; use true or false", error);
    }
}
