using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Routing;

/// <summary>
/// Where a query (or session) goes and why: the group, or the deny message. A struct over a
/// precomputed <see cref="RouteOutcome"/>, so deciding allocates nothing.
/// </summary>
public readonly struct RouteDecision
{
    private static readonly string[] NoTags = [];

    private readonly RouteOutcome? _outcome;
    private readonly IReadOnlyList<string>? _addedTags;

    public RouteDecision(GroupConfig? group, string reason)
        : this(new RouteOutcome(RouteOutcome.FallbackName, group, group is null ? reason : null, reason), 0, null)
    {
    }

    internal RouteDecision(RouteOutcome outcome, ulong fingerprint, IReadOnlyList<string>? addedTags)
    {
        _outcome = outcome;
        Fingerprint = fingerprint;
        _addedTags = addedTags;
    }

    /// <summary>The chosen group; null when the query is denied.</summary>
    public GroupConfig? Group => _outcome?.Group;

    public bool IsDenied => Group is null;

    /// <summary>The text the client sees when denied (null otherwise).</summary>
    public string? DenyMessage => _outcome?.DenyMessage;

    /// <summary>The rule that decided, or "fallback".</summary>
    public string RuleName => _outcome?.RuleName ?? RouteOutcome.FallbackName;

    /// <summary>True when no rule decided (the fallback stage chose, or refused an unknown database).</summary>
    public bool IsFallback => _outcome is null || ReferenceEquals(_outcome.RuleName, RouteOutcome.FallbackName);

    /// <summary>One line for logs and audit: which rule (or fallback) and what it chose.</summary>
    public string Reason => _outcome?.Reason ?? "";

    /// <summary>The statement fingerprint (0 for session-level decisions without SQL).</summary>
    public ulong Fingerprint { get; }

    /// <summary>
    /// Tags added by tags rules on the way (a view of the request's list: valid until the request
    /// is routed again; copy it to keep it).
    /// </summary>
    public IReadOnlyList<string> AddedTags => _addedTags ?? NoTags;

    public override string ToString() => Reason;
}

/// <summary>One possible result, built once per rule (and per split target) when the rules are compiled.</summary>
internal sealed class RouteOutcome(string ruleName, GroupConfig? group, string? denyMessage, string reason)
{
    public const string FallbackName = "fallback";

    public string RuleName { get; } = ruleName;

    public GroupConfig? Group { get; } = group;

    public string? DenyMessage { get; } = denyMessage;

    public string Reason { get; } = reason;
}
