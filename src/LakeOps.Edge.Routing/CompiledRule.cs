using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing;

/// <summary>One rule ready to run: what dispatch does not already guarantee, and its precomputed outcomes.</summary>
internal sealed class CompiledRule
{
    private RouteOutcome[] _outcomes = [];
    private int[] _cumulative = [];
    private int _total;
    private SplitStability _stable;

    public required string Name { get; init; }

    public required RouteActionKind Kind { get; init; }

    /// <summary>Conditions left after hash dispatch (null: nothing left to test).</summary>
    public ConditionNode? Residual { get; init; }

    /// <summary>The whole condition, for explain (null: always).</summary>
    public ConditionNode? Full { get; init; }

    public string[] Tags { get; init; } = [];

    /// <summary>
    /// Compiles <paramref name="rule"/>. <paramref name="dispatched"/> receives the top-level field tests
    /// the table's hash dispatch takes over (they are left out of <see cref="Residual"/>).
    /// </summary>
    public static CompiledRule Compile(RouteRuleConfig rule, EdgeConfig config, out Dictionary<RouteField, IReadOnlyList<string>> dispatched)
    {
        dispatched = [];
        var residual = new List<RouteCondition>();
        if (rule.When is { } when)
        {
            foreach (RouteCondition part in Flatten(when))
            {
                if (part is FieldCondition field && Array.IndexOf(RouteTable.DispatchFields, field.Field) >= 0 && !dispatched.ContainsKey(field.Field))
                {
                    dispatched[field.Field] = field.Values;
                }
                else
                {
                    residual.Add(part);
                }
            }
        }

        ConditionNode? residualNode = residual.Count switch
        {
            0 => null,
            1 => ConditionNode.Compile(residual[0]),
            _ => new AllNode(ConditionNode.CompileAll(residual)),
        };
        var compiled = new CompiledRule
        {
            Name = rule.Name,
            Kind = rule.Action.Kind,
            Residual = residualNode,
            Full = rule.When is null ? null : ConditionNode.Compile(rule.When),
            Tags = [.. rule.Tags],
        };
        compiled.BuildOutcomes(rule, config);
        return compiled;
    }

    /// <summary>Top-level conjuncts: nested all(...) flattened.</summary>
    private static List<RouteCondition> Flatten(RouteCondition condition)
    {
        var parts = new List<RouteCondition>();
        var stack = new Stack<RouteCondition>();
        stack.Push(condition);
        while (stack.Count > 0)
        {
            RouteCondition c = stack.Pop();
            if (c is AllCondition all)
            {
                for (int i = all.Items.Count - 1; i >= 0; i--)
                {
                    stack.Push(all.Items[i]);
                }
            }
            else
            {
                parts.Add(c);
            }
        }

        return parts;
    }

    private void BuildOutcomes(RouteRuleConfig rule, EdgeConfig config)
    {
        RouteAction action = rule.Action;
        switch (action.Kind)
        {
            case RouteActionKind.Group:
                _outcomes = [new RouteOutcome(rule.Name, config.Groups[action.Group!], null, $"rule '{rule.Name}': group '{action.Group}'")];
                break;
            case RouteActionKind.Deny:
                _outcomes = [new RouteOutcome(rule.Name, null, action.DenyMessage, $"rule '{rule.Name}': denied")];
                break;
            case RouteActionKind.Split:
                _stable = action.Stable;
                _outcomes = new RouteOutcome[action.Split.Count];
                _cumulative = new int[action.Split.Count];
                foreach (SplitTarget target in action.Split)
                {
                    _total += target.Weight;
                }

                int sum = 0;
                for (int i = 0; i < _outcomes.Length; i++)
                {
                    SplitTarget target = action.Split[i];
                    sum += target.Weight;
                    _cumulative[i] = sum;
                    _outcomes[i] = new RouteOutcome(rule.Name, config.Groups[target.Group], null, $"rule '{rule.Name}': split to group '{target.Group}' ({target.Weight}/{_total})");
                }

                break;
        }
    }

    /// <summary>True for a split whose choice changes per statement (random or keyed on the fingerprint).</summary>
    public bool ChoosesPerStatement => _outcomes.Length > 1 && _stable != SplitStability.User;

    /// <summary>The outcome of a rule with a final action; for a split, the weighted choice.</summary>
    public RouteOutcome Choose(RouteRequest request, SqlAnalysis analysis, Random random)
    {
        if (_outcomes.Length == 1)
        {
            return _outcomes[0];
        }

        ulong key = _stable switch
        {
            SplitStability.Fingerprint => Mix(analysis.Fingerprint),
            SplitStability.User => Mix(Fnv(request.User)),
            _ => (ulong)random.NextInt64(_total),
        };
        long point = (long)(key % (ulong)_total);
        for (int i = 0; i < _cumulative.Length; i++)
        {
            if (point < _cumulative[i])
            {
                return _outcomes[i];
            }
        }

        return _outcomes[^1];
    }

    /// <summary>SplitMix64 finaliser: spreads similar keys over the whole range.</summary>
    internal static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>FNV-1a over UTF-16 code units: stable across runs (string.GetHashCode is not).</summary>
    internal static ulong Fnv(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
