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

    public required ServerConfig Server { get; init; }

    /// <summary>The file the snapshot was read from, if any (for messages).</summary>
    public string? SourcePath { get; init; }
}

/// <summary>Process-wide settings.</summary>
public sealed record ServerConfig
{
    /// <summary>Version reported to PostgreSQL clients as server_version (clients pick catalog queries by it).</summary>
    public string PostgresServerVersion { get; init; } = "15.0";

    /// <summary>How long a graceful shutdown waits for sessions to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

public enum ListenerProtocol
{
    Postgres,
}

public enum AuthMethod
{
    /// <summary>No password; allowed only on loopback addresses.</summary>
    Trust,
    Cleartext,
    Md5,
    ScramSha256,
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
}

/// <summary>A user; passwords are stored only as a SCRAM-SHA-256 verifier and/or an md5 hash.</summary>
public sealed record UserConfig
{
    public required string Name { get; init; }

    /// <summary>"SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey" as PostgreSQL stores it.</summary>
    public string? ScramVerifier { get; init; }

    /// <summary>"md5" + hex(md5(password + username)) as PostgreSQL stores it.</summary>
    public string? Md5Hash { get; init; }
}

public enum EngineKind
{
    DuckDb,
}

/// <summary>An engine instance.</summary>
public sealed record ClusterConfig
{
    public required string Name { get; init; }

    public required EngineKind Engine { get; init; }

    public DuckDbOptions? DuckDb { get; init; }

    public ClusterLimits Limits { get; init; } = new();
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
