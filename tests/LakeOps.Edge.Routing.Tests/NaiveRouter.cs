using System.Text.RegularExpressions;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing.Tests;

/// <summary>
/// The reference semantics: every rule in order, every condition interpreted straight from the
/// config model. The compiled <see cref="RouteTable"/> must always agree with it.
/// </summary>
internal static class NaiveRouter
{
    public sealed record Result(string Rule, RouteActionKind Kind, string? Group, string? Deny, IReadOnlyList<string> AddedTags);

    public static Result Route(EdgeConfig config, RouteRequest request, DateTimeOffset now)
    {
        var added = new List<string>();
        foreach (RouteRuleConfig rule in config.Routes)
        {
            if (rule.When is not null && !Holds(rule.When, request, added, now))
            {
                continue;
            }

            added.AddRange(rule.Tags);
            switch (rule.Action.Kind)
            {
                case RouteActionKind.Continue:
                    continue;
                case RouteActionKind.Group:
                    return new Result(rule.Name, RouteActionKind.Group, rule.Action.Group, null, added);
                case RouteActionKind.Deny:
                    return new Result(rule.Name, RouteActionKind.Deny, null, rule.Action.DenyMessage, added);
                default:
                    return new Result(rule.Name, RouteActionKind.Split, null, null, added);
            }
        }

        if (config.Fallback is { } fallback)
        {
            return new Result("fallback", RouteActionKind.Group, fallback, null, added);
        }

        if (config.Groups.ContainsKey(request.Database))
        {
            return new Result("fallback", RouteActionKind.Group, request.Database, null, added);
        }

        return config.Routing.FallbackToDefault
            ? new Result("fallback", RouteActionKind.Group, config.Routing.DefaultGroup, null, added)
            : new Result("fallback", RouteActionKind.Deny, null, "does not exist", added);
    }

    private static bool Same(string a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool AnyOf(IReadOnlyList<string> values, string? actual) => values.Any(v => Same(v, actual));

    private static bool Holds(RouteCondition condition, RouteRequest r, List<string> added, DateTimeOffset now)
    {
        switch (condition)
        {
            case AllCondition all:
                return all.Items.All(c => Holds(c, r, added, now));
            case AnyCondition any:
                return any.Items.Any(c => Holds(c, r, added, now));
            case NotCondition not:
                return !Holds(not.Item, r, added, now);
            case FieldCondition f:
                SqlAnalysis a = r.Analysis;
                return f.Field switch
                {
                    RouteField.Protocol => AnyOf(f.Values, r.Protocol),
                    RouteField.Listener => AnyOf(f.Values, r.Listener),
                    RouteField.User => AnyOf(f.Values, r.User),
                    RouteField.Role => r.Roles.Any(role => AnyOf(f.Values, role)),
                    RouteField.Database => AnyOf(f.Values, r.Database),
                    RouteField.Schema => AnyOf(f.Values, r.Schema),
                    RouteField.Application => AnyOf(f.Values, r.Application),
                    RouteField.Tags => r.Tags.Concat(a.Hint.Tags).Concat(added).Any(t => AnyOf(f.Values, t)),
                    RouteField.HintGroup => a.Hint.Group is not null && AnyOf(f.Values, a.Hint.Group),
                    RouteField.Statement => AnyOf(f.Values, a.Kind.ToString()),
                    _ => throw new InvalidOperationException(),
                };
            case PropertyCondition p:
                IReadOnlyDictionary<string, string> map = p.Source == PropertySource.Session ? r.Session : r.Headers;
                return map.TryGetValue(p.Key, out string? value) && (p.Values.Contains("*") || AnyOf(p.Values, value));
            case SqlRegexCondition regex:
                try
                {
                    return regex.Regex.IsMatch(r.Sql);
                }
                catch (RegexMatchTimeoutException)
                {
                    return false;
                }

            case TablesCondition t:
                return r.Analysis.Tables.Any(table => t.Globs.Any(g => TableGlob.IsMatch(g, table, r.Schema)));
            case TimeCondition time:
                return time.HoldsAt(now);
            default:
                throw new InvalidOperationException(condition.GetType().Name);
        }
    }
}
