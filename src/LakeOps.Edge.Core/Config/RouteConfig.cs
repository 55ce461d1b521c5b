using System.Text.RegularExpressions;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// One entry of <c>routes:</c>. Rules are tried in order; the first whose condition holds and that has
/// a final action (group, deny, split) decides. A rule with only <c>tags</c> adds its tags (visible to
/// the rules after it) and evaluation continues.
/// </summary>
public sealed record RouteRuleConfig
{
    public required string Name { get; init; }

    /// <summary>Null: the rule always holds.</summary>
    public RouteCondition? When { get; init; }

    public required RouteAction Action { get; init; }

    /// <summary>Tags added when the rule holds (with or without a final action).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

public enum RouteActionKind
{
    /// <summary>Only tags: add them and continue with the next rule.</summary>
    Continue,
    Group,
    Deny,
    Split,
}

/// <summary>What a split's choice is keyed on.</summary>
public enum SplitStability
{
    /// <summary>Independent random choice per query.</summary>
    Random,

    /// <summary>The same statement fingerprint always picks the same group.</summary>
    Fingerprint,

    /// <summary>The same user always picks the same group.</summary>
    User,
}

public sealed record RouteAction
{
    public required RouteActionKind Kind { get; init; }

    /// <summary>For <see cref="RouteActionKind.Group"/>.</summary>
    public string? Group { get; init; }

    /// <summary>For <see cref="RouteActionKind.Deny"/>: the error text sent to the client.</summary>
    public string? DenyMessage { get; init; }

    /// <summary>For <see cref="RouteActionKind.Split"/>: groups with positive weights, in config order.</summary>
    public IReadOnlyList<SplitTarget> Split { get; init; } = [];

    public SplitStability Stable { get; init; } = SplitStability.Random;
}

public sealed record SplitTarget(string Group, int Weight);

/// <summary>A rule condition: a tree of all/any/not over field tests.</summary>
public abstract record RouteCondition;

public sealed record AllCondition(IReadOnlyList<RouteCondition> Items) : RouteCondition;

public sealed record AnyCondition(IReadOnlyList<RouteCondition> Items) : RouteCondition;

public sealed record NotCondition(RouteCondition Item) : RouteCondition;

/// <summary>The request fields a <see cref="FieldCondition"/> can test.</summary>
public enum RouteField
{
    /// <summary>Front door: postgres, mysql, trino, flight_sql.</summary>
    Protocol,
    Listener,
    User,

    /// <summary>Holds when any of the user's roles is listed.</summary>
    Role,
    Database,
    Schema,
    Application,

    /// <summary>Holds when any of the request's tags (client, hint, added by earlier rules) is listed.</summary>
    Tags,

    /// <summary>The group named in the statement's <c>/* edge: group=x */</c> hint.</summary>
    HintGroup,

    /// <summary>Statement kind: select, insert, update, delete, merge, ddl, utility.</summary>
    Statement,
}

/// <summary>Holds when the field's value is one of <see cref="Values"/> (ASCII case-insensitive).</summary>
public sealed record FieldCondition(RouteField Field, IReadOnlyList<string> Values) : RouteCondition;

/// <summary>Where a <see cref="PropertyCondition"/> looks.</summary>
public enum PropertySource
{
    /// <summary>Session properties (PG parameters, MySQL variables and connection attributes, Trino session properties).</summary>
    Session,

    /// <summary>Trino HTTP headers.</summary>
    Header,
}

/// <summary>Holds when property <see cref="Key"/> is present with one of <see cref="Values"/> (keys and values case-insensitive; "*" = any value).</summary>
public sealed record PropertyCondition(PropertySource Source, string Key, IReadOnlyList<string> Values) : RouteCondition;

/// <summary>Holds when the regex matches somewhere in the statement text. Compiled once per snapshot, with a match timeout.</summary>
public sealed record SqlRegexCondition(string Pattern, Regex Regex) : RouteCondition;

/// <summary>Holds when any referenced table matches any glob (see docs/configuration.md, "Routing rules").</summary>
public sealed record TablesCondition(IReadOnlyList<string> Globs) : RouteCondition;

/// <summary>Holds when the local time in <see cref="TimeZone"/> falls on one of the days and in one of the hours.</summary>
public sealed record TimeCondition(int DayMask, int HourMask, TimeZoneInfo TimeZone) : RouteCondition
{
    /// <summary>Bit i set = day i (DayOfWeek numbering: Sunday = 0).</summary>
    public bool HoldsAt(DateTimeOffset utcNow)
    {
        DateTime local = TimeZoneInfo.ConvertTime(utcNow, TimeZone).DateTime;
        return (DayMask & (1 << (int)local.DayOfWeek)) != 0 && (HourMask & (1 << local.Hour)) != 0;
    }
}
