using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Frontends.Trino;

namespace LakeOps.Edge.Frontends.Tests.Trino;

public class TrinoAuthenticatorTests
{
    private static readonly string TokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("tok-123")));

    private static EdgeConfig Config()
    {
        string yaml = $$"""
            listeners:
              t:
                protocol: trino
                address: 127.0.0.1:18999
            users:
              alice:
                scram: "{{PasswordHashing.CreateScramVerifier("pw-a")}}"
              bob:
                md5: "{{Md5Password.Hash("bob", "pw-b")}}"
              carol:
                mysql_native: "{{MySqlNativePassword.Hash("pw-c")}}"
              svc:
                bearer_token_sha256: "{{TokenHash}}"
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Equal(AuthMethod.Password, result.Config!.Listeners[0].Auth);
        return result.Config!;
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [Theory]
    [InlineData("alice", "pw-a")]
    [InlineData("bob", "pw-b")]
    [InlineData("carol", "pw-c")]
    public void Basic_checks_every_verifier_kind_and_remembers_success(string user, string password)
    {
        var auth = new TrinoAuthenticator();
        EdgeConfig config = Config();
        Assert.Equal(user, auth.Authenticate(AuthMethod.Password, config, Basic(user, password), null).User);
        Assert.Equal(user, auth.Authenticate(AuthMethod.Password, config, Basic(user, password), user).User);
        Assert.Null(auth.Authenticate(AuthMethod.Password, config, Basic(user, password + "x"), null).User);
    }

    [Fact]
    public void Refusals()
    {
        var auth = new TrinoAuthenticator();
        EdgeConfig config = Config();
        Assert.NotNull(auth.Authenticate(AuthMethod.Password, config, null, "alice").Error);
        Assert.Null(auth.Authenticate(AuthMethod.Password, config, Basic("nobody", "x"), null).User);
        Assert.Null(auth.Authenticate(AuthMethod.Password, config, "Basic !!notbase64", null).User);
        Assert.Contains("may not act as", auth.Authenticate(AuthMethod.Password, config, Basic("alice", "pw-a"), "bob").Error, StringComparison.Ordinal);
        Assert.Null(auth.Authenticate(AuthMethod.Trust, config, null, null).User);
        Assert.Equal("anyone", auth.Authenticate(AuthMethod.Trust, config, null, "anyone").User);
    }

    [Fact]
    public void Bearer_token_is_checked_by_hash()
    {
        var auth = new TrinoAuthenticator();
        EdgeConfig config = Config();
        Assert.Equal("svc", auth.Authenticate(AuthMethod.Password, config, "Bearer tok-123", null).User);
        Assert.Null(auth.Authenticate(AuthMethod.Password, config, "Bearer tok-124", null).User);
    }

    [Fact]
    public void Config_keys_of_the_trino_listener_and_users()
    {
        string Yaml(string user, string limits) => $$"""
            listeners:
              t:
                protocol: trino
                address: 127.0.0.1:18999
                limits: { {{limits}} }
            users:
              svc:
                {{user}}
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        ConfigLoadResult good = ConfigLoader.Load(Yaml($"bearer_token_sha256: \"{TokenHash}\"", "client_timeout: 2s"), null, _ => null);
        Assert.True(good.Success, string.Join("\n", good.Errors));
        Assert.Equal(TimeSpan.FromSeconds(2), good.Config!.Listeners[0].Limits.ClientTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), new ListenerLimits().ClientTimeout);

        ConfigLoadResult bad = ConfigLoader.Load(Yaml("bearer_token_sha256: \"ABC\"", "client_timeout: 0"), null, _ => null);
        Assert.False(bad.Success);
        Assert.Contains(bad.Errors, e => e.ToString().Contains("64 lowercase hex digits", StringComparison.Ordinal));
        Assert.Contains(bad.Errors, e => e.ToString().Contains("client_timeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Trino_listener_rejects_postgres_auth_methods()
    {
        string yaml = """
            listeners:
              t:
                protocol: trino
                address: 127.0.0.1:18999
                auth: scram-sha-256
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.False(result.Success);
        Assert.Contains(result.Errors, e => e.ToString().Contains("trust or password", StringComparison.Ordinal));
    }
}
