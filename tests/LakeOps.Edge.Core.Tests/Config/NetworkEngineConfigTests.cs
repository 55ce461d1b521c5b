using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class NetworkEngineConfigTests
{
    private static readonly string Verifier = ScramVerifier.Create("secret", 4096, new byte[16]).ToString();

    [Fact]
    public void Postgres_and_mysql_clusters_bind_every_key()
    {
        const string yaml = """
            server:
              mysql_server_version: "8.0.36"
            listeners:
              pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
              my: { protocol: mysql, address: 127.0.0.1:13306, auth: trust }
            clusters:
              pg:
                engine: postgres
                postgres: { host: db1, port: 6543, user: edge, password: pw, database: sales, tls: verify-full }
                pool: { min_size: 2, max_size: 10, idle_timeout: 1m, max_lifetime: 0, connect_timeout: 2s, health_check_after_idle: 0 }
              maria:
                engine: mysql
                mysql: { host: 127.0.0.1 }
            groups:
              postgres: { clusters: [pg], statement_timeout: 30s }
              mariadb: { clusters: [maria] }
            routing: { default_group: postgres }
            """;

        EdgeConfig config = LoadValid(yaml);

        Assert.Equal("8.0.36", config.Server.MySqlServerVersion);
        Assert.Equal(ListenerProtocol.MySql, config.Listeners[1].Protocol);
        ClusterConfig pg = config.Clusters["pg"];
        Assert.Equal(EngineKind.Postgres, pg.Engine);
        Assert.Equal(
            new RemoteEngineOptions { Host = "db1", Port = 6543, User = "edge", Password = "pw", Database = "sales", Tls = EngineTlsMode.VerifyFull },
            pg.Remote);
        Assert.Equal(
            new PoolOptions { MinSize = 2, MaxSize = 10, IdleTimeout = TimeSpan.FromMinutes(1), MaxLifetime = TimeSpan.Zero, ConnectTimeout = TimeSpan.FromSeconds(2), HealthCheckAfterIdle = TimeSpan.Zero },
            pg.Pool);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Groups["postgres"].StatementTimeout);

        ClusterConfig maria = config.Clusters["maria"];
        Assert.Equal(EngineKind.MySql, maria.Engine);
        Assert.Equal(new RemoteEngineOptions { Host = "127.0.0.1", Port = 3306, User = "root" }, maria.Remote);
        Assert.Equal(new PoolOptions(), maria.Pool);
        Assert.Equal(TimeSpan.Zero, config.Groups["mariadb"].StatementTimeout);
    }

    [Fact]
    public void Engine_sections_and_pools_must_match_the_engine()
    {
        const string yaml = """
            listeners:
              pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
            clusters:
              duck: { engine: duckdb, mysql: { host: x }, pool: { max_size: 2 } }
              pg: { engine: postgres }
              maria: { engine: mysql, mysql: { host: "", port: 0, tls: sometimes }, pool: { min_size: 5, max_size: 2 } }
            groups:
              g: { clusters: [duck, pg, maria] }
            routing: { default_group: g }
            """;

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Contains("belongs to engine 'mysql'", ErrorAt(errors, "clusters.duck.mysql").Message, StringComparison.Ordinal);
        Assert.Contains("only to network engines", ErrorAt(errors, "clusters.duck.pool").Message, StringComparison.Ordinal);
        Assert.Contains("needs a 'postgres' section", ErrorAt(errors, "clusters.pg").Message, StringComparison.Ordinal);
        ErrorAt(errors, "clusters.maria.mysql.host");
        ErrorAt(errors, "clusters.maria.mysql.port");
        Assert.Contains("verify-full", ErrorAt(errors, "clusters.maria.mysql.tls").Message, StringComparison.Ordinal);
        Assert.Contains("larger than max_size", ErrorAt(errors, "clusters.maria.pool.min_size").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql", "md5")]
    [InlineData("mysql", "scram-sha-256")]
    [InlineData("postgres", "mysql_native_password")]
    [InlineData("postgres", "caching_sha2_password")]
    public void Auth_methods_belong_to_their_protocol(string protocol, string auth)
    {
        string yaml = $$"""
            listeners:
              l: { protocol: {{protocol}}, address: 127.0.0.1:15432, auth: {{auth}} }
            users:
              alice: { scram: "{{Verifier}}", md5: md5{{new string('a', 32)}}, mysql_native: "{{MySqlNativePassword.Hash("secret")}}" }
            clusters:
              duck: { engine: duckdb }
            groups:
              g: { clusters: [duck] }
            routing: { default_group: g }
            """;

        Assert.Contains("does not exist for a " + protocol + " listener", ErrorAt(LoadErrors(yaml), "listeners.l.auth").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql_native_password", "mysql_native", true)]
    [InlineData("mysql_native_password", "scram", false)]
    [InlineData("caching_sha2_password", "scram", true)]
    [InlineData("caching_sha2_password", "mysql_native", false)]
    public void Mysql_listeners_need_a_user_with_a_matching_credential(string auth, string credential, bool valid)
    {
        string value = credential == "scram" ? Verifier : MySqlNativePassword.Hash("secret");
        string yaml = $$"""
            listeners:
              my: { protocol: mysql, address: 127.0.0.1:13306, auth: {{auth}} }
            users:
              alice: { {{credential}}: "{{value}}" }
            clusters:
              duck: { engine: duckdb }
            groups:
              g: { clusters: [duck] }
            routing: { default_group: g }
            """;

        if (valid)
        {
            LoadValid(yaml);
        }
        else
        {
            ErrorAt(LoadErrors(yaml), "listeners.my.auth");
        }
    }

    [Fact]
    public void Mysql_listener_defaults_to_caching_sha2()
    {
        string yaml = $$"""
            listeners:
              my: { protocol: mysql, address: 127.0.0.1:13306 }
            users:
              alice: { scram: "{{Verifier}}" }
            clusters:
              duck: { engine: duckdb }
            groups:
              g: { clusters: [duck] }
            routing: { default_group: g }
            """;

        Assert.Equal(AuthMethod.CachingSha2Password, Assert.Single(LoadValid(yaml).Listeners).Auth);
    }

    [Fact]
    public void Malformed_mysql_native_hash_is_rejected()
    {
        string yaml = With("""
            users:
              alice: { mysql_native: "*abc" }
            """);

        Assert.Contains("40 uppercase hex", ErrorAt(LoadErrors(yaml), "users.alice.mysql_native").Message, StringComparison.Ordinal);
    }
}
