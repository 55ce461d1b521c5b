namespace LakeOps.Edge.Core.Config;

/// <summary>
/// <c>clusters.X.trino</c>: where the coordinator is, how Edge authenticates to it, and which client
/// headers travel on. Clients never see the credentials.
/// </summary>
public sealed record TrinoEngineOptions
{
    /// <summary>Request headers a Trino client's query carries on to the coordinator by default (passthrough).</summary>
    public static readonly IReadOnlyList<string> DefaultForwardHeaders =
    [
        "X-Trino-Catalog", "X-Trino-Schema", "X-Trino-Source", "X-Trino-Client-Tags", "X-Trino-Client-Info",
        "X-Trino-Session", "X-Trino-Time-Zone", "X-Trino-Language", "X-Trino-Prepared-Statement",
        "X-Trino-Transaction-Id", "X-Trino-Trace-Token", "X-Trino-Role", "X-Trino-Path",
        "X-Trino-Client-Capabilities", "X-Trino-Resource-Estimate",
    ];

    public required string Host { get; init; }

    /// <summary>8080 by default (443 with tls).</summary>
    public required int Port { get; init; }

    /// <summary>Disable = http; require = https without certificate checks; verify-full = https checked (ca_file or system roots).</summary>
    public EngineTlsMode Tls { get; init; } = EngineTlsMode.Disable;

    public string? CaFile { get; init; }

    /// <summary>X-Trino-User when the client's user is not forwarded, and the Basic auth user.</summary>
    public string User { get; init; } = "lakeops-edge";

    /// <summary>Basic auth password; null sends no Basic credentials.</summary>
    public string? Password { get; init; }

    /// <summary>Bearer token (JWT/OAuth2 access token); wins over <see cref="Password"/>.</summary>
    public string? AccessToken { get; init; }

    /// <summary>Send the client's user as X-Trino-User (the coordinator must allow Edge's user to impersonate).</summary>
    public bool ForwardUser { get; init; }

    /// <summary>Default catalog and schema of new sessions (X-Trino-Catalog/-Schema); null leaves them unset.</summary>
    public string? Catalog { get; init; }

    public string? Schema { get; init; }

    /// <summary>X-Trino-Source when the client sends none.</summary>
    public string Source { get; init; } = "lakeops-edge";

    /// <summary>X-Trino-Client-Tags added to every query.</summary>
    public IReadOnlyList<string> ClientTags { get; init; } = [];

    /// <summary>Session properties (X-Trino-Session) sent with every query; the client's own win on conflicts.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SessionProperties { get; init; } = [];

    /// <summary>Client request headers forwarded on the passthrough path (case-insensitive names).</summary>
    public IReadOnlyList<string> ForwardHeaders { get; init; } = DefaultForwardHeaders;

    /// <summary>Longest wait for one HTTP response from the coordinator (Trino long-polls up to ~1 s per page).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Rows per Arrow batch on the Arrow path (a Trino page may be split into several batches).</summary>
    public int BatchRows { get; init; } = 4096;
}
