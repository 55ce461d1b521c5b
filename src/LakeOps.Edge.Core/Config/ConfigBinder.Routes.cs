using System.Collections.Frozen;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>Binding of <c>routes:</c> and <c>fallback:</c> (see docs/configuration.md, "Routing rules").</summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] RouteKeys = ["name", "when", "group", "deny", "split", "stable", "tags"];

    private static readonly string[] ConditionKeys =
    [
        "protocol", "listener", "user", "role", "database", "schema", "application", "tags", "hint_group",
        "statement", "session", "header", "sql_regex", "tables", "time", "all", "any", "not",
    ];

    private static readonly string[] TimeKeys = ["days", "hours", "timezone"];

    private static readonly string[] Protocols = [.. RouteVocabulary.Protocols];

    private static readonly string[] StatementKinds = [.. RouteVocabulary.StatementKinds];

    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>Longest a sql_regex may run on one statement; a timeout counts as "no match".</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(50);

    private const int MaxConditionDepth = 32;

    private delegate bool ItemCheck(string value, out string? error);

    private string? BindFallback(YamlMappingNode root, FrozenDictionary<string, GroupConfig> groups)
    {
        YamlNode? node = YamlBinder.Get(root, "fallback");
        if (!_y.TryText(node, "fallback", out string? group) || string.IsNullOrEmpty(group))
        {
            return null;
        }

        if (!groups.ContainsKey(group))
        {
            _y.Error("fallback", $"unknown group '{group}' (defined groups: {NameList(groups.Keys)})", node);
            return null;
        }

        return group;
    }

    private List<RouteRuleConfig> BindRoutes(YamlMappingNode root, FrozenDictionary<string, GroupConfig> groups)
    {
        var rules = new List<RouteRuleConfig>();
        YamlSequenceNode? list = _y.AsSequence(YamlBinder.Get(root, "routes"), "routes");
        if (list is null)
        {
            return rules;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < list.Children.Count; i++)
        {
            string path = $"routes[{i}]";
            YamlNode item = list.Children[i];
            if (item is not YamlMappingNode map)
            {
                _y.Error(path, $"expected a rule (a mapping with keys: {string.Join(", ", RouteKeys)}), found {YamlBinder.Describe(item)}", item);
                continue;
            }

            _y.CheckKeys(map, path, RouteKeys);
            string name = _y.Required(map, "name", path, string.Empty, static (string text, out string value, out string? error) =>
            {
                value = text;
                error = ConfigValues.IsValidName(text) ? null : $"invalid rule name '{text}': use letters, digits, '_', '.' and '-'";
                return error is null;
            });
            if (name.Length > 0 && !names.Add(name))
            {
                _y.Error(YamlBinder.Join(path, "name"), $"rule name '{name}' is used twice", YamlBinder.Get(map, "name"));
            }

            if (name == "fallback")
            {
                _y.Error(YamlBinder.Join(path, "name"), "'fallback' is reserved for queries no rule decides", YamlBinder.Get(map, "name"));
            }

            RouteCondition? when = null;
            if (YamlBinder.Get(map, "when") is { } whenNode)
            {
                when = BindCondition(whenNode, YamlBinder.Join(path, "when"), 0);
            }

            IReadOnlyList<string> tags = StringList(YamlBinder.Get(map, "tags"), YamlBinder.Join(path, "tags"), NameCheck("tag")) ?? [];
            RouteAction? action = BindAction(map, path, groups, tags.Count > 0);
            if (action is not null)
            {
                rules.Add(new RouteRuleConfig { Name = name, When = when, Action = action, Tags = tags });
            }
        }

        return rules;
    }

    private RouteAction? BindAction(YamlMappingNode map, string path, FrozenDictionary<string, GroupConfig> groups, bool hasTags)
    {
        YamlNode? groupNode = YamlBinder.Get(map, "group");
        YamlNode? denyNode = YamlBinder.Get(map, "deny");
        YamlNode? splitNode = YamlBinder.Get(map, "split");
        YamlNode? stableNode = YamlBinder.Get(map, "stable");
        int actions = (groupNode is null ? 0 : 1) + (denyNode is null ? 0 : 1) + (splitNode is null ? 0 : 1);
        if (actions > 1)
        {
            _y.Error(path, "a rule has at most one of 'group', 'deny' and 'split'", map);
            return null;
        }

        if (stableNode is not null && splitNode is null)
        {
            _y.Error(YamlBinder.Join(path, "stable"), "'stable' applies only to 'split'", stableNode);
        }

        if (actions == 0)
        {
            if (!hasTags)
            {
                _y.Error(path, "a rule needs an action: 'group', 'deny', 'split' or 'tags'", map);
                return null;
            }

            return new RouteAction { Kind = RouteActionKind.Continue };
        }

        if (groupNode is not null)
        {
            string at = YamlBinder.Join(path, "group");
            string? group = GroupName(groupNode, at, groups);
            return group is null ? null : new RouteAction { Kind = RouteActionKind.Group, Group = group };
        }

        if (denyNode is not null)
        {
            string at = YamlBinder.Join(path, "deny");
            if (!_y.TryText(denyNode, at, out string? message))
            {
                return null;
            }

            if (string.IsNullOrWhiteSpace(message))
            {
                _y.Error(at, "a deny rule needs the message the client sees", denyNode);
                return null;
            }

            return new RouteAction { Kind = RouteActionKind.Deny, DenyMessage = message };
        }

        return BindSplit(splitNode!, stableNode, path, groups);
    }

    private RouteAction? BindSplit(YamlNode splitNode, YamlNode? stableNode, string path, FrozenDictionary<string, GroupConfig> groups)
    {
        string at = YamlBinder.Join(path, "split");
        YamlMappingNode? split = _y.AsMapping(splitNode, at);
        if (split is null)
        {
            return null;
        }

        int errorsBefore = _y.ErrorCount;
        var targets = new List<SplitTarget>();
        long total = 0;
        foreach (KeyValuePair<YamlNode, YamlNode> pair in split.Children)
        {
            string? group = GroupName(pair.Key, at, groups);
            if (group is null)
            {
                continue;
            }

            string weightPath = YamlBinder.Join(at, group);
            if (!_y.TryText(pair.Value, weightPath, out string? text) || text is null)
            {
                if (text is null)
                {
                    _y.Error(weightPath, "needs a weight (a whole number, 0 to 1000000)", pair.Value);
                }

                continue;
            }

            if (!ConfigValues.TryParseInt(text, out int weight, out string? error) || weight < 0 || weight > 1_000_000)
            {
                _y.Error(weightPath, error ?? $"weight {weight} is out of range (0 to 1000000)", pair.Value);
                continue;
            }

            if (targets.Exists(t => t.Group == group))
            {
                _y.Error(weightPath, $"group '{group}' appears twice", pair.Key);
                continue;
            }

            total += weight;
            if (weight > 0)
            {
                targets.Add(new SplitTarget(group, weight));
            }
        }

        if (_y.ErrorCount == errorsBefore && total <= 0)
        {
            _y.Error(at, "split weights must add up to more than 0", split);
        }

        SplitStability stable = SplitStability.Random;
        if (stableNode is not null && _y.TryText(stableNode, YamlBinder.Join(path, "stable"), out string? stableText) && stableText is not null)
        {
            switch (stableText)
            {
                case "fingerprint":
                    stable = SplitStability.Fingerprint;
                    break;
                case "user":
                    stable = SplitStability.User;
                    break;
                case "none" or "random" or "false":
                    break;
                default:
                    _y.Error(YamlBinder.Join(path, "stable"), $"unknown stability '{stableText}' (expected fingerprint, user or none)", stableNode);
                    break;
            }
        }

        return _y.ErrorCount != errorsBefore ? null : new RouteAction { Kind = RouteActionKind.Split, Split = targets.AsReadOnly(), Stable = stable };
    }

    private string? GroupName(YamlNode node, string path, FrozenDictionary<string, GroupConfig> groups)
    {
        if (!_y.TryText(node, path, out string? group))
        {
            return null;
        }

        if (string.IsNullOrEmpty(group))
        {
            _y.Error(path, "needs a group name", node);
            return null;
        }

        if (!groups.ContainsKey(group))
        {
            _y.Error(path, $"unknown group '{group}' (defined groups: {NameList(groups.Keys)})", node);
            return null;
        }

        return group;
    }

    /// <summary>A condition mapping; several keys in one mapping must all hold.</summary>
    private RouteCondition? BindCondition(YamlNode node, string path, int depth)
    {
        if (depth > MaxConditionDepth)
        {
            _y.Error(path, $"conditions nest deeper than {MaxConditionDepth} levels", node);
            return null;
        }

        int errorsBefore = _y.ErrorCount;
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null)
        {
            if (_y.ErrorCount == errorsBefore)
            {
                _y.Error(path, "a condition must not be empty", node);
            }

            return null;
        }

        _y.CheckKeys(map, path, ConditionKeys);
        if (map.Children.Count == 0)
        {
            _y.Error(path, "a condition must not be empty", map);
            return null;
        }

        var parts = new List<RouteCondition>();
        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is not YamlScalarNode { Value: { } key } || Array.IndexOf(ConditionKeys, key) < 0)
            {
                continue; // reported by CheckKeys
            }

            string at = YamlBinder.Join(path, key);
            RouteCondition? part = key switch
            {
                "protocol" => Field(RouteField.Protocol, pair.Value, at, OneOf("protocol", Protocols)),
                "listener" => Field(RouteField.Listener, pair.Value, at, NameCheck("listener")),
                "user" => Field(RouteField.User, pair.Value, at, NotEmpty),
                "role" => Field(RouteField.Role, pair.Value, at, NameCheck("role")),
                "database" => Field(RouteField.Database, pair.Value, at, NotEmpty),
                "schema" => Field(RouteField.Schema, pair.Value, at, NotEmpty),
                "application" => Field(RouteField.Application, pair.Value, at, NotEmpty),
                "tags" => Field(RouteField.Tags, pair.Value, at, NameCheck("tag")),
                "hint_group" => Field(RouteField.HintGroup, pair.Value, at, NotEmpty),
                "statement" => Field(RouteField.Statement, pair.Value, at, OneOf("statement kind", StatementKinds)),
                "session" => Properties(PropertySource.Session, pair.Value, at),
                "header" => Properties(PropertySource.Header, pair.Value, at),
                "sql_regex" => SqlRegex(pair.Value, at),
                "tables" => Tables(pair.Value, at),
                "time" => Time(pair.Value, at),
                "all" => Combine(pair.Value, at, depth, any: false),
                "any" => Combine(pair.Value, at, depth, any: true),
                _ => BindCondition(pair.Value, at, depth + 1) is { } inner ? new NotCondition(inner) : null,
            };
            if (part is not null)
            {
                parts.Add(part);
            }
        }

        if (_y.ErrorCount != errorsBefore)
        {
            return null;
        }

        return parts.Count == 1 ? parts[0] : new AllCondition(parts.AsReadOnly());
    }

    private RouteCondition? Combine(YamlNode node, string path, int depth, bool any)
    {
        YamlSequenceNode? list = _y.AsSequence(node, path);
        if (list is null)
        {
            return null;
        }

        if (list.Children.Count == 0)
        {
            _y.Error(path, "needs at least one condition", list);
            return null;
        }

        var items = new List<RouteCondition>();
        for (int i = 0; i < list.Children.Count; i++)
        {
            if (BindCondition(list.Children[i], $"{path}[{i}]", depth + 1) is { } item)
            {
                items.Add(item);
            }
        }

        return any ? new AnyCondition(items.AsReadOnly()) : new AllCondition(items.AsReadOnly());
    }

    private FieldCondition? Field(RouteField field, YamlNode node, string path, ItemCheck check)
    {
        IReadOnlyList<string>? values = StringList(node, path, check);
        return values is null ? null : new FieldCondition(field, values);
    }

    private RouteCondition? Properties(PropertySource source, YamlNode node, string path)
    {
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null || map.Children.Count == 0)
        {
            _y.Error(path, "expected a mapping of property: value (or a list of values)", node);
            return null;
        }

        if (map.Children.Count > 1)
        {
            // Several properties must all match: expressed as all: [...] of single-property tests.
            var parts = new List<RouteCondition>();
            foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
            {
                if (Property(source, pair, path) is { } one)
                {
                    parts.Add(one);
                }
            }

            return parts.Count == map.Children.Count ? new AllCondition(parts.AsReadOnly()) : null;
        }

        return Property(source, map.Children.First(), path);
    }

    private PropertyCondition? Property(PropertySource source, KeyValuePair<YamlNode, YamlNode> pair, string path)
    {
        if (pair.Key is not YamlScalarNode { Value: { Length: > 0 } key })
        {
            _y.Error(path, $"property names must be strings, found {YamlBinder.Describe(pair.Key)}", pair.Key);
            return null;
        }

        IReadOnlyList<string>? values = StringList(pair.Value, YamlBinder.Join(path, key), NotEmpty);
        return values is null ? null : new PropertyCondition(source, key, values);
    }

    private SqlRegexCondition? SqlRegex(YamlNode node, string path)
    {
        if (!_y.TryText(node, path, out string? pattern) || string.IsNullOrEmpty(pattern))
        {
            if (pattern is not null || node is YamlScalarNode)
            {
                _y.Error(path, "needs a regular expression", node);
            }

            return null;
        }

        try
        {
            // Interpreted (AOT-friendly, no code generation), culture-invariant, with a match timeout.
            var regex = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
            return new SqlRegexCondition(pattern, regex);
        }
        catch (ArgumentException ex)
        {
            _y.Error(path, $"invalid regular expression: {ex.Message}", node);
            return null;
        }
    }

    private TablesCondition? Tables(YamlNode node, string path)
    {
        IReadOnlyList<string>? globs = StringList(node, path, static (string glob, out string? error) =>
        {
            error = CheckGlob(glob);
            return error is null;
        });
        if (globs is null)
        {
            return null;
        }

        string[] lowered = new string[globs.Count];
        for (int i = 0; i < lowered.Length; i++)
        {
            lowered[i] = globs[i].ToLowerInvariant();
        }

        return new TablesCondition(lowered);
    }

    /// <summary>Null when <paramref name="glob"/> is a valid table glob: name parts separated by '.', with '*' and '?' wildcards.</summary>
    public static string? CheckGlob(string glob)
    {
        if (glob.Length == 0)
        {
            return "a table glob must not be empty";
        }

        foreach (string part in glob.Split('.'))
        {
            if (part.Length == 0)
            {
                return $"table glob '{glob}' has an empty name part (use 'schema.table', 'schema.*', '*.events_*')";
            }

            foreach (char c in part)
            {
                if (char.IsWhiteSpace(c) || c is '"' or '`' or '\'' or '[' or ']' or '{' or '}' or ',' or ';' or '(' or ')')
                {
                    return $"table glob '{glob}' contains '{c}' (write names without quotes; wildcards are '*' and '?')";
                }
            }
        }

        return null;
    }

    private TimeCondition? Time(YamlNode node, string path)
    {
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null)
        {
            _y.Error(path, "expected a mapping with keys: days, hours, timezone", node);
            return null;
        }

        _y.CheckKeys(map, path, TimeKeys);
        int errorsBefore = _y.ErrorCount;
        int days = 0x7F;
        if (StringList(YamlBinder.Get(map, "days"), YamlBinder.Join(path, "days"), static (string d, out string? e) => TryParseDays(d, out _, out e)) is { } dayList)
        {
            days = 0;
            foreach (string d in dayList)
            {
                _ = TryParseDays(d, out int mask, out _);
                days |= mask;
            }
        }

        int hours = 0xFFFFFF;
        if (StringList(YamlBinder.Get(map, "hours"), YamlBinder.Join(path, "hours"), static (string h, out string? e) => TryParseHours(h, out _, out e)) is { } hourList)
        {
            hours = 0;
            foreach (string h in hourList)
            {
                _ = TryParseHours(h, out int mask, out _);
                hours |= mask;
            }
        }

        TimeZoneInfo zone = _y.Optional(map, "timezone", path, TimeZoneInfo.Utc, static (string text, out TimeZoneInfo value, out string? error) =>
        {
            value = TimeZoneInfo.Utc;
            if (text is "UTC" or "utc" or "Etc/UTC")
            {
                error = null;
                return true;
            }

            if (TimeZoneInfo.TryFindSystemTimeZoneById(text, out TimeZoneInfo? found))
            {
                value = found;
                error = null;
                return true;
            }

            error = $"unknown time zone '{text}' (use an IANA name such as Europe/Berlin, or UTC)";
            return false;
        });
        if (YamlBinder.Get(map, "days") is null && YamlBinder.Get(map, "hours") is null && _y.ErrorCount == errorsBefore)
        {
            _y.Error(path, "needs 'days' and/or 'hours'", map);
        }

        return _y.ErrorCount == errorsBefore ? new TimeCondition(days, hours, zone) : null;
    }

    /// <summary>"mon", "mon-fri", "sat-sun", "fri-mon" (wraps); also "*" for every day.</summary>
    public static bool TryParseDays(string text, out int mask, out string? error)
    {
        mask = 0;
        string t = text.Trim().ToLowerInvariant();
        if (t == "*")
        {
            mask = 0x7F;
            error = null;
            return true;
        }

        int dash = t.IndexOf('-', StringComparison.Ordinal);
        int from = DayIndex(dash < 0 ? t : t[..dash]);
        int to = dash < 0 ? from : DayIndex(t[(dash + 1)..]);
        if (from < 0 || to < 0)
        {
            error = $"'{text}' is not a day or day range (use mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri)";
            return false;
        }

        for (int d = from; ; d = (d + 1) % 7)
        {
            mask |= 1 << d;
            if (d == to)
            {
                break;
            }
        }

        error = null;
        return true;
    }

    private static int DayIndex(string name)
    {
        string key = name.Length >= 3 ? name[..3] : name;
        int index = Array.IndexOf(DayNames, key);
        // Accept full names ("monday") but not arbitrary words starting with a day's letters.
        return index >= 0 && (name.Length == 3 || name is "monday" or "tuesday" or "wednesday" or "thursday" or "friday" or "saturday" or "sunday") ? index : -1;
    }

    /// <summary>"9" (9:00-9:59), "9-17" (9:00 to 16:59), "22-06" (22:00 to 05:59, wrapping midnight), "*".</summary>
    public static bool TryParseHours(string text, out int mask, out string? error)
    {
        mask = 0;
        string t = text.Trim();
        if (t == "*")
        {
            mask = 0xFFFFFF;
            error = null;
            return true;
        }

        int dash = t.IndexOf('-', StringComparison.Ordinal);
        if (!TryHour(dash < 0 ? t : t[..dash], out int from) || !TryHour(dash < 0 ? t : t[(dash + 1)..], out int to, allow24: dash >= 0))
        {
            error = $"'{text}' is not an hour or hour range (use 0-23, e.g. 9, 9-17 or 22-06; the end hour is not included)";
            return false;
        }

        if (dash < 0)
        {
            mask = 1 << from;
        }
        else if (from == to % 24)
        {
            mask = to == 24 ? 0xFFFFFF : 0;
        }
        else
        {
            for (int h = from; h != to % 24; h = (h + 1) % 24)
            {
                mask |= 1 << h;
            }
        }

        if (mask == 0)
        {
            error = $"hour range '{text}' is empty";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryHour(string text, out int hour, bool allow24 = false)
    {
        string t = text.Trim();
        if (t.EndsWith(":00", StringComparison.Ordinal))
        {
            t = t[..^3];
        }

        return int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out hour)
            && hour >= 0 && (hour <= 23 || (allow24 && hour == 24));
    }

    /// <summary>A scalar or a list of scalars, each checked; null (error recorded) when anything is wrong or the list is empty.</summary>
    private IReadOnlyList<string>? StringList(YamlNode? node, string path, ItemCheck check)
    {
        if (node is null)
        {
            return null;
        }

        var values = new List<string>();
        int errorsBefore = _y.ErrorCount;
        if (node is YamlSequenceNode list)
        {
            for (int i = 0; i < list.Children.Count; i++)
            {
                AddValue(list.Children[i], $"{path}[{i}]", check, values);
            }
        }
        else
        {
            AddValue(node, path, check, values);
        }

        if (_y.ErrorCount != errorsBefore)
        {
            return null;
        }

        if (values.Count == 0)
        {
            _y.Error(path, "needs at least one value", node);
            return null;
        }

        return values.AsReadOnly();
    }

    private void AddValue(YamlNode node, string path, ItemCheck check, List<string> values)
    {
        if (!_y.TryText(node, path, out string? text))
        {
            return;
        }

        if (string.IsNullOrEmpty(text))
        {
            _y.Error(path, "must not be empty", node);
            return;
        }

        if (!check(text, out string? error))
        {
            _y.Error(path, error!, node);
            return;
        }

        values.Add(text);
    }

    private static ItemCheck NameCheck(string what) => (string value, out string? error) =>
    {
        error = ConfigValues.IsValidName(value) ? null : $"invalid {what} '{value}': use letters, digits, '_', '.' and '-'";
        return error is null;
    };

    private static bool NotEmpty(string value, out string? error)
    {
        error = value.Length == 0 ? "must not be empty" : null;
        return error is null;
    }

    private static ItemCheck OneOf(string what, string[] choices) => (string value, out string? error) =>
    {
        error = Array.IndexOf(choices, value.ToLowerInvariant()) >= 0 ? null : $"unknown {what} '{value}' (expected one of: {string.Join(", ", choices)})";
        return error is null;
    };
}
