using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Security;
using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// Binds the YAML tree into <see cref="EdgeConfig"/> section by section, then checks cross references.
/// Binding continues past errors (bad values fall back to defaults) so one run reports everything.
/// </summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] RootKeys = ["server", "listeners", "users", "clusters", "groups", "routing", "routes", "fallback", "audit"];
    private static readonly string[] ServerKeys = ["postgres_server_version", "mysql_server_version", "shutdown_timeout", "memory_trim", "log_level"];
    private static readonly string[] ListenerKeys = ["protocol", "address", "auth", "tls", "limits"];
    private static readonly string[] TlsKeys = ["certificate", "key", "required"];
    private static readonly string[] ListenerLimitKeys = ["max_connections", "max_message_size", "login_timeout", "idle_in_transaction_timeout", "idle_timeout", "client_timeout"];
    private static readonly string[] UserKeys = ["scram", "md5", "mysql_native", "bearer_token_sha256", "roles"];
    private static readonly string[] ClusterKeys = ["engine", "duckdb", "postgres", "mysql", "trino", "pool", "limits", "admission", "health", "state"];
    private static readonly string[] RemoteKeys = ["host", "port", "user", "password", "database", "tls", "ca_file"];
    private static readonly string[] PoolKeys = ["min_size", "max_size", "idle_timeout", "max_lifetime", "connect_timeout", "health_check_after_idle"];
    private static readonly string[] DuckDbKeys = ["path", "read_only", "threads", "memory_limit"];
    private static readonly string[] ClusterLimitKeys = ["max_sessions", "query_timeout"];
    private static readonly string[] GroupKeys = ["clusters", "statement_timeout", "admission", "balancing", "weights"];
    private static readonly string[] RoutingKeys = ["default_group", "fallback_to_default"];
    private static readonly string[] AuditKeys = ["enabled", "path", "include_sql", "max_sql_length", "buffer_size"];

    private const int MinMessageSize = 1024;

    private readonly YamlBinder _y;
    private readonly string _baseDirectory;

    // Where each listener's auth and address came from, for cross-checks reported at the right line.
    private readonly List<(ListenerConfig Listener, bool HasEndpoint, bool HasAuth, YamlNode? AuthNode, YamlNode? AddressNode)> _listenerNodes = [];

    public ConfigBinder(List<ConfigError> errors, Func<string, string?> getEnvironmentVariable, string baseDirectory)
    {
        _y = new YamlBinder(errors, getEnvironmentVariable);
        _baseDirectory = baseDirectory;
    }

    public EdgeConfig Bind(YamlMappingNode root, string? sourcePath, string contentHash = "")
    {
        _y.CheckKeys(root, string.Empty, RootKeys);

        ServerConfig server = BindServer(root);
        List<UserConfig> users = BindNamedMap(root, "users", "user", required: false, UserKeys, BindUser);
        List<ListenerConfig> listeners = BindNamedMap(root, "listeners", "listener", required: true, ListenerKeys, BindListener);
        List<ClusterConfig> clusters = BindNamedMap(root, "clusters", "cluster", required: true, ClusterKeys, BindCluster);
        FrozenDictionary<string, ClusterConfig> clusterMap = Freeze(clusters, static c => c.Name);
        List<GroupConfig> groups = BindNamedMap(root, "groups", "group", required: true, GroupKeys, (name, map, path) => BindGroup(name, map, path, clusterMap));
        FrozenDictionary<string, GroupConfig> groupMap = Freeze(groups, static g => g.Name);
        CheckSpills(groupMap);
        RoutingConfig routing = BindRouting(root, groupMap);
        string? fallback = BindFallback(root, groupMap);
        List<RouteRuleConfig> routes = BindRoutes(root, groupMap);
        AuditConfig audit = BindAudit(root);

        CheckListeners(users);

        return new EdgeConfig
        {
            Listeners = listeners.AsReadOnly(),
            Users = Freeze(users, static u => u.Name),
            Clusters = clusterMap,
            Groups = groupMap,
            Routing = routing,
            Routes = routes.AsReadOnly(),
            Fallback = fallback,
            Server = server,
            Audit = audit,
            SourcePath = sourcePath is null ? null : Path.GetFullPath(sourcePath),
            ContentHash = contentHash,
        };
    }

    private ServerConfig BindServer(YamlMappingNode root)
    {
        const string path = "server";
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(root, path), path);
        var defaults = new ServerConfig();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, ServerKeys);
        return new ServerConfig
        {
            PostgresServerVersion = _y.Optional(map, "postgres_server_version", path, defaults.PostgresServerVersion, TryParseServerVersion),
            MySqlServerVersion = _y.Optional(map, "mysql_server_version", path, defaults.MySqlServerVersion, TryParseServerVersion),
            ShutdownTimeout = _y.Optional(map, "shutdown_timeout", path, defaults.ShutdownTimeout, ConfigValues.TryParseDuration),
            MemoryTrim = _y.Optional(map, "memory_trim", path, defaults.MemoryTrim, ConfigValues.TryParseDuration),
            LogLevel = _y.Optional(map, "log_level", path, defaults.LogLevel, ConfigValues.TryParseLogLevel),
        };
    }

    private AuditConfig BindAudit(YamlMappingNode root)
    {
        const string path = "audit";
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(root, path), path);
        var defaults = new AuditConfig();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, AuditKeys);
        bool enabled = _y.Optional(map, "enabled", path, false, ConfigValues.TryParseBool);
        string? file = enabled
            ? _y.Required<string?>(map, "path", path, null, AuditFile)
            : _y.Optional<string?>(map, "path", path, null, AuditFile);
        return new AuditConfig
        {
            Enabled = enabled,
            Path = file,
            IncludeSql = _y.Optional(map, "include_sql", path, false, ConfigValues.TryParseBool),
            MaxSqlLength = _y.Int(map, "max_sql_length", path, defaults.MaxSqlLength, 1, 1024 * 1024),
            BufferSize = _y.Int(map, "buffer_size", path, defaults.BufferSize, 16, 16 * 1024 * 1024),
        };
    }

    /// <summary>The audit file: created or appended to by the host, so its directory must exist; relative to the config file.</summary>
    private bool AuditFile(string text, out string? value, out string? error)
    {
        value = Path.GetFullPath(text.Trim(), _baseDirectory);
        string? directory = Path.GetDirectoryName(value);
        error = Directory.Exists(value) ? $"'{value}' is a directory; give the audit file's path"
            : directory is not null && !Directory.Exists(directory) ? $"directory '{directory}' of the audit file does not exist"
            : null;
        return error is null;
    }

    private UserConfig? BindUser(string name, YamlMappingNode map, string path)
    {
        int errorsBefore = _y.ErrorCount;
        string? scram = _y.Optional<string?>(map, "scram", path, null, static (string text, out string? value, out string? error) =>
        {
            value = text;
            return ScramVerifier.TryParse(text, out _, out error);
        });
        string? md5 = _y.Optional<string?>(map, "md5", path, null, static (string text, out string? value, out string? error) =>
        {
            value = text;
            error = Md5Password.IsWellFormed(text) ? null : "an md5 hash is 'md5' followed by 32 lowercase hex digits (see 'lakeops-edge hash-password --md5 USER')";
            return error is null;
        });
        string? mysqlNative = _y.Optional<string?>(map, "mysql_native", path, null, static (string text, out string? value, out string? error) =>
        {
            value = text;
            error = MySqlNativePassword.IsWellFormed(text) ? null : "a mysql_native hash is '*' followed by 40 uppercase hex digits (see 'lakeops-edge hash-password')";
            return error is null;
        });
        string? bearer = _y.Optional<string?>(map, "bearer_token_sha256", path, null, static (string text, out string? value, out string? error) =>
        {
            value = text;
            error = text.Length == 64 && text.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0 ? null : "a bearer_token_sha256 is 64 lowercase hex digits (printf %s TOKEN | sha256sum)";
            return error is null;
        });
        if (scram is null && md5 is null && mysqlNative is null && bearer is null && _y.ErrorCount == errorsBefore)
        {
            _y.Error(path, "needs a password verifier: 'scram', 'md5', 'mysql_native' and/or 'bearer_token_sha256' (create them with 'lakeops-edge hash-password')", map);
        }

        IReadOnlyList<string> roles = StringList(YamlBinder.Get(map, "roles"), YamlBinder.Join(path, "roles"), NameCheck("role")) ?? [];
        return new UserConfig { Name = name, ScramVerifier = scram, Md5Hash = md5, MySqlNativeHash = mysqlNative, BearerTokenSha256 = bearer, Roles = roles };
    }

    private ListenerConfig? BindListener(string name, YamlMappingNode map, string path)
    {
        ListenerProtocol protocol = _y.Required(map, "protocol", path, ListenerProtocol.Postgres, ConfigValues.TryParseProtocol);
        IPEndPoint? endpoint = _y.Required<IPEndPoint?>(map, "address", path, null, ConfigValues.TryParseEndpoint);
        int errorsBefore = _y.ErrorCount;
        AuthMethod defaultAuth = protocol switch
        {
            ListenerProtocol.MySql => AuthMethod.CachingSha2Password,
            ListenerProtocol.Trino => AuthMethod.Password,
            _ => AuthMethod.ScramSha256,
        };
        AuthMethod auth = _y.Optional(map, "auth", path, defaultAuth, ConfigValues.TryParseAuth);
        bool authValid = _y.ErrorCount == errorsBefore;
        if (authValid && !AuthFits(protocol, auth))
        {
            string allowed = protocol switch
            {
                ListenerProtocol.MySql => "trust, mysql_native_password or caching_sha2_password",
                ListenerProtocol.Trino => "trust or password",
                _ => "trust, cleartext, md5 or scram-sha-256",
            };
            string kind = protocol switch { ListenerProtocol.MySql => "mysql", ListenerProtocol.Trino => "trino", _ => "postgres" };
            _y.Error(YamlBinder.Join(path, "auth"), $"auth '{ConfigValues.Name(auth)}' does not exist for a {kind} listener (use {allowed})", YamlBinder.Get(map, "auth"));
            authValid = false;
        }

        var listener = new ListenerConfig
        {
            Name = name,
            Protocol = protocol,
            Endpoint = endpoint ?? new IPEndPoint(IPAddress.Loopback, 0),
            Auth = auth,
            Tls = BindTls(map, path),
            Limits = BindListenerLimits(map, path),
        };
        _listenerNodes.Add((listener, endpoint is not null, authValid, YamlBinder.Get(map, "auth"), YamlBinder.Get(map, "address")));
        return listener;
    }

    private static bool AuthFits(ListenerProtocol protocol, AuthMethod auth) => auth switch
    {
        AuthMethod.Trust => true,
        AuthMethod.MySqlNativePassword or AuthMethod.CachingSha2Password => protocol == ListenerProtocol.MySql,
        AuthMethod.Password => protocol == ListenerProtocol.Trino,
        _ => protocol == ListenerProtocol.Postgres,
    };

    private TlsConfig? BindTls(YamlMappingNode listener, string listenerPath)
    {
        string path = YamlBinder.Join(listenerPath, "tls");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(listener, "tls"), path);
        if (map is null)
        {
            return null;
        }

        _y.CheckKeys(map, path, TlsKeys);
        string? certificate = _y.Required<string?>(map, "certificate", path, null, ReadableFile);
        string? key = _y.Optional<string?>(map, "key", path, null, ReadableFile);
        bool required = _y.Optional(map, "required", path, false, ConfigValues.TryParseBool);
        if (certificate is null)
        {
            return null;
        }

        var tls = new TlsConfig(certificate, key, required);
        CheckCertificateLoads(tls, path, map);
        return tls;
    }

    /// <summary>The listener loads these files at start and on every reload: a file it could not serve is an error here.</summary>
    private void CheckCertificateLoads(TlsConfig tls, string path, YamlMappingNode map)
    {
        try
        {
            using X509Certificate2 loaded = ListenerCertificate.Load(tls);
            if (!loaded.HasPrivateKey)
            {
                _y.Error(YamlBinder.Join(path, "certificate"), $"'{tls.CertificatePath}' holds no private key (give the key file under 'key')", YamlBinder.Get(map, "certificate"));
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            _y.Error(YamlBinder.Join(path, "certificate"), $"cannot load the certificate{(tls.KeyPath is null ? "" : " and key")}: {ex.Message}", YamlBinder.Get(map, "certificate"));
        }
    }

    private ListenerLimits BindListenerLimits(YamlMappingNode listener, string listenerPath)
    {
        string path = YamlBinder.Join(listenerPath, "limits");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(listener, "limits"), path);
        var defaults = new ListenerLimits();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, ListenerLimitKeys);
        return new ListenerLimits
        {
            MaxConnections = _y.Int(map, "max_connections", path, defaults.MaxConnections, 1, 1_000_000),
            MaxMessageSize = _y.Optional(map, "max_message_size", path, defaults.MaxMessageSize, TryParseMessageSize),
            LoginTimeout = _y.Optional(map, "login_timeout", path, defaults.LoginTimeout, TryParsePositiveDuration),
            IdleInTransactionTimeout = _y.Optional(map, "idle_in_transaction_timeout", path, defaults.IdleInTransactionTimeout, ConfigValues.TryParseDuration),
            IdleTimeout = _y.Optional(map, "idle_timeout", path, defaults.IdleTimeout, ConfigValues.TryParseDuration),
            ClientTimeout = _y.Optional(map, "client_timeout", path, defaults.ClientTimeout, TryParsePositiveDuration),
        };
    }

    private ClusterConfig? BindCluster(string name, YamlMappingNode map, string path)
    {
        EngineKind engine = _y.Required(map, "engine", path, EngineKind.DuckDb, ConfigValues.TryParseEngine);
        DuckDbOptions? duckDb = BindDuckDb(map, path);
        if (engine == EngineKind.DuckDb)
        {
            duckDb ??= new DuckDbOptions();
        }

        RemoteEngineOptions? remote = null;
        foreach ((string key, EngineKind kind, int defaultPort, string defaultUser) in RemoteSections)
        {
            YamlNode? section = YamlBinder.Get(map, key);
            if (section is not null && kind != engine)
            {
                _y.Error(YamlBinder.Join(path, key), $"section '{key}' belongs to engine '{key}', but this cluster's engine is not '{key}'", section);
            }
            else if (kind == engine)
            {
                remote = BindRemote(map, path, key, defaultPort, defaultUser);
            }
        }

        TrinoEngineOptions? trino = BindTrinoSection(map, path, engine);
        YamlNode? poolNode = YamlBinder.Get(map, "pool");
        if (poolNode is not null && remote is null && trino is null)
        {
            _y.Error(YamlBinder.Join(path, "pool"), "a pool applies only to network engines (postgres, mysql, trino)", poolNode);
        }

        return new ClusterConfig
        {
            Name = name,
            Engine = engine,
            DuckDb = duckDb,
            Remote = remote,
            Trino = trino,
            Pool = BindPool(map, path),
            Limits = BindClusterLimits(map, path),
            Admission = BindAdmission(map, path, name, isGroup: false),
            Health = BindHealth(map, path),
            State = _y.Optional(map, "state", path, ClusterAdminState.Enabled, ConfigValues.TryParseClusterState),
        };
    }

    private static readonly (string Key, EngineKind Kind, int DefaultPort, string DefaultUser)[] RemoteSections =
    [
        ("postgres", EngineKind.Postgres, 5432, "postgres"),
        ("mysql", EngineKind.MySql, 3306, "root"),
    ];

    private RemoteEngineOptions? BindRemote(YamlMappingNode cluster, string clusterPath, string key, int defaultPort, string defaultUser)
    {
        string path = YamlBinder.Join(clusterPath, key);
        YamlNode? node = YamlBinder.Get(cluster, key);
        int errorsBefore = _y.ErrorCount;
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null)
        {
            if (_y.ErrorCount == errorsBefore)
            {
                _y.Error(clusterPath, $"engine '{key}' needs a '{key}' section with at least 'host'", node ?? cluster);
            }

            return null;
        }

        _y.CheckKeys(map, path, RemoteKeys);
        EngineTlsMode tls = _y.Optional(map, "tls", path, EngineTlsMode.Disable, ConfigValues.TryParseEngineTls);
        return new RemoteEngineOptions
        {
            Host = _y.Required(map, "host", path, string.Empty, static (string text, out string value, out string? error) =>
            {
                value = text.Trim();
                error = value.Length == 0 ? "must be a host name or address" : null;
                return error is null;
            }),
            Port = _y.Int(map, "port", path, defaultPort, 1, 65535),
            User = _y.Optional(map, "user", path, defaultUser, static (string text, out string value, out string? error) =>
            {
                value = text;
                error = text.Length == 0 ? "must not be empty" : null;
                return error is null;
            }),
            Password = _y.Optional(map, "password", path, string.Empty, AnyText),
            Database = _y.Optional(map, "database", path, string.Empty, AnyText),
            Tls = tls,
            CaFile = _y.Optional<string?>(map, "ca_file", path, null, ReadableFile),
        };
    }

    private static bool AnyText(string text, out string value, out string? error)
    {
        value = text;
        error = null;
        return true;
    }

    private PoolOptions BindPool(YamlMappingNode cluster, string clusterPath)
    {
        string path = YamlBinder.Join(clusterPath, "pool");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(cluster, "pool"), path);
        var defaults = new PoolOptions();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, PoolKeys);
        int maxSize = _y.Int(map, "max_size", path, defaults.MaxSize, 1, 100_000);
        int minSize = _y.Int(map, "min_size", path, defaults.MinSize, 0, 100_000);
        if (minSize > maxSize)
        {
            _y.Error(YamlBinder.Join(path, "min_size"), $"min_size {minSize} is larger than max_size {maxSize}", YamlBinder.Get(map, "min_size"));
        }

        return new PoolOptions
        {
            MinSize = minSize,
            MaxSize = maxSize,
            IdleTimeout = _y.Optional(map, "idle_timeout", path, defaults.IdleTimeout, ConfigValues.TryParseDuration),
            MaxLifetime = _y.Optional(map, "max_lifetime", path, defaults.MaxLifetime, ConfigValues.TryParseDuration),
            ConnectTimeout = _y.Optional(map, "connect_timeout", path, defaults.ConnectTimeout, TryParsePositiveDuration),
            HealthCheckAfterIdle = _y.Optional(map, "health_check_after_idle", path, defaults.HealthCheckAfterIdle, ConfigValues.TryParseDuration),
        };
    }

    private DuckDbOptions? BindDuckDb(YamlMappingNode cluster, string clusterPath)
    {
        string path = YamlBinder.Join(clusterPath, "duckdb");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(cluster, "duckdb"), path);
        if (map is null)
        {
            return null;
        }

        _y.CheckKeys(map, path, DuckDbKeys);
        var defaults = new DuckDbOptions();
        bool readOnly = _y.Optional(map, "read_only", path, false, ConfigValues.TryParseBool);
        string databasePath = _y.Optional(map, "path", path, defaults.Path, DatabasePath);
        if (readOnly && databasePath != ":memory:" && !File.Exists(databasePath))
        {
            _y.Error(YamlBinder.Join(path, "path"), $"read_only is true but the database file '{databasePath}' does not exist", YamlBinder.Get(map, "path"));
        }

        return new DuckDbOptions
        {
            Path = databasePath,
            ReadOnly = readOnly,
            Threads = _y.IntOrNull(map, "threads", path, 1, 1024),
            MemoryLimit = _y.Optional<string?>(map, "memory_limit", path, null, static (string text, out string? value, out string? error) =>
            {
                // Passed to DuckDB as written; checked here so a typo fails at load, not at first query.
                value = text.Trim();
                return ConfigValues.TryParseSize(text, out _, out error);
            }),
        };
    }

    private ClusterLimits BindClusterLimits(YamlMappingNode cluster, string clusterPath)
    {
        string path = YamlBinder.Join(clusterPath, "limits");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(cluster, "limits"), path);
        var defaults = new ClusterLimits();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, ClusterLimitKeys);
        return new ClusterLimits
        {
            MaxSessions = _y.Int(map, "max_sessions", path, defaults.MaxSessions, 1, 1_000_000),
            QueryTimeout = _y.Optional(map, "query_timeout", path, defaults.QueryTimeout, ConfigValues.TryParseDuration),
        };
    }

    private GroupConfig? BindGroup(string name, YamlMappingNode map, string path, FrozenDictionary<string, ClusterConfig> clusters)
    {
        string listPath = YamlBinder.Join(path, "clusters");
        YamlNode? node = YamlBinder.Get(map, "clusters");
        int errorsBefore = _y.ErrorCount;
        YamlSequenceNode? sequence = _y.AsSequence(node, listPath);
        var members = new List<string>();
        if (sequence is null)
        {
            if (_y.ErrorCount == errorsBefore)
            {
                _y.Error(path, "missing required key 'clusters' (a non-empty list of cluster names)", node ?? map);
            }

            return new GroupConfig { Name = name, Clusters = members };
        }

        TimeSpan statementTimeout = _y.Optional(map, "statement_timeout", path, TimeSpan.Zero, ConfigValues.TryParseDuration);

        if (sequence.Children.Count == 0)
        {
            _y.Error(listPath, "must list at least one cluster", sequence);
        }

        for (int i = 0; i < sequence.Children.Count; i++)
        {
            string itemPath = $"{listPath}[{i}]";
            YamlNode item = sequence.Children[i];
            if (!_y.TryText(item, itemPath, out string? cluster))
            {
                continue;
            }

            if (string.IsNullOrEmpty(cluster))
            {
                _y.Error(itemPath, "must be a cluster name", item);
            }
            else if (!clusters.ContainsKey(cluster))
            {
                _y.Error(itemPath, $"unknown cluster '{cluster}' (defined clusters: {NameList(clusters.Keys)})", item);
            }
            else if (members.Contains(cluster))
            {
                _y.Error(itemPath, $"cluster '{cluster}' is listed twice", item);
            }
            else
            {
                members.Add(cluster);
            }
        }

        (BalancingStrategy balancing, IReadOnlyList<int> weights) = BindBalancing(map, path, members);
        return new GroupConfig
        {
            Name = name,
            Clusters = members.AsReadOnly(),
            StatementTimeout = statementTimeout,
            Admission = BindAdmission(map, path, name, isGroup: true),
            Balancing = balancing,
            Weights = weights,
        };
    }

    private RoutingConfig BindRouting(YamlMappingNode root, FrozenDictionary<string, GroupConfig> groups)
    {
        const string path = "routing";
        YamlNode? node = YamlBinder.Get(root, path);
        int errorsBefore = _y.ErrorCount;
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null)
        {
            if (_y.ErrorCount == errorsBefore)
            {
                _y.Error(string.Empty, "missing required key 'routing' (with at least 'default_group')", node);
            }

            return new RoutingConfig { DefaultGroup = string.Empty };
        }

        _y.CheckKeys(map, path, RoutingKeys);
        string defaultGroup = _y.Required(map, "default_group", path, string.Empty, static (string text, out string value, out string? error) =>
        {
            value = text;
            error = null;
            return true;
        });
        if (defaultGroup.Length > 0 && !groups.ContainsKey(defaultGroup))
        {
            _y.Error(YamlBinder.Join(path, "default_group"), $"unknown group '{defaultGroup}' (defined groups: {NameList(groups.Keys)})", YamlBinder.Get(map, "default_group"));
        }

        return new RoutingConfig
        {
            DefaultGroup = defaultGroup,
            FallbackToDefault = _y.Optional(map, "fallback_to_default", path, true, ConfigValues.TryParseBool),
        };
    }

    /// <summary>Cross-checks between listeners, and between listeners and users.</summary>
    private void CheckListeners(List<UserConfig> users)
    {
        for (int i = 0; i < _listenerNodes.Count; i++)
        {
            (ListenerConfig listener, bool hasEndpoint, bool hasAuth, YamlNode? authNode, YamlNode? addressNode) = _listenerNodes[i];
            string path = "listeners." + listener.Name;
            IPAddress address = listener.Endpoint.Address;

            if (hasEndpoint && hasAuth && listener.Auth == AuthMethod.Trust && !ConfigValues.IsLoopback(address))
            {
                _y.Error(
                    path + ".auth",
                    $"auth 'trust' is only allowed on loopback addresses; {address} is not loopback (use scram-sha-256 and add users, or listen on 127.0.0.1)",
                    authNode);
            }

            if (hasAuth && listener.Auth != AuthMethod.Trust && !HasUserFor(listener.Auth, users))
            {
                string need = listener.Auth switch
                {
                    AuthMethod.ScramSha256 => "at least one user with a 'scram' verifier",
                    AuthMethod.Md5 => "at least one user with an 'md5' hash",
                    AuthMethod.MySqlNativePassword => "at least one user with a 'mysql_native' hash",
                    AuthMethod.CachingSha2Password => "at least one user with a 'scram' verifier (caching_sha2_password checks passwords against it)",
                    AuthMethod.Password => "at least one user with a 'scram', 'md5', 'mysql_native' or 'bearer_token_sha256'",
                    _ => "at least one user",
                };
                string hint = authNode is null ? " (scram-sha-256 is the default when 'auth' is not set)" : string.Empty;
                _y.Error(path + ".auth", $"auth '{ConfigValues.Name(listener.Auth)}' needs {need} under 'users'{hint}", authNode ?? addressNode);
            }

            for (int j = 0; j < i && hasEndpoint; j++)
            {
                ListenerConfig other = _listenerNodes[j].Listener;
                if (_listenerNodes[j].HasEndpoint && Overlaps(listener.Endpoint, other.Endpoint))
                {
                    _y.Error(path + ".address", $"{listener.Endpoint} conflicts with listener '{other.Name}' on {other.Endpoint}", addressNode);
                }
            }
        }
    }

    private static bool HasUserFor(AuthMethod auth, List<UserConfig> users)
    {
        foreach (UserConfig user in users)
        {
            bool usable = auth switch
            {
                AuthMethod.ScramSha256 or AuthMethod.CachingSha2Password => user.ScramVerifier is not null,
                AuthMethod.Md5 => user.Md5Hash is not null,
                AuthMethod.MySqlNativePassword => user.MySqlNativeHash is not null,
                AuthMethod.Password => user.ScramVerifier is not null || user.Md5Hash is not null || user.MySqlNativeHash is not null || user.BearerTokenSha256 is not null,
                _ => user.ScramVerifier is not null || user.Md5Hash is not null,
            };
            if (usable)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Same port and the same address, or a wildcard of the same family (the second bind would fail).</summary>
    private static bool Overlaps(IPEndPoint a, IPEndPoint b)
    {
        if (a.Port != b.Port)
        {
            return false;
        }

        if (a.Address.Equals(b.Address))
        {
            return true;
        }

        if (a.AddressFamily != b.AddressFamily)
        {
            return false;
        }

        IPAddress any = a.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        return a.Address.Equals(any) || b.Address.Equals(any);
    }

    /// <summary>
    /// Binds a "name: { ... }" section. Items with bad names or non-mapping values are reported and skipped;
    /// unknown keys inside items are checked here so each binder only reads its keys.
    /// </summary>
    private List<T> BindNamedMap<T>(YamlMappingNode root, string key, string what, bool required, string[] itemKeys, Func<string, YamlMappingNode, string, T?> bindItem)
        where T : class
    {
        var items = new List<T>();
        YamlNode? node = YamlBinder.Get(root, key);
        int errorsBefore = _y.ErrorCount;
        YamlMappingNode? map = _y.AsMapping(node, key);
        if (map is null)
        {
            if (required && _y.ErrorCount == errorsBefore)
            {
                _y.Error(string.Empty, $"missing required key '{key}' (at least one {what})", node);
            }

            return items;
        }

        if (required && map.Children.Count == 0)
        {
            _y.Error(key, $"must define at least one {what}", map);
        }

        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is not YamlScalarNode { Value: { } name })
            {
                _y.Error(key, $"{what} names must be strings, found {YamlBinder.Describe(pair.Key)}", pair.Key);
                continue;
            }

            string path = YamlBinder.Join(key, name);
            if (!ConfigValues.IsValidName(name))
            {
                _y.Error(path, $"invalid {what} name '{name}': use letters, digits, '_', '.' and '-'", pair.Key);
                continue;
            }

            int itemErrorsBefore = _y.ErrorCount;
            YamlMappingNode? itemMap = _y.AsMapping(pair.Value, path);
            if (itemMap is null)
            {
                if (_y.ErrorCount == itemErrorsBefore)
                {
                    _y.Error(path, $"expected a mapping with keys: {string.Join(", ", itemKeys)}", pair.Value);
                }

                continue;
            }

            _y.CheckKeys(itemMap, path, itemKeys);
            if (bindItem(name, itemMap, path) is { } item)
            {
                items.Add(item);
            }
        }

        return items;
    }

    private static FrozenDictionary<string, T> Freeze<T>(List<T> items, Func<T, string> name)
    {
        var dictionary = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        foreach (T item in items)
        {
            dictionary[name(item)] = item;
        }

        return dictionary.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string NameList(IEnumerable<string> names)
    {
        string list = string.Join(", ", names);
        return list.Length == 0 ? "none" : list;
    }

    private static bool TryParseServerVersion(string text, out string value, out string? error)
    {
        // Clients (JDBC, Npgsql, psql) parse the leading "major.minor" to pick catalog queries.
        value = text.Trim();
        if (value.Length == 0 || !char.IsAsciiDigit(value[0]))
        {
            error = $"'{text}' is not a version; it must start with digits, e.g. \"15.0\" or \"8.0.36\" (clients parse it)";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryParseMessageSize(string text, out int value, out string? error)
    {
        value = 0;
        if (!ConfigValues.TryParseSize(text, out long bytes, out error))
        {
            return false;
        }

        if (bytes is < MinMessageSize or > int.MaxValue)
        {
            error = $"'{text}' is out of range (1KiB to 2GiB - 1 byte)";
            return false;
        }

        value = (int)bytes;
        return true;
    }

    private static bool TryParsePositiveDuration(string text, out TimeSpan value, out string? error)
    {
        if (!ConfigValues.TryParseDuration(text, out value, out error))
        {
            return false;
        }

        if (value <= TimeSpan.Zero)
        {
            // A zero login, connect, queue or health timeout would let a wait last forever.
            error = "must be greater than 0";
            return false;
        }

        return true;
    }

    /// <summary>A file that must exist and be readable now (the host loads it); relative paths are relative to the config file.</summary>
    private bool ReadableFile(string text, out string? value, out string? error)
    {
        value = Path.GetFullPath(text, _baseDirectory);
        if (!File.Exists(value))
        {
            error = Directory.Exists(value) ? $"'{value}' is a directory, not a file" : $"file '{value}' does not exist";
            return false;
        }

        try
        {
            using var stream = new FileStream(value, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"file '{value}' is not readable: {ex.Message}";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>":memory:" or a file whose directory exists; relative paths are relative to the config file.</summary>
    private bool DatabasePath(string text, out string value, out string? error)
    {
        error = null;
        if (text == ":memory:")
        {
            value = text;
            return true;
        }

        value = Path.GetFullPath(text, _baseDirectory);
        string? directory = Path.GetDirectoryName(value);
        if (directory is not null && !Directory.Exists(directory))
        {
            error = $"directory '{directory}' of the database file does not exist";
            return false;
        }

        if (Directory.Exists(value))
        {
            error = $"'{value}' is a directory; give the database file's path";
            return false;
        }

        return true;
    }
}
