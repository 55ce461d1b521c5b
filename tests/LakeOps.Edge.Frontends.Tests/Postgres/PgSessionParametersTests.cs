using LakeOps.Edge.Frontends.Postgres;

namespace LakeOps.Edge.Frontends.Tests.Postgres;

public sealed class PgSessionParametersTests
{
    private static PgSessionParameters Create() => new("15.0", "alice", "app");

    [Fact]
    public void Startup_values_are_what_clients_expect()
    {
        PgSessionParameters parameters = Create();
        Assert.Equal("UTF8", parameters["client_encoding"]);
        Assert.Equal("ISO, MDY", parameters["DateStyle"]);
        Assert.Equal("UTC", parameters["TimeZone"]);
        Assert.Equal("alice", parameters["session_authorization"]);
        Assert.Equal("app", parameters["application_name"]);
        Assert.Equal("15.0", parameters["server_version"]);
    }

    [Theory]
    [InlineData("timezone", "Etc/UTC", "UTC")]
    [InlineData("TimeZone", "GMT", "UTC")]
    [InlineData("datestyle", "iso, dmy", "ISO, DMY")]
    [InlineData("client_encoding", "unicode", "UTF8")]
    [InlineData("application_name", "Report Builder", "Report Builder")]
    [InlineData("TimeZone", "Asia/Kolkata", "Asia/Kolkata")]
    public void Supported_values_are_normalized(string name, string value, string stored)
    {
        PgSessionParameters parameters = Create();
        Assert.Null(parameters.Set(name, value, out _));
        Assert.Equal(stored, parameters[parameters.CanonicalName(name)]);
    }

    [Theory]
    [InlineData("timezone", "Mars/Olympus_Mons", "0A000")]
    [InlineData("client_encoding", "LATIN1", "0A000")]
    [InlineData("DateStyle", "German", "0A000")]
    [InlineData("server_version", "16", "55P02")]
    [InlineData("statement_timeout", "soon", "0A000")]
    public void Unsupported_values_are_refused_with_a_reason(string name, string value, string sqlState)
    {
        PgSessionParameters parameters = Create();
        string? error = parameters.Set(name, value, out string state);
        Assert.NotNull(error);
        Assert.Equal(sqlState, state);
        Assert.Contains(name, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Reset_returns_to_startup_values()
    {
        PgSessionParameters parameters = Create();
        parameters.Set("application_name", "changed", out _);
        parameters.Set("statement_timeout", "5s", out _);
        Assert.Equal(5000, parameters.StatementTimeoutMilliseconds);
        parameters.Set("application_name", null, out _);
        Assert.Equal("app", parameters["application_name"]);
        parameters.ResetAll();
        Assert.Equal(0, parameters.StatementTimeoutMilliseconds);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("250", 250)]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2000)]
    [InlineData("1.5 s", 1500)]
    [InlineData("1min", 60000)]
    [InlineData("1h", 3600000)]
    [InlineData("abc", -1)]
    [InlineData("5 fortnights", -1)]
    public void Timeouts_parse_like_postgresql(string text, int milliseconds) =>
        Assert.Equal(milliseconds, PgSessionParameters.ParseMilliseconds(text));

    [Fact]
    public void Only_gateway_parameters_are_owned()
    {
        PgSessionParameters parameters = Create();
        Assert.True(parameters.Owns("application_name"));
        Assert.True(parameters.Owns("EXTRA_FLOAT_DIGITS"));
        Assert.False(parameters.Owns("threads"));
        Assert.False(parameters.Owns("search_path"));
    }

    [Fact]
    public void Output_zone_follows_the_timezone_setting()
    {
        PgSessionParameters parameters = Create();
        Assert.Null(parameters.OutputZone);
        parameters.Set("TimeZone", "America/Los_Angeles", out _);
        Assert.Equal(TimeSpan.FromHours(-8), parameters.OutputZone!.BaseUtcOffset);
        parameters.Set("TimeZone", "Etc/UTC", out _);
        Assert.Null(parameters.OutputZone);
    }
}
