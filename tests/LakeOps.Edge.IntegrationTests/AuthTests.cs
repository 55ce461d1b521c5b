using LakeOps.Edge.IntegrationTests.Support;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>Password authentication (SCRAM-SHA-256, md5, cleartext) and TLS, with real clients.</summary>
public sealed class AuthTests
{
    private const string Password = "s3cret-Pa55";

    private static async Task<string> HashAsync(params string[] arguments)
    {
        Tools.Result result = await Tools.RunAsync(EdgeProcess.BinaryPath, ["hash-password", .. arguments], stdin: Password + "\n");
        Assert.True(result.ExitCode == 0, result.All);
        return result.StdOut.Trim();
    }

    private static async Task<EdgeProcess> StartAsync(string method, string tls = "")
    {
        string scram = await HashAsync();
        string md5 = await HashAsync("--md5", "alice");
        string config = $"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{"{PORT}"}
                auth: {method}
            {tls}
            users:
              alice:
                scram: "{scram}"
                md5: "{md5}"
              bob:
                scram: "{scram}"
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        return await EdgeProcess.StartAsync(config);
    }

    [Theory]
    [InlineData("scram-sha-256", "alice")]
    [InlineData("md5", "alice")]
    [InlineData("md5", "bob")] // md5 listener, user with only a SCRAM verifier: SCRAM is used, like PostgreSQL
    [InlineData("cleartext", "alice")]
    public async Task Right_password_is_accepted_by_psql(string method, string user)
    {
        await using EdgeProcess edge = await StartAsync(method);
        Tools.Result result = await Tools.RunAsync("psql", ["-X", "-A", "-t", edge.LibpqConnection(user), "-c", "select 'in'"], new Dictionary<string, string> { ["PGPASSWORD"] = Password });
        Assert.True(result.ExitCode == 0, result.All + edge.Log);
        Assert.Equal("in", result.StdOut.Trim());
    }

    [Theory]
    [InlineData("scram-sha-256", "alice")]
    [InlineData("scram-sha-256", "nobody")]
    [InlineData("md5", "alice")]
    [InlineData("cleartext", "alice")]
    public async Task Wrong_password_or_unknown_user_gets_28P01(string method, string user)
    {
        await using EdgeProcess edge = await StartAsync(method);
        await using var connection = new NpgsqlConnection(edge.ConnectionString(user, extra: "Password=wrong"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal("28P01", error.SqlState);
        Assert.Contains(user, error.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Npgsql_authenticates_with_scram()
    {
        await using EdgeProcess edge = await StartAsync("scram-sha-256");
        await using var connection = new NpgsqlConnection(edge.ConnectionString("alice", extra: "Password=" + Password));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Tls_is_negotiated_when_a_certificate_is_configured()
    {
        string directory = Directory.CreateTempSubdirectory("edge-tls").FullName;
        string cert = Path.Combine(directory, "cert.pem");
        string key = Path.Combine(directory, "key.pem");
        Tools.Result openssl = await Tools.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]);
        Assert.True(openssl.ExitCode == 0, openssl.All);
        string tls = $"    tls:\n      certificate: {cert}\n      key: {key}\n      required: true";
        await using EdgeProcess edge = await StartAsync("scram-sha-256", tls);

        Tools.Result plain = await Tools.RunAsync("psql", ["-X", "-A", "-t", edge.LibpqConnection("alice") + " sslmode=disable", "-c", "select 1"], new Dictionary<string, string> { ["PGPASSWORD"] = Password });
        Assert.NotEqual(0, plain.ExitCode);
        Assert.Contains("requires TLS", plain.StdErr, StringComparison.Ordinal);

        Tools.Result ok = await Tools.RunAsync("psql", ["-X", "-A", "-t", edge.LibpqConnection("alice") + " sslmode=require", "-c", "select 'over tls'"], new Dictionary<string, string> { ["PGPASSWORD"] = Password });
        Assert.True(ok.ExitCode == 0, ok.All + edge.Log);
        Assert.Equal("over tls", ok.StdOut.Trim());
        Directory.Delete(directory, recursive: true);
    }
}
