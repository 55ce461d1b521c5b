using System.Collections.Frozen;
using System.Net;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// The whole, validated configuration. Immutable: a reload builds a new instance and swaps it
/// in atomically (see <see cref="ConfigStore"/>); in-flight work keeps the instance it started with.
/// </summary>
public sealed class EdgeConfig
{
    public required IReadOnlyList<ListenerConfig> Listeners { get; init; }

    public required FrozenDictionary<string, UserConfig> Users { get; init; }

    public required FrozenDictionary<string, ClusterConfig> Clusters { get; init; }

    public required FrozenDictionary<string, GroupConfig> Groups { get; init; }

    public required RoutingConfig Routing { get; init; }

    /// <summary>The <c>routes:</c> rules, in order (first match wins). Empty: every query takes the fallback.</summary>
    public IReadOnlyList<RouteRuleConfig> Routes { get; init; } = [];

    /// <summary>
    /// <c>fallback:</c>, the group for queries no rule decides. Null keeps the database-name behaviour:
    /// the group named like the database, else routing.default_group (see <see cref="RoutingConfig"/>).
    /// </summary>
    public string? Fallback { get; init; }

    public required ServerConfig Server { get; init; }

    /// <summary><c>audit:</c>, the per-query audit log (off by default).</summary>
    public AuditConfig Audit { get; init; } = new();

    /// <summary>The file the snapshot was read from, if any (for messages).</summary>
    public string? SourcePath { get; init; }

    /// <summary>The listener named <paramref name="name"/>, or null (an index loop: called per connection, no enumerator box).</summary>
    public ListenerConfig? FindListener(string name)
    {
        for (int i = 0; i < Listeners.Count; i++)
        {
            if (Listeners[i].Name == name)
            {
                return Listeners[i];
            }
        }

        return null;
    }

    /// <summary>
    /// Short hex SHA-256 of the YAML text the snapshot was bound from (before ${VAR} substitution): names the
    /// revision in logs and in <c>lakeops-edge validate</c>, so an operator can tell which file is live.
    /// </summary>
    public string ContentHash { get; init; } = "";
}

/// <summary>Process-wide settings.</summary>
public sealed record ServerConfig
{
    /// <summary>Version reported to PostgreSQL clients as server_version (clients pick catalog queries by it).</summary>
    public string PostgresServerVersion { get; init; } = "15.0";

    /// <summary>Version reported to MySQL clients in the handshake and as @@version (connectors pick features by it).</summary>
    public string MySqlServerVersion { get; init; } = "8.0.36-LakeOps-Edge";

    /// <summary>How long a graceful shutdown waits for sessions to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>memory_trim</c>: how long the process must be quiet before memory a burst left committed goes back to
    /// the OS (see MemoryTrimmer in the host); zero turns it off.
    /// </summary>
    public TimeSpan MemoryTrim { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>log_level</c>: null keeps the level of the command line (--log-level, default info); a reload applies it.</summary>
    public Diagnostics.LogLevel? LogLevel { get; init; }
}

public enum ListenerProtocol
{
    Postgres,
    MySql,

    /// <summary>Trino's client HTTP protocol (POST /v1/statement, nextUri paging).</summary>
    Trino,
}

public enum AuthMethod
{
    /// <summary>No password; allowed only on loopback addresses.</summary>
    Trust,
    Cleartext,
    Md5,
    ScramSha256,

    /// <summary>MySQL: SHA1 challenge-response against the user's mysql_native hash.</summary>
    MySqlNativePassword,

    /// <summary>
    /// MySQL 8 default: SHA-256 challenge-response from an in-memory cache, filled by one full
    /// authentication (password over TLS or RSA) checked against the user's SCRAM verifier.
    /// </summary>
    CachingSha2Password,

    /// <summary>
    /// Trino (HTTP): Basic auth, the password checked against the user's scram / md5 / mysql_native verifier,
    /// or a Bearer token checked against the user's bearer_token_sha256.
    /// </summary>
    Password,
}

/// <summary>A front door: one protocol on one address.</summary>
public sealed record ListenerConfig
{
    public required string Name { get; init; }

    public required ListenerProtocol Protocol { get; init; }

    public required IPEndPoint Endpoint { get; init; }

    public AuthMethod Auth { get; init; } = AuthMethod.ScramSha256;

    public TlsConfig? Tls { get; init; }

    public ListenerLimits Limits { get; init; } = new();
}

public sealed record TlsConfig(string CertificatePath, string? KeyPath, bool Required);

public sealed record ListenerLimits
{
    public int MaxConnections { get; init; } = 1000;

    public int MaxMessageSize { get; init; } = 64 * 1024 * 1024;

    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Zero disables the timeout.</summary>
    public TimeSpan IdleInTransactionTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Zero disables the timeout.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Trino: a query whose client asked for no page for this long is cancelled and forgotten.</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>A user; passwords are stored only as a SCRAM-SHA-256 verifier and/or an md5 hash.</summary>
public sealed record UserConfig
{
    public required string Name { get; init; }

    /// <summary>"SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey" as PostgreSQL stores it.</summary>
    public string? ScramVerifier { get; init; }

    /// <summary>"md5" + hex(md5(password + username)) as PostgreSQL stores it.</summary>
    public string? Md5Hash { get; init; }

    /// <summary>"*" + HEX(SHA1(SHA1(password))) as MySQL stores mysql_native_password.</summary>
    public string? MySqlNativeHash { get; init; }

    /// <summary>Trino Bearer auth: lowercase hex SHA-256 of the user's token (the token itself is never stored).</summary>
    public string? BearerTokenSha256 { get; init; }

    /// <summary>Roles/groups of the user, for routing rules (<c>when: {role: analysts}</c>).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];
}

public enum EngineKind
{
    DuckDb,
    Postgres,

    /// <summary>Any MySQL-wire engine: MySQL, MariaDB, StarRocks, Doris, TiDB.</summary>
    MySql,

    /// <summary>A Trino (or Presto-compatible) coordinator, over its client HTTP protocol.</summary>
    Trino,
}

/// <summary>An engine instance.</summary>
public sealed record ClusterConfig
{
    public required string Name { get; init; }

    public required EngineKind Engine { get; init; }

    public DuckDbOptions? DuckDb { get; init; }

    /// <summary>Where and as whom to connect; set for network engines (postgres, mysql).</summary>
    public RemoteEngineOptions? Remote { get; init; }

    /// <summary>Coordinator address, credentials and forwarded headers; set for engine trino.</summary>
    public TrinoEngineOptions? Trino { get; init; }

    /// <summary>Server connection pool of a network engine.</summary>
    public PoolOptions Pool { get; init; } = new();

    public ClusterLimits Limits { get; init; } = new();

    /// <summary>Admission limits of this cluster (all groups together); null means no limit.</summary>
    public AdmissionConfig? Admission { get; init; }

    /// <summary><c>health:</c> probes and circuit breaker.</summary>
    public HealthOptions Health { get; init; } = new();

    /// <summary><c>state:</c> enabled, draining or disabled (changed by a config reload).</summary>
    public ClusterAdminState State { get; init; } = ClusterAdminState.Enabled;
}

/// <summary>TLS from Edge to an engine.</summary>
public enum EngineTlsMode
{
    /// <summary>Plain TCP.</summary>
    Disable,

    /// <summary>TLS when the server offers it, plain otherwise; the certificate is not verified.</summary>
    Prefer,

    /// <summary>TLS or fail; the certificate is not verified (use verify-full to check it).</summary>
    Require,

    /// <summary>TLS with the server certificate checked against the system roots (or ca_file) and the host name.</summary>
    VerifyFull,
}

/// <summary>A network engine's address and the credentials Edge uses for it (clients never see them).</summary>
public sealed record RemoteEngineOptions
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    public required string User { get; init; }

    /// <summary>Sent with whatever method the server asks for (SCRAM, md5, cleartext, mysql_native, caching_sha2).</summary>
    public string Password { get; init; } = "";

    /// <summary>Database (PostgreSQL) or default schema (MySQL); empty means the server's default.</summary>
    public string Database { get; init; } = "";

    public EngineTlsMode Tls { get; init; } = EngineTlsMode.Disable;

    /// <summary>CA bundle for verify-full; null uses the system roots.</summary>
    public string? CaFile { get; init; }
}

/// <summary>
/// Server connections of one cluster. Transaction pooling: a client holds a server connection
/// for one transaction (or one statement outside a transaction), then it goes back to the pool.
/// </summary>
public sealed record PoolOptions
{
    /// <summary>Connections opened at start and kept open.</summary>
    public int MinSize { get; init; }

    /// <summary>Most server connections at once; borrowers beyond it wait (up to connect_timeout).</summary>
    public int MaxSize { get; init; } = 64;

    /// <summary>Idle connections above min_size close after this long. Zero keeps them.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Connections are closed (when returned) after this age. Zero means no limit.</summary>
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Limit for opening a connection, and for waiting for a free one when the pool is full.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connection idle for longer than this is checked (a round trip) before it is lent out.
    /// Zero checks on every borrow; it costs one round trip per transaction.
    /// </summary>
    public TimeSpan HealthCheckAfterIdle { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record DuckDbOptions
{
    /// <summary>Database file, or ":memory:" for an in-memory database shared by the cluster's sessions.</summary>
    public string Path { get; init; } = ":memory:";

    public bool ReadOnly { get; init; }

    /// <summary>DuckDB threads; null lets DuckDB decide.</summary>
    public int? Threads { get; init; }

    /// <summary>DuckDB memory_limit, e.g. "2GB"; null lets DuckDB decide.</summary>
    public string? MemoryLimit { get; init; }
}

public sealed record ClusterLimits
{
    /// <summary>Maximum concurrent engine sessions on this cluster.</summary>
    public int MaxSessions { get; init; } = 1000;

    /// <summary>Zero disables the timeout.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.Zero;
}

/// <summary>A named set of clusters that serve the same data.</summary>
public sealed record GroupConfig
{
    public required string Name { get; init; }

    public required IReadOnlyList<string> Clusters { get; init; }

    /// <summary>Longest a statement of this group may run before it is cancelled. Zero disables the limit.</summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Admission limits of this group (max running, queue, overflow); null means no limit.</summary>
    public AdmissionConfig? Admission { get; init; }

    /// <summary><c>balancing:</c> how a query picks among the eligible clusters.</summary>
    public BalancingStrategy Balancing { get; init; } = BalancingStrategy.RoundRobin;

    /// <summary>
    /// <c>weights:</c> with <see cref="BalancingStrategy.Weighted"/>, one weight per entry of <see cref="Clusters"/>
    /// (same order); empty otherwise.
    /// </summary>
    public IReadOnlyList<int> Weights { get; init; } = [];
}

/// <summary>
/// Routing: a client's database name selects the group of that name; other names go to the default
/// group (rules arrive in a later release).
/// </summary>
public sealed record RoutingConfig
{
    public required string DefaultGroup { get; init; }

    /// <summary>When false, a database name that is not a group is rejected instead of defaulted.</summary>
    public bool FallbackToDefault { get; init; } = true;
}

/// <summary>
/// The per-query audit log: one JSON line per routed statement (which rule, group, cluster, outcome,
/// timings). Statement text is left out unless <see cref="IncludeSql"/> (it may hold secrets).
/// </summary>
public sealed record AuditConfig
{
    public const int DefaultMaxSqlLength = 4096;
    public const int DefaultBufferSize = 65536;

    public bool Enabled { get; init; }

    /// <summary>The JSON-lines file, appended to (absolute after loading); required when enabled.</summary>
    public string? Path { get; init; }

    /// <summary>Adds the statement text to each record, cut to <see cref="MaxSqlLength"/> characters.</summary>
    public bool IncludeSql { get; init; }

    public int MaxSqlLength { get; init; } = DefaultMaxSqlLength;

    /// <summary>Records held in memory for the writer; beyond it records are dropped (and counted), never waited for.</summary>
    public int BufferSize { get; init; } = DefaultBufferSize;
}
