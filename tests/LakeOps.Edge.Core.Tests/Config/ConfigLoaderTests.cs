using System.Net;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class ConfigLoaderTests
{
    private static readonly string Verifier = ScramVerifier.Create("secret", 4096, new byte[16]).ToString();

    [Fact]
    public void Minimal_config_loads_with_defaults()
    {
        EdgeConfig config = LoadValid(Minimal);

        ListenerConfig listener = Assert.Single(config.Listeners);
        Assert.Equal("pg", listener.Name);
        Assert.Equal(ListenerProtocol.Postgres, listener.Protocol);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 15432), listener.Endpoint);
        Assert.Equal(AuthMethod.Trust, listener.Auth);
        Assert.Null(listener.Tls);
        Assert.Equal(new ListenerLimits(), listener.Limits);
        Assert.Equal(new ServerConfig(), config.Server);
        Assert.Empty(config.Users);

        ClusterConfig cluster = config.Clusters["duck"];
        Assert.Equal(EngineKind.DuckDb, cluster.Engine);
        Assert.Equal(":memory:", cluster.DuckDb!.Path);
        Assert.False(cluster.DuckDb.ReadOnly);
        Assert.Null(cluster.DuckDb.Threads);
        Assert.Null(cluster.DuckDb.MemoryLimit);
        Assert.Equal(new ClusterLimits(), cluster.Limits);

        Assert.Equal(["duck"], config.Groups["local"].Clusters);
        Assert.Equal("local", config.Routing.DefaultGroup);
        Assert.True(config.Routing.FallbackToDefault);
        Assert.Null(config.SourcePath);
    }

    [Fact]
    public void Every_key_is_bound()
    {
        using var dir = new TempDirectory();
        string cert = dir.File("tls/cert.pem");
        string key = dir.File("tls/key.pem");
        TestCertificate.WritePem(cert, key);
        string yaml = $$"""
            server:
              postgres_server_version: "16.2"
              shutdown_timeout: 45s
              memory_trim: 30s
            listeners:
              main:
                protocol: postgres
                address: "[::]:6432"
                auth: md5
                tls:
                  certificate: {{cert}}
                  key: tls/key.pem
                  required: true
                limits:
                  max_connections: 20
                  max_message_size: 512KiB
                  login_timeout: 250ms
                  idle_in_transaction_timeout: 5m
                  idle_timeout: 1h
            users:
              alice:
                scram: "{{Verifier}}"
                md5: md5{{new string('a', 32)}}
            clusters:
              duck:
                engine: duckdb
                duckdb:
                  path: data.duckdb
                  read_only: false
                  threads: 8
                  memory_limit: 2GB
                limits:
                  max_sessions: 50
                  query_timeout: 1d
              other.one:
                engine: duckdb
            groups:
              g-1:
                clusters: [duck, other.one]
            routing:
              default_group: g-1
              fallback_to_default: false
            """;

        EdgeConfig config = LoadValid(yaml, sourcePath: Path.Combine(dir.Path, "edge.yaml"));

        Assert.Equal("16.2", config.Server.PostgresServerVersion);
        Assert.Equal(TimeSpan.FromSeconds(45), config.Server.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Server.MemoryTrim);
        ListenerConfig listener = Assert.Single(config.Listeners);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 6432), listener.Endpoint);
        Assert.Equal(AuthMethod.Md5, listener.Auth);
        Assert.Equal(new TlsConfig(cert, key, true), listener.Tls);
        Assert.Equal(
            new ListenerLimits
            {
                MaxConnections = 20,
                MaxMessageSize = 512 * 1024,
                LoginTimeout = TimeSpan.FromMilliseconds(250),
                IdleInTransactionTimeout = TimeSpan.FromMinutes(5),
                IdleTimeout = TimeSpan.FromHours(1),
            },
            listener.Limits);
        Assert.Equal(Verifier, config.Users["alice"].ScramVerifier);
        Assert.Equal("md5" + new string('a', 32), config.Users["alice"].Md5Hash);
        Assert.Equal(
            new DuckDbOptions { Path = Path.Combine(dir.Path, "data.duckdb"), ReadOnly = false, Threads = 8, MemoryLimit = "2GB" },
            config.Clusters["duck"].DuckDb);
        Assert.Equal(new ClusterLimits { MaxSessions = 50, QueryTimeout = TimeSpan.FromDays(1) }, config.Clusters["duck"].Limits);
        Assert.Equal(["duck", "other.one"], config.Groups["g-1"].Clusters);
        Assert.Equal(new RoutingConfig { DefaultGroup = "g-1", FallbackToDefault = false }, config.Routing);
        Assert.Equal(Path.Combine(dir.Path, "edge.yaml"), config.SourcePath);
    }

    [Fact]
    public void All_errors_are_collected_with_paths_and_lines()
    {
        const string yaml = """
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:99999
                colour: blue
            clusters:
              duck:
                engine: duckdb
                duckdb:
                  threads: 5000
            groups:
              local:
                clusters: [duck, nope]
            routing:
              default_group: missing
            """;

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Equal(4, ErrorAt(errors, "listeners.pg.address").Line);
        Assert.Contains("65535", ErrorAt(errors, "listeners.pg.address").Message, StringComparison.Ordinal);
        Assert.Equal(5, ErrorAt(errors, "listeners.pg.colour").Line);
        Assert.Equal(10, ErrorAt(errors, "clusters.duck.duckdb.threads").Line);
        Assert.Equal("5000 is out of range (1 to 1024)", ErrorAt(errors, "clusters.duck.duckdb.threads").Message);
        Assert.Equal("unknown cluster 'nope' (defined clusters: duck)", ErrorAt(errors, "groups.local.clusters[1]").Message);
        Assert.Equal(13, ErrorAt(errors, "groups.local.clusters[1]").Line);
        Assert.Equal("unknown group 'missing' (defined groups: local)", ErrorAt(errors, "routing.default_group").Message);

        // scram-sha-256 is the default and there are no users.
        Assert.Contains("needs at least one user with a 'scram' verifier", ErrorAt(errors, "listeners.pg.auth").Message, StringComparison.Ordinal);
        Assert.Equal(6, errors.Count);

        // Reported in file order.
        for (int i = 1; i < errors.Count; i++)
        {
            Assert.True(errors[i - 1].Line <= errors[i].Line, string.Join("\n", errors));
        }
    }

    [Fact]
    public void Unknown_keys_name_the_expected_ones()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(With("""
            routng:
              default_group: local
            """));

        ConfigError error = ErrorAt(errors, "routng");
        Assert.Equal("unknown key 'routng' (expected one of: server, listeners, users, clusters, groups, routing, routes, fallback, audit)", error.Message);
        Assert.Equal("routng: unknown key 'routng' (expected one of: server, listeners, users, clusters, groups, routing, routes, fallback, audit) (line 14)", error.ToString());
    }

    [Theory]
    [InlineData("0.0.0.0:15432", "0.0.0.0")]
    [InlineData("10.1.2.3:15432", "10.1.2.3")]
    [InlineData("\"[::]:15432\"", "::")]
    public void Trust_is_rejected_on_non_loopback_addresses(string address, string shown)
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(Minimal.Replace("127.0.0.1:15432", address, StringComparison.Ordinal));

        ConfigError error = ErrorAt(errors, "listeners.pg.auth");
        Assert.StartsWith($"auth 'trust' is only allowed on loopback addresses; {shown} is not loopback", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, error.Line);
    }

    [Theory]
    [InlineData("127.0.0.1:5432")]
    [InlineData("127.9.8.7:5432")]
    [InlineData("localhost:5432")]
    [InlineData("'[::1]:5432'")]
    [InlineData("\"[::ffff:127.0.0.1]:5432\"")]
    public void Trust_is_allowed_on_loopback_addresses(string address)
    {
        LoadValid(Minimal.Replace("127.0.0.1:15432", address, StringComparison.Ordinal));
    }

    [Fact]
    public void Listeners_on_the_same_endpoint_conflict()
    {
        const string yaml = """
            listeners:
              a:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
              b:
                protocol: postgres
                address: localhost:15432
                auth: trust
              c:
                protocol: postgres
                address: 127.0.0.1:15433
                auth: trust
            clusters:
              duck: { engine: duckdb }
            groups:
              local: { clusters: [duck] }
            routing: { default_group: local }
            """;

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        ConfigError error = Assert.Single(errors);
        Assert.Equal("listeners.b.address", error.Path);
        Assert.Equal("127.0.0.1:15432 conflicts with listener 'a' on 127.0.0.1:15432", error.Message);
    }

    [Fact]
    public void A_wildcard_listener_conflicts_with_a_specific_address_on_the_same_port()
    {
        string yaml = $$"""
            listeners:
              local:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
              all:
                protocol: postgres
                address: 0.0.0.0:15432
            users:
              u: { scram: "{{Verifier}}" }
            clusters:
              duck: { engine: duckdb }
            groups:
              local: { clusters: [duck] }
            routing: { default_group: local }
            """;

        Assert.Contains("conflicts with listener 'local'", ErrorAt(LoadErrors(yaml), "listeners.all.address").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scram-sha-256", "scram", true)]
    [InlineData("scram-sha-256", "md5", false)]
    [InlineData("md5", "md5", true)]
    [InlineData("md5", "scram", false)]
    [InlineData("cleartext", "md5", true)]
    [InlineData("cleartext", "scram", true)]
    public void Password_listeners_need_a_user_with_a_matching_credential(string auth, string credential, bool valid)
    {
        string value = credential == "scram" ? Verifier : Md5Password.Hash("u", "secret");
        string yaml = Minimal.Replace("auth: trust", "auth: " + auth, StringComparison.Ordinal) + $$"""

            users:
              u:
                {{credential}}: "{{value}}"
            """;

        if (valid)
        {
            Assert.Equal(auth, LoadValid(yaml).Listeners[0].Auth switch
            {
                AuthMethod.ScramSha256 => "scram-sha-256",
                AuthMethod.Md5 => "md5",
                _ => "cleartext",
            });
        }
        else
        {
            Assert.StartsWith($"auth '{auth}' needs at least one user", ErrorAt(LoadErrors(yaml), "listeners.pg.auth").Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("scram", "SCRAM-SHA-1$4096:c2FsdA==$AA==:AA==", "starts with 'SCRAM-SHA-256$'")]
    [InlineData("scram", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA", "StoredKey must be 32 bytes")]
    [InlineData("scram", "SCRAM-SHA-256$0:c2FsdA==$AAAA:AAAA", "iteration count '0'")]
    [InlineData("scram", "SCRAM-SHA-256$4096:!!!$AAAA:AAAA", "salt")]
    [InlineData("md5", "md5ABCDEF0123456789ABCDEF0123456789", "32 lowercase hex")]
    [InlineData("md5", "md5abc", "32 lowercase hex")]
    public void Malformed_verifiers_are_rejected(string key, string value, string expected)
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(With($$"""
            users:
              u:
                {{key}}: "{{value}}"
            """));

        Assert.Contains(expected, ErrorAt(errors, "users.u." + key).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_needs_a_verifier_and_plaintext_passwords_get_a_hint()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(With("""
            users:
              bob:
                password: hunter2
            """));

        Assert.Contains("hash-password", ErrorAt(errors, "users.bob.password").Message, StringComparison.Ordinal);
        Assert.Contains("needs a password verifier", ErrorAt(errors, "users.bob").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void User_names_are_case_sensitive()
    {
        EdgeConfig config = LoadValid(With($$"""
            users:
              alice: { scram: "{{Verifier}}" }
              Alice: { md5: "{{Md5Password.Hash("Alice", "x")}}" }
            """));

        Assert.Equal(2, config.Users.Count);
        Assert.NotNull(config.Users["alice"].ScramVerifier);
        Assert.NotNull(config.Users["Alice"].Md5Hash);
        Assert.False(config.Users.ContainsKey("ALICE"));
    }

    [Theory]
    [InlineData("listeners", "bad name")]
    [InlineData("clusters", "duck!")]
    [InlineData("users", "a/b")]
    public void Names_must_use_the_allowed_characters(string section, string name)
    {
        string yaml = section switch
        {
            "listeners" => Minimal.Replace("  pg:", $"  \"{name}\":", StringComparison.Ordinal),
            "clusters" => Minimal.Replace("  duck:", $"  \"{name}\":", StringComparison.Ordinal),
            _ => With($"users:\n  \"{name}\": {{ scram: \"{Verifier}\" }}"),
        };

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Contains(errors, e => e.Path == $"{section}.{name}" && e.Message.Contains("use letters, digits, '_', '.' and '-'", StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_sections_are_reported_together()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors("server:\n  shutdown_timeout: 5s\n");

        Assert.Equal(
            [
                "missing required key 'listeners' (at least one listener)",
                "missing required key 'clusters' (at least one cluster)",
                "missing required key 'groups' (at least one group)",
                "missing required key 'routing' (with at least 'default_group')",
            ],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Empty_sections_and_missing_keys_are_errors()
    {
        const string yaml = """
            listeners: {}
            clusters:
              duck:
                duckdb: {}
            groups:
              local:
                clusters: []
              other: {}
            routing: {}
            """;

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Equal("must define at least one listener", ErrorAt(errors, "listeners").Message);
        Assert.Equal("missing required key 'engine'", ErrorAt(errors, "clusters.duck").Message);
        Assert.Equal("must list at least one cluster", ErrorAt(errors, "groups.local.clusters").Message);
        Assert.StartsWith("missing required key 'clusters'", ErrorAt(errors, "groups.other").Message, StringComparison.Ordinal);
        Assert.Equal("missing required key 'default_group'", ErrorAt(errors, "routing").Message);
    }

    [Theory]
    [InlineData("", "the config is empty")]
    [InlineData("# only a comment\n", "the config is empty")]
    [InlineData("- a\n- b\n", "expected a mapping")]
    [InlineData("a: 1\n---\nb: 2\n", "expected one YAML document")]
    public void Documents_that_are_not_one_mapping_are_rejected(string yaml, string expected)
    {
        ConfigError error = Assert.Single(LoadErrors(yaml));
        Assert.Equal(string.Empty, error.Path);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_syntax_errors_carry_the_line()
    {
        ConfigError error = Assert.Single(LoadErrors("listeners:\n  pg:\n    address: [unclosed\nclusters: {}\n"));

        Assert.StartsWith("YAML syntax error:", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Line);
    }

    [Theory]
    [InlineData("listeners:\n  pg: {\n")]
    [InlineData("listeners:\n  pg:\n    address: \"unclosed\n")]
    [InlineData("listeners:\n\tpg: 1\n")]
    [InlineData("a: b: c\n")]
    [InlineData("listeners:\n  pg:\n protocol: postgres\n")]
    [InlineData("x: *undefined\n")]
    public void Malformed_yaml_is_one_located_error(string yaml)
    {
        ConfigError error = Assert.Single(LoadErrors(yaml));

        Assert.StartsWith("YAML syntax error:", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Line, 1, yaml.Split('\n').Length);
    }

    [Fact]
    public void Mutated_configs_never_throw()
    {
        // Bad input never crashes the loader: random edits of a valid file give a result, never an exception.
        var random = new Random(7677);
        const string alphabet = " \n\t:-[]{}\"'#&*!|>%@`,?$\\aZ09";
        for (int i = 0; i < 3000; i++)
        {
            var text = new System.Text.StringBuilder(Minimal);
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                int at = random.Next(text.Length);
                if (random.Next(2) == 0)
                {
                    text.Remove(at, Math.Min(random.Next(1, 4), text.Length - at));
                }
                else
                {
                    text.Insert(at, alphabet[random.Next(alphabet.Length)]);
                }
            }

            ConfigLoadResult result = Load(text.ToString(), new Dictionary<string, string>());
            Assert.True(result.Success != (result.Errors.Count > 0), text.ToString());
        }
    }

    [Fact]
    public void Duplicate_keys_are_an_error_with_a_line()
    {
        ConfigError error = Assert.Single(LoadErrors(Minimal + "\nrouting:\n  default_group: local\n"));

        Assert.Contains("uplicate", error.Message, StringComparison.Ordinal);
        Assert.Equal(14, error.Line);
    }

    [Fact]
    public void Wrong_node_kinds_are_reported()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(Minimal
            .Replace("protocol: postgres", "protocol: [postgres]", StringComparison.Ordinal)
            .Replace("clusters: [duck]", "clusters: duck", StringComparison.Ordinal));

        Assert.Equal("expected a single value, found a list", ErrorAt(errors, "listeners.pg.protocol").Message);
        Assert.Equal("expected a list, found 'duck'", ErrorAt(errors, "groups.local.clusters").Message);
    }

    [Theory]
    [InlineData("max_connections: 0", "listeners.pg.limits.max_connections", "0 is out of range (1 to 1000000)")]
    [InlineData("max_connections: lots", "listeners.pg.limits.max_connections", "'lots' is not a whole number")]
    [InlineData("max_message_size: 1023", "listeners.pg.limits.max_message_size", "out of range (1KiB to 2GiB - 1 byte)")]
    [InlineData("max_message_size: 2GiB", "listeners.pg.limits.max_message_size", "out of range (1KiB to 2GiB - 1 byte)")]
    [InlineData("max_message_size: 64 megs", "listeners.pg.limits.max_message_size", "is not a size")]
    [InlineData("login_timeout: 0", "listeners.pg.limits.login_timeout", "must be greater than 0")]
    [InlineData("idle_timeout: -5s", "listeners.pg.limits.idle_timeout", "must not be negative")]
    [InlineData("idle_in_transaction_timeout: 10 minutes", "listeners.pg.limits.idle_in_transaction_timeout", "is not a duration")]
    public void Listener_limits_are_range_checked(string line, string path, string expected)
    {
        string yaml = Minimal.Replace("    auth: trust", "    auth: trust\n    limits:\n      " + line, StringComparison.Ordinal);

        Assert.Contains(expected, ErrorAt(LoadErrors(yaml), path).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1KiB", 1024)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("1GiB", 1 << 30)]
    [InlineData("64MB", 64_000_000)]
    public void Max_message_size_accepts_its_range(string value, int expected)
    {
        string yaml = Minimal.Replace("    auth: trust", "    auth: trust\n    limits:\n      max_message_size: " + value, StringComparison.Ordinal);

        Assert.Equal(expected, LoadValid(yaml).Listeners[0].Limits.MaxMessageSize);
    }

    [Theory]
    [InlineData("protocol: http", "listeners.pg.protocol", "unknown protocol 'http' (expected one of: postgres, mysql, trino)")]
    [InlineData("auth: kerberos", "listeners.pg.auth", "unknown auth method 'kerberos' (expected one of: trust, cleartext, md5, scram-sha-256, mysql_native_password, caching_sha2_password, password)")]
    [InlineData("auth: password", "listeners.pg.auth", "auth 'password' does not exist for a postgres listener (use trust, cleartext, md5 or scram-sha-256)")]
    [InlineData("address: db.example.com:5432", "listeners.pg.address", "'db.example.com' is not an IP address")]
    public void Listener_values_are_checked(string line, string path, string expected)
    {
        string key = line[..line.IndexOf(':', StringComparison.Ordinal)];
        string yaml = string.Join('\n', Minimal.Split('\n').Select(l => l.TrimStart().StartsWith(key + ":", StringComparison.Ordinal) ? "    " + line : l));

        Assert.StartsWith(expected, ErrorAt(LoadErrors(yaml), path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_files_must_exist_and_relative_paths_follow_the_config_file()
    {
        using var dir = new TempDirectory();
        string configPath = dir.File("conf/edge.yaml", "");
        dir.File("conf/certs/cert.pem");
        string yaml = Minimal.Replace("    auth: trust", "    auth: trust\n    tls:\n      certificate: certs/cert.pem\n      key: certs/missing.pem", StringComparison.Ordinal);

        ConfigError error = ErrorAt(LoadErrors(yaml, sourcePath: configPath), "listeners.pg.tls.key");
        Assert.Equal($"file '{Path.Combine(dir.Path, "conf", "certs", "missing.pem")}' does not exist", error.Message);

        TestCertificate.WritePem(Path.Combine(dir.Path, "conf", "certs", "cert.pem"), Path.Combine(dir.Path, "conf", "certs", "missing.pem"));
        TlsConfig tls = LoadValid(yaml, sourcePath: configPath).Listeners[0].Tls!;
        Assert.Equal(Path.Combine(dir.Path, "conf", "certs", "cert.pem"), tls.CertificatePath);
        Assert.Equal(Path.Combine(dir.Path, "conf", "certs", "missing.pem"), tls.KeyPath);
        Assert.False(tls.Required);
    }

    [Fact]
    public void Tls_needs_a_certificate_and_rejects_directories()
    {
        using var dir = new TempDirectory();
        string yaml = Minimal.Replace("    auth: trust", $"    auth: trust\n    tls:\n      key: {dir.Path}\n      required: maybe", StringComparison.Ordinal);

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Equal("missing required key 'certificate'", ErrorAt(errors, "listeners.pg.tls").Message);
        Assert.Equal($"'{dir.Path}' is a directory, not a file", ErrorAt(errors, "listeners.pg.tls.key").Message);
        Assert.Equal("'maybe' is not a boolean; use true or false", ErrorAt(errors, "listeners.pg.tls.required").Message);
    }

    [Fact]
    public void Duckdb_file_paths_need_an_existing_directory()
    {
        using var dir = new TempDirectory();
        string missing = Path.Combine(dir.Path, "nope", "db.duckdb");
        string yaml = Minimal.Replace("    engine: duckdb", $"    engine: duckdb\n    duckdb:\n      path: {missing}", StringComparison.Ordinal);

        Assert.Equal(
            $"directory '{Path.Combine(dir.Path, "nope")}' of the database file does not exist",
            ErrorAt(LoadErrors(yaml), "clusters.duck.duckdb.path").Message);

        Directory.CreateDirectory(Path.Combine(dir.Path, "nope"));
        Assert.Equal(missing, LoadValid(yaml).Clusters["duck"].DuckDb!.Path);
    }

    [Fact]
    public void Read_only_duckdb_needs_an_existing_file()
    {
        using var dir = new TempDirectory();
        string file = Path.Combine(dir.Path, "db.duckdb");
        string yaml = Minimal.Replace("    engine: duckdb", $"    engine: duckdb\n    duckdb:\n      path: {file}\n      read_only: true", StringComparison.Ordinal);

        Assert.Contains("read_only is true but the database file", ErrorAt(LoadErrors(yaml), "clusters.duck.duckdb.path").Message, StringComparison.Ordinal);

        dir.File("db.duckdb");
        Assert.True(LoadValid(yaml).Clusters["duck"].DuckDb!.ReadOnly);
    }

    [Theory]
    [InlineData("engine: spark", "clusters.duck.engine", "unknown engine 'spark' (expected one of: duckdb, postgres, mysql, trino)")]
    [InlineData("limits: { max_sessions: 0 }", "clusters.duck.limits.max_sessions", "0 is out of range (1 to 1000000)")]
    [InlineData("limits: { query_timeout: 100d }", "clusters.duck.limits.query_timeout", "too long (at most 24d)")]
    [InlineData("duckdb: { memory_limit: lots }", "clusters.duck.duckdb.memory_limit", "'lots' is not a size")]
    [InlineData("duckdb: { threads: 0 }", "clusters.duck.duckdb.threads", "0 is out of range (1 to 1024)")]
    public void Cluster_values_are_checked(string line, string path, string expected)
    {
        string yaml = line.StartsWith("engine", StringComparison.Ordinal)
            ? Minimal.Replace("    engine: duckdb", "    " + line, StringComparison.Ordinal)
            : Minimal.Replace("    engine: duckdb", "    engine: duckdb\n    " + line, StringComparison.Ordinal);

        Assert.Contains(expected, ErrorAt(LoadErrors(yaml), path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_may_not_list_a_cluster_twice()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(Minimal.Replace("[duck]", "[duck, duck]", StringComparison.Ordinal));

        Assert.Equal("cluster 'duck' is listed twice", ErrorAt(errors, "groups.local.clusters[1]").Message);
    }

    [Theory]
    [InlineData("postgres_server_version: abc", "server.postgres_server_version", "is not a version")]
    [InlineData("shutdown_timeout: soon", "server.shutdown_timeout", "is not a duration")]
    [InlineData("color: red", "server.color", "unknown key 'color' (expected one of: postgres_server_version, mysql_server_version, shutdown_timeout, memory_trim, log_level)")]
    [InlineData("memory_trim: -1s", "server.memory_trim", "must not be negative")]
    public void Server_values_are_checked(string line, string path, string expected)
    {
        Assert.Contains(expected, ErrorAt(LoadErrors(With("server:\n  " + line)), path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_are_substituted_in_values()
    {
        string yaml = Minimal
            .Replace("127.0.0.1:15432", "${EDGE_HOST:-127.0.0.1}:${EDGE_PORT}", StringComparison.Ordinal)
            + "\nserver:\n  postgres_server_version: \"${EDGE_VERSION:-15.0} $${literal}\"\n  shutdown_timeout: ${EDGE_SHUTDOWN:-}";

        EdgeConfig config = LoadValid(yaml, new Dictionary<string, string> { ["EDGE_PORT"] = "6543" });

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 6543), config.Listeners[0].Endpoint);
        Assert.Equal("15.0 ${literal}", config.Server.PostgresServerVersion);

        // An empty default means "not set": the key keeps its default.
        Assert.Equal(new ServerConfig().ShutdownTimeout, config.Server.ShutdownTimeout);
    }

    [Fact]
    public void Substituted_text_cannot_change_the_yaml_structure()
    {
        string yaml = With("server:\n  postgres_server_version: ${EVIL}");

        EdgeConfig config = LoadValid(yaml, new Dictionary<string, string> { ["EVIL"] = "16.0\nrouting:\n  default_group: other" });

        Assert.Equal("16.0\nrouting:\n  default_group: other", config.Server.PostgresServerVersion);
        Assert.Equal("local", config.Routing.DefaultGroup);
    }

    [Fact]
    public void Unset_variables_without_default_are_errors_at_their_path()
    {
        string yaml = Minimal.Replace("127.0.0.1:15432", "${EDGE_ADDRESS}", StringComparison.Ordinal)
            .Replace("default_group: local", "default_group: ${EDGE_GROUP", StringComparison.Ordinal);

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Equal("environment variable 'EDGE_ADDRESS' is not set (use ${EDGE_ADDRESS:-default} to give a default)", ErrorAt(errors, "listeners.pg.address").Message);
        Assert.StartsWith("unterminated '${'", ErrorAt(errors, "routing.default_group").Message, StringComparison.Ordinal);
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void Substitution_applies_to_list_items()
    {
        string yaml = Minimal.Replace("[duck]", "[\"${EDGE_CLUSTER}\"]", StringComparison.Ordinal);

        Assert.Equal(["duck"], LoadValid(yaml, new Dictionary<string, string> { ["EDGE_CLUSTER"] = "duck" }).Groups["local"].Clusters);
        Assert.Contains("EDGE_CLUSTER", ErrorAt(LoadErrors(yaml), "groups.local.clusters[0]").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_anchors_and_aliases_work()
    {
        const string yaml = """
            listeners:
              a:
                protocol: postgres
                address: 127.0.0.1:15432
                auth: trust
                limits: &limits
                  max_connections: 7
              b:
                protocol: postgres
                address: 127.0.0.1:15433
                auth: trust
                limits: *limits
            clusters:
              duck: { engine: duckdb }
            groups:
              local: { clusters: [duck] }
            routing: { default_group: local }
            """;

        EdgeConfig config = LoadValid(yaml);

        Assert.Equal(7, config.Listeners[1].Limits.MaxConnections);
        Assert.Equal(["a", "b"], config.Listeners.Select(l => l.Name));
    }

    [Fact]
    public void LoadFile_reports_a_missing_file_as_one_error()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "absent.yaml");

        ConfigLoadResult result = ConfigLoader.LoadFile(path);

        ConfigError error = Assert.Single(result.Errors);
        Assert.False(result.Success);
        Assert.Equal(string.Empty, error.Path);
        Assert.Equal($"config file '{path}' does not exist", error.ToString());
        Assert.Equal($"config file '{dir.Path}' is a directory", Assert.Single(ConfigLoader.LoadFile(dir.Path).Errors).Message);
    }

    [Fact]
    public void LoadFile_reads_the_file_and_records_its_path()
    {
        using var dir = new TempDirectory();
        string path = dir.File("edge.yaml", Minimal);

        ConfigLoadResult result = ConfigLoader.LoadFile(path);

        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Equal(path, result.Config.SourcePath);
    }

    [Fact]
    public void ConfigError_formats_path_message_and_line()
    {
        Assert.Equal("listeners.pg.address: bad (line 3)", new ConfigError("listeners.pg.address", "bad", 3).ToString());
        Assert.Equal("listeners.pg.address: bad", new ConfigError("listeners.pg.address", "bad").ToString());
        Assert.Equal("bad", new ConfigError(string.Empty, "bad").ToString());
    }
}
