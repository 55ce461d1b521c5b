using System.Collections.Frozen;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing;

/// <summary>
/// Everything a routing decision may look at. A session keeps one instance and updates it as its
/// state changes (SET edge.tags, USE db, ...); setting <see cref="Sql"/> for the next statement drops the
/// previous statement's analysis. Not thread-safe: one session, one statement at a time.
/// </summary>
public sealed class RouteRequest
{
    /// <summary>An empty property map (shared; sessions without rules keep no properties).</summary>
    public static readonly IReadOnlyDictionary<string, string> NoProperties =
        FrozenDictionary.ToFrozenDictionary(Array.Empty<KeyValuePair<string, string>>(), StringComparer.OrdinalIgnoreCase);

    private string _sql = "";
    private SqlSyntax _syntax;
    private SqlAnalysis? _analysis;

    /// <summary>Front door: "postgres", "mysql", "trino", "flight_sql".</summary>
    public string Protocol { get; set; } = "";

    /// <summary>The listener's name from the config.</summary>
    public string Listener { get; set; } = "";

    public string User { get; set; } = "";

    /// <summary>The user's roles (users.NAME.roles).</summary>
    public IReadOnlyList<string> Roles { get; set; } = [];

    /// <summary>PG database, MySQL current database, Trino catalog.</summary>
    public string Database { get; set; } = "";

    /// <summary>Current schema (PG first search_path entry, MySQL current database, Trino schema); qualifies bare table names for table globs.</summary>
    public string Schema { get; set; } = "";

    /// <summary>PG application_name, MySQL program_name attribute, Trino X-Trino-Source.</summary>
    public string Application { get; set; } = "";

    /// <summary>Client tags (edge.tags, @edge_tags, X-Trino-Client-Tags). Hint tags in the SQL count too.</summary>
    public IReadOnlyList<string> Tags { get; set; } = [];

    /// <summary>Session properties; give a dictionary with <see cref="StringComparer.OrdinalIgnoreCase"/> keys.</summary>
    public IReadOnlyDictionary<string, string> Session { get; set; } = NoProperties;

    /// <summary>HTTP headers (Trino); give a dictionary with <see cref="StringComparer.OrdinalIgnoreCase"/> keys.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; set; } = NoProperties;

    /// <summary>The statement text. Setting it drops the cached analysis.</summary>
    public string Sql
    {
        get => _sql;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!ReferenceEquals(value, _sql))
            {
                _sql = value;
                _analysis = null;
            }
        }
    }

    public SqlSyntax Syntax
    {
        get => _syntax;
        set
        {
            if (value != _syntax)
            {
                _syntax = value;
                _analysis = null;
            }
        }
    }

    /// <summary>The statement's analysis, computed on first use and shared by every condition (and the audit record).</summary>
    public SqlAnalysis Analysis
    {
        get => _analysis ??= SqlAnalysis.Analyze(_sql, _syntax);
        set => _analysis = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>True once <see cref="Analysis"/> has been computed for the current text.</summary>
    public bool IsAnalyzed => _analysis is not null;

    // Made by the first tags-only rule that matches: most sessions never have one.
    private List<string>? _addedTags;

    /// <summary>Tags added by tags-only rules during the last decision (reused; valid until the next decision on this request).</summary>
    internal IReadOnlyList<string> AddedTags => (IReadOnlyList<string>?)_addedTags ?? [];

    internal void ClearAddedTags() => _addedTags?.Clear();

    internal void AddTags(string[] tags)
    {
        if (tags.Length > 0)
        {
            (_addedTags ??= []).AddRange(tags);
        }
    }

    /// <summary>A case-insensitive property map for <see cref="Session"/> or <see cref="Headers"/>.</summary>
    public static Dictionary<string, string> NewProperties() => new(StringComparer.OrdinalIgnoreCase);
}
