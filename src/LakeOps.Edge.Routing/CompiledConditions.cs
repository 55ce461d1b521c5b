using System.Collections.Frozen;
using System.Text.RegularExpressions;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing;

/// <summary>Per-decision state shared by the conditions: the request, and the clock read at most once.</summary>
internal ref struct RouteContext(RouteRequest request, TimeProvider time)
{
    private DateTimeOffset? _now;

    public readonly RouteRequest Request = request;

    public DateTimeOffset Now => _now ??= time.GetUtcNow();
}

/// <summary>
/// A compiled condition. Evaluation is pure (no side effects), so <see cref="AllNode"/> and
/// <see cref="AnyNode"/> may test children cheapest-first without changing any result.
/// </summary>
internal abstract class ConditionNode
{
    /// <summary>Relative cost, to test cheap conditions (dictionary lookups) before regexes.</summary>
    public abstract int Cost { get; }

    public abstract bool Holds(ref RouteContext context);

    /// <summary>
    /// Three-valued test over the connection-level attributes only: true/false when the answer is the
    /// same for every statement of the session, null when it can depend on the statement (its text,
    /// kind, tables, hint, tags that SET or a hint can change) or on the time of day.
    /// </summary>
    public abstract bool? AtLogin(ref RouteContext context, bool databaseMayChange);

    /// <summary>Like <see cref="Holds"/>, without short-circuits, recording the leaf conditions that held.</summary>
    public virtual bool Explain(ref RouteContext context, List<string> held)
    {
        bool holds = Holds(ref context);
        if (holds)
        {
            held.Add(ToString()!);
        }

        return holds;
    }

    public static ConditionNode Compile(RouteCondition condition) => condition switch
    {
        AllCondition all => new AllNode(CompileAll(all.Items)),
        AnyCondition any => new AnyNode(CompileAll(any.Items)),
        NotCondition not => new NotNode(Compile(not.Item)),
        FieldCondition field => field.Field == RouteField.Statement ? new StatementNode(field.Values) : new FieldNode(field.Field, field.Values),
        PropertyCondition property => new PropertyNode(property.Source, property.Key, property.Values),
        SqlRegexCondition regex => new RegexNode(regex.Pattern, regex.Regex),
        TablesCondition tables => new TablesNode(tables.Globs),
        TimeCondition time => new TimeNode(time),
        _ => throw new ArgumentException($"unknown condition {condition.GetType().Name}", nameof(condition)),
    };

    public static ConditionNode[] CompileAll(IReadOnlyList<RouteCondition> items)
    {
        var nodes = new ConditionNode[items.Count];
        for (int i = 0; i < nodes.Length; i++)
        {
            nodes[i] = Compile(items[i]);
        }

        return nodes;
    }

    /// <summary>Cheapest first; stable, so equal costs keep config order.</summary>
    public static ConditionNode[] ByCost(ConditionNode[] nodes)
    {
        var sorted = (ConditionNode[])nodes.Clone();
        int[] order = new int[sorted.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => nodes[a].Cost != nodes[b].Cost ? nodes[a].Cost.CompareTo(nodes[b].Cost) : a.CompareTo(b));
        for (int i = 0; i < order.Length; i++)
        {
            sorted[i] = nodes[order[i]];
        }

        return sorted;
    }

    protected static string List(IReadOnlyList<string> values) => "[" + string.Join(", ", values) + "]";
}

internal sealed class AllNode(ConditionNode[] items) : ConditionNode
{
    private readonly ConditionNode[] _items = ByCost(items);
    private readonly ConditionNode[] _configOrder = items;

    public override int Cost { get; } = Sum(items);

    public override bool Holds(ref RouteContext context)
    {
        foreach (ConditionNode item in _items)
        {
            if (!item.Holds(ref context))
            {
                return false;
            }
        }

        return true;
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange)
    {
        bool unknown = false;
        foreach (ConditionNode item in _items)
        {
            bool? holds = item.AtLogin(ref context, databaseMayChange);
            if (holds == false)
            {
                return false;
            }

            unknown |= holds is null;
        }

        return unknown ? null : true;
    }

    public override bool Explain(ref RouteContext context, List<string> held)
    {
        bool all = true;
        foreach (ConditionNode item in _configOrder)
        {
            all &= item.Explain(ref context, held);
        }

        return all;
    }

    internal static int Sum(ConditionNode[] items)
    {
        int cost = 0;
        foreach (ConditionNode item in items)
        {
            cost += item.Cost;
        }

        return cost;
    }

    public override string ToString() => "all(" + string.Join(", ", (object[])_configOrder) + ")";
}

internal sealed class AnyNode(ConditionNode[] items) : ConditionNode
{
    private readonly ConditionNode[] _items = ByCost(items);
    private readonly ConditionNode[] _configOrder = items;

    public override int Cost { get; } = AllNode.Sum(items);

    public override bool Holds(ref RouteContext context)
    {
        foreach (ConditionNode item in _items)
        {
            if (item.Holds(ref context))
            {
                return true;
            }
        }

        return false;
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange)
    {
        bool unknown = false;
        foreach (ConditionNode item in _items)
        {
            bool? holds = item.AtLogin(ref context, databaseMayChange);
            if (holds == true)
            {
                return true;
            }

            unknown |= holds is null;
        }

        return unknown ? null : false;
    }

    public override bool Explain(ref RouteContext context, List<string> held)
    {
        bool any = false;
        foreach (ConditionNode item in _configOrder)
        {
            any |= item.Explain(ref context, held);
        }

        return any;
    }

    public override string ToString() => "any(" + string.Join(", ", (object[])_configOrder) + ")";
}

internal sealed class NotNode(ConditionNode item) : ConditionNode
{
    public override int Cost => item.Cost;

    public override bool Holds(ref RouteContext context) => !item.Holds(ref context);

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => !item.AtLogin(ref context, databaseMayChange);

    public override string ToString() => "not(" + item + ")";
}

/// <summary>A set of names compared ASCII case-insensitively; small sets are scanned, big ones hashed.</summary>
internal sealed class NameSet
{
    private readonly string[] _values;
    private readonly FrozenSet<string>? _set;

    public NameSet(IReadOnlyList<string> values)
    {
        _values = [.. values];
        _set = _values.Length > 8 ? _values.ToFrozenSet(StringComparer.OrdinalIgnoreCase) : null;
    }

    public IReadOnlyList<string> Values => _values;

    public bool Contains(string? value)
    {
        if (value is null)
        {
            return false;
        }

        if (_set is not null)
        {
            return _set.Contains(value);
        }

        foreach (string candidate in _values)
        {
            if (string.Equals(candidate, value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public bool ContainsAny(IReadOnlyList<string> values)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (Contains(values[i]))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class FieldNode(RouteField tested, IReadOnlyList<string> values) : ConditionNode
{
    private readonly NameSet _values = new(values);

    public RouteField Field => tested;

    public IReadOnlyList<string> Values => _values.Values;

    public override int Cost => tested is RouteField.Tags or RouteField.HintGroup ? 4 : 1;

    public override bool Holds(ref RouteContext context)
    {
        RouteRequest r = context.Request;
        return tested switch
        {
            RouteField.Protocol => _values.Contains(r.Protocol),
            RouteField.Listener => _values.Contains(r.Listener),
            RouteField.User => _values.Contains(r.User),
            RouteField.Role => _values.ContainsAny(r.Roles),
            RouteField.Database => _values.Contains(r.Database),
            RouteField.Schema => _values.Contains(r.Schema),
            RouteField.Application => _values.Contains(r.Application),
            RouteField.Tags => _values.ContainsAny(r.Tags) || _values.ContainsAny(r.AddedTags) || _values.ContainsAny(r.Analysis.Hint.Tags),
            RouteField.HintGroup => _values.Contains(r.Analysis.Hint.Group),
            _ => false,
        };
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => tested switch
    {
        // Tags come from SET edge.tags / @edge_tags and from hint comments: they change per statement.
        RouteField.Tags or RouteField.HintGroup => null,
        RouteField.Database or RouteField.Schema when databaseMayChange => null,
        _ => Holds(ref context),
    };

    public static string FieldName(RouteField field) => field switch
    {
        RouteField.HintGroup => "hint_group",
        _ => field.ToString().ToLowerInvariant(),
    };

    public override string ToString() => FieldName(tested) + " in " + List(_values.Values);
}

internal sealed class StatementNode : ConditionNode
{
    private readonly IReadOnlyList<string> _values;

    public StatementNode(IReadOnlyList<string> values)
    {
        _values = values;
        foreach (string value in values)
        {
            Mask |= 1 << (int)ParseKind(value);
        }
    }

    /// <summary>Bit per <see cref="StatementCategory"/>.</summary>
    public int Mask { get; }

    public override int Cost => 2;

    public static StatementCategory ParseKind(string value) => value.ToLowerInvariant() switch
    {
        "select" => StatementCategory.Select,
        "insert" => StatementCategory.Insert,
        "update" => StatementCategory.Update,
        "delete" => StatementCategory.Delete,
        "merge" => StatementCategory.Merge,
        "ddl" => StatementCategory.Ddl,
        "utility" => StatementCategory.Utility,
        _ => throw new ArgumentException($"unknown statement kind '{value}'", nameof(value)),
    };

    public override bool Holds(ref RouteContext context) => (Mask & (1 << (int)context.Request.Analysis.Kind)) != 0;

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => null;

    public override string ToString() => "statement in " + List(_values);
}

internal sealed class PropertyNode(PropertySource source, string key, IReadOnlyList<string> values) : ConditionNode
{
    private readonly NameSet _values = new(values);
    private readonly bool _anyValue = Contains(values, "*");

    public override int Cost => 3;

    public override bool Holds(ref RouteContext context)
    {
        IReadOnlyDictionary<string, string> map = source == PropertySource.Session ? context.Request.Session : context.Request.Headers;
        return map.TryGetValue(key, out string? value) && (_anyValue || _values.Contains(value));
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => Holds(ref context);

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        foreach (string v in values)
        {
            if (v == value)
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => (source == PropertySource.Session ? "session." : "header.") + key + " in " + List(_values.Values);
}

internal sealed class RegexNode(string pattern, Regex regex) : ConditionNode
{
    public override int Cost => 50;

    public override bool Holds(ref RouteContext context)
    {
        try
        {
            return regex.IsMatch(context.Request.Sql);
        }
        catch (RegexMatchTimeoutException)
        {
            // Bounded: a pathological pattern/statement pair counts as "no match" rather than stalling the session.
            return false;
        }
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => null;

    public override string ToString() => "sql_regex /" + pattern + "/";
}

internal sealed class TablesNode(IReadOnlyList<string> globs) : ConditionNode
{
    private readonly string[] _globs = [.. globs];

    public override int Cost => 20;

    public override bool Holds(ref RouteContext context)
    {
        RouteRequest r = context.Request;
        IReadOnlyList<string> tables = r.Analysis.Tables;
        for (int t = 0; t < tables.Count; t++)
        {
            foreach (string glob in _globs)
            {
                if (TableGlob.IsMatch(glob, tables[t], r.Schema))
                {
                    return true;
                }
            }
        }

        return false;
    }

    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => null;

    public override string ToString() => "tables ~ " + List(_globs);
}

internal sealed class TimeNode(TimeCondition time) : ConditionNode
{
    public override int Cost => 3;

    public override bool Holds(ref RouteContext context) => time.HoldsAt(context.Now);

    /// <summary>A window opens and closes while a session lives, so it is never settled at login.</summary>
    public override bool? AtLogin(ref RouteContext context, bool databaseMayChange) => null;

    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    public override string ToString()
    {
        var days = new List<string>();
        for (int d = 0; d < 7; d++)
        {
            if ((time.DayMask & (1 << d)) != 0)
            {
                days.Add(DayNames[d]);
            }
        }

        return $"time days [{string.Join(",", days)}] hours [{Hours(time.HourMask)}] {time.TimeZone.Id}";
    }

    /// <summary>"22-06" style ranges (end hour excluded), wrapping midnight.</summary>
    private static string Hours(int mask)
    {
        if (mask == 0xFFFFFF)
        {
            return "0-24";
        }

        // Start scanning just after an unset hour so a range across midnight stays whole.
        int start = 0;
        while ((mask & (1 << start)) != 0)
        {
            start++;
        }

        var ranges = new List<string>();
        for (int i = 1; i <= 24; i++)
        {
            int h = (start + i) % 24;
            if ((mask & (1 << h)) == 0)
            {
                continue;
            }

            int end = h;
            while ((mask & (1 << ((end + 1) % 24))) != 0)
            {
                end = (end + 1) % 24;
                i++;
            }

            ranges.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{h:00}-{(end + 1) % 24:00}"));
        }

        return string.Join(",", ranges);
    }
}
