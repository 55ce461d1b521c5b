using System.Buffers;
using System.Collections.Frozen;
using System.Numerics;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing;

/// <summary>
/// The <c>routes:</c> of one config snapshot, compiled once; answers "which group" in one pass.
/// <para>
/// How: every rule is a bit. For each discrete field that some rule tests at its top level
/// (protocol, listener, user, database, schema, application, statement kind) a hash table maps the
/// request's value to the set of rules that value can still satisfy (rules testing that value, plus
/// rules not testing the field). ANDing those sets leaves the candidates; they are tried in config
/// order, each testing only its remaining conditions (cheapest first, regexes last), and the first
/// with a final action decides. That is exactly the order a one-by-one evaluator sees, so the result
/// is the same. Rules with only <c>tags</c> add their tags (seen by later rules) and evaluation goes on.
/// </para>
/// Thread-safe; deciding allocates nothing once the statement is analysed (regex work aside).
/// </summary>
public sealed class RouteTable
{
    private const int StackWords = 128;

    private readonly CompiledRule[] _rules;
    private readonly int _words;
    private readonly ulong[] _allRules;
    private readonly FieldIndex[] _indexes;
    private readonly ulong[][]? _byStatement;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly EdgeConfig _config;
    private readonly RouteOutcome? _fixedFallback;
    private readonly FrozenDictionary<string, RouteOutcome> _databaseFallback;
    private readonly RouteOutcome? _defaultFallback;

    private RouteTable(EdgeConfig config, TimeProvider time, Random random)
    {
        _config = config;
        _time = time;
        _random = random;

        IReadOnlyList<RouteRuleConfig> routes = config.Routes;
        _rules = new CompiledRule[routes.Count];
        _words = Math.Max(1, (routes.Count + 63) / 64);
        _allRules = new ulong[_words];
        var dispatched = new List<(RouteField Field, IReadOnlyList<string> Values)?[]>();
        for (int i = 0; i < routes.Count; i++)
        {
            _rules[i] = CompiledRule.Compile(routes[i], config, out Dictionary<RouteField, IReadOnlyList<string>> constraints);
            _allRules[i >> 6] |= 1UL << (i & 63);
            dispatched.Add([.. constraints.Select(static c => ((RouteField, IReadOnlyList<string>)?)(c.Key, c.Value))]);
        }

        var indexes = new List<FieldIndex>();
        foreach (RouteField field in DispatchFields)
        {
            if (FieldIndex.Build(field, routes.Count, _words, dispatched) is { } index)
            {
                indexes.Add(index);
            }
        }

        _indexes = [.. indexes];
        _byStatement = BuildStatementIndex(routes.Count, dispatched);

        if (config.Fallback is { } fallback)
        {
            _fixedFallback = new RouteOutcome(RouteOutcome.FallbackName, config.Groups[fallback], null, $"no rule matched; fallback group '{fallback}'");
        }

        _databaseFallback = config.Groups.ToFrozenDictionary(
            static g => g.Key,
            static g => new RouteOutcome(RouteOutcome.FallbackName, g.Value, null, $"no rule matched; database '{g.Key}' names group '{g.Key}'"),
            StringComparer.Ordinal);
        if (config.Routing.FallbackToDefault && config.Groups.TryGetValue(config.Routing.DefaultGroup, out GroupConfig? defaultGroup))
        {
            _defaultFallback = new RouteOutcome(RouteOutcome.FallbackName, defaultGroup, null, $"no rule matched; routing.default_group '{defaultGroup.Name}'");
        }
    }

    /// <summary>The fields with hash dispatch (statement kind has its own array index).</summary>
    internal static readonly RouteField[] DispatchFields =
        [RouteField.Protocol, RouteField.Listener, RouteField.User, RouteField.Database, RouteField.Schema, RouteField.Application, RouteField.Statement];

    public EdgeConfig Config => _config;

    public int RuleCount => _rules.Length;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EdgeConfig, RouteTable> PerSnapshot = [];

    /// <summary>
    /// The compiled table of a config snapshot, compiled on first use and cached for as long as the
    /// snapshot lives (system clock, shared random). Sessions call this with the snapshot they hold,
    /// so a reload switches tables exactly when it switches snapshots.
    /// </summary>
    public static RouteTable For(EdgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return PerSnapshot.GetValue(config, static c => Compile(c));
    }

    /// <summary>Compiles <paramref name="config"/>'s routes. <paramref name="random"/> drives non-stable splits (default <see cref="Random.Shared"/>).</summary>
    public static RouteTable Compile(EdgeConfig config, TimeProvider? time = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new RouteTable(config, time ?? TimeProvider.System, random ?? Random.Shared);
    }

    /// <summary>Routes one statement (or, with empty <see cref="RouteRequest.Sql"/>, a session).</summary>
    public RouteDecision Decide(RouteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        SqlAnalysis analysis = request.Analysis;
        request.ClearAddedTags();

        ulong[]? rented = null;
        Span<ulong> candidates = _words <= StackWords ? stackalloc ulong[_words] : (rented = ArrayPool<ulong>.Shared.Rent(_words)).AsSpan(0, _words);
        try
        {
            Candidates(request, analysis, candidates);
            var context = new RouteContext(request, _time);
            for (int w = 0; w < candidates.Length; w++)
            {
                ulong bits = candidates[w];
                while (bits != 0)
                {
                    int i = (w << 6) + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    CompiledRule rule = _rules[i];
                    if (rule.Residual is { } residual && !residual.Holds(ref context))
                    {
                        continue;
                    }

                    request.AddTags(rule.Tags);

                    if (rule.Kind != RouteActionKind.Continue)
                    {
                        return new RouteDecision(rule.Choose(request, analysis, _random), analysis.Fingerprint, request.AddedTags);
                    }
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }

        return new RouteDecision(Fallback(request.Database), analysis.Fingerprint, request.AddedTags);
    }

    /// <summary>
    /// Decides like <see cref="Decide"/> by testing every rule one by one, and records why: the
    /// conditions of the deciding rule that held and the tags rules applied on the way. For the
    /// explain verb and EXPLAIN ROUTE; allocates.
    /// </summary>
    public RouteExplanation Explain(RouteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        SqlAnalysis analysis = request.Analysis;
        request.ClearAddedTags();
        var context = new RouteContext(request, _time);
        var tagRules = new List<string>();
        foreach (CompiledRule rule in _rules)
        {
            var held = new List<string>();
            if (rule.Full is { } full && !full.Explain(ref context, held))
            {
                continue;
            }

            if (rule.Full is null)
            {
                held.Add("always (no 'when')");
            }

            request.AddTags(rule.Tags);
            if (rule.Kind == RouteActionKind.Continue)
            {
                tagRules.Add(rule.Name);
                continue;
            }

            var decision = new RouteDecision(rule.Choose(request, analysis, _random), analysis.Fingerprint, [.. request.AddedTags]);
            return new RouteExplanation(decision, held, tagRules, analysis);
        }

        var fallback = new RouteDecision(Fallback(request.Database), analysis.Fingerprint, [.. request.AddedTags]);
        return new RouteExplanation(fallback, [], tagRules, analysis);
    }

    /// <summary>
    /// Whether the decision for a session with these connection-level attributes (protocol, listener,
    /// user, roles, application, session properties, and database/schema unless
    /// <paramref name="databaseMayChange"/>) can differ between its statements. False means one
    /// decision at login (<see cref="Decide"/> with empty SQL) holds for every statement, so a session
    /// may hand the connection to a same-protocol passthrough.
    /// <para>
    /// Statement-level: sql_regex, statement kind, tables, hint_group, tags (SET and hint comments change
    /// them), time windows (they open and close while a session lives), and splits that choose per
    /// statement (random or fingerprint-stable; user-stable splits are fixed per session). Rules are
    /// walked in order: a rule that surely fails is skipped, one that surely holds with a fixed outcome
    /// settles the question, anything else makes the session statement-dependent.
    /// </para>
    /// </summary>
    public bool IsStatementDependent(RouteRequest request, bool databaseMayChange = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.ClearAddedTags();
        var context = new RouteContext(request, _time);
        foreach (CompiledRule rule in _rules)
        {
            bool? holds = rule.Full is { } full ? full.AtLogin(ref context, databaseMayChange) : true;
            if (holds == false || rule.Kind == RouteActionKind.Continue)
            {
                // Tags-only rules only feed tag conditions, which are statement-level anyway.
                continue;
            }

            if (holds is null)
            {
                return true;
            }

            return rule.ChoosesPerStatement;
        }

        // The fallback depends on the database only (unless it is a fixed group).
        return databaseMayChange && _fixedFallback is null;
    }

    private void Candidates(RouteRequest request, SqlAnalysis analysis, Span<ulong> candidates)
    {
        _allRules.CopyTo(candidates);
        foreach (FieldIndex index in _indexes)
        {
            And(candidates, index.Lookup(FieldValue(request, index.Field)));
        }

        if (_byStatement is not null)
        {
            And(candidates, _byStatement[(int)analysis.Kind]);
        }
    }

    private static void And(Span<ulong> target, ReadOnlySpan<ulong> bits)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] &= bits[i];
        }
    }

    internal static string FieldValue(RouteRequest request, RouteField field) => field switch
    {
        RouteField.Protocol => request.Protocol,
        RouteField.Listener => request.Listener,
        RouteField.User => request.User,
        RouteField.Database => request.Database,
        RouteField.Schema => request.Schema,
        RouteField.Application => request.Application,
        _ => "",
    };

    private RouteOutcome Fallback(string database)
    {
        if (_fixedFallback is not null)
        {
            return _fixedFallback;
        }

        if (_databaseFallback.TryGetValue(database, out RouteOutcome? named))
        {
            return named;
        }

        return _defaultFallback ?? new RouteOutcome(
            RouteOutcome.FallbackName,
            null,
            $"database \"{database}\" does not exist (no rule matched, no group of that name, and routing.fallback_to_default is false)",
            $"no rule matched; database '{database}' is not a group and routing.fallback_to_default is false");
    }

    private static ulong[][]? BuildStatementIndex(int ruleCount, List<(RouteField Field, IReadOnlyList<string> Values)?[]> dispatched)
    {
        const int kinds = (int)StatementCategory.Utility + 1;
        int words = Math.Max(1, (ruleCount + 63) / 64);
        ulong[][]? byKind = null;
        for (int i = 0; i < ruleCount; i++)
        {
            IReadOnlyList<string>? values = null;
            foreach ((RouteField Field, IReadOnlyList<string> Values)? c in dispatched[i])
            {
                if (c is { Field: RouteField.Statement } s)
                {
                    values = s.Values;
                }
            }

            if (values is null)
            {
                continue;
            }

            if (byKind is null)
            {
                byKind = new ulong[kinds][];
                for (int k = 0; k < kinds; k++)
                {
                    byKind[k] = new ulong[words];
                    for (int r = 0; r < ruleCount; r++)
                    {
                        byKind[k][r >> 6] |= 1UL << (r & 63);
                    }
                }
            }

            int mask = 0;
            foreach (string v in values)
            {
                mask |= 1 << (int)StatementNode.ParseKind(v);
            }

            for (int k = 0; k < kinds; k++)
            {
                if ((mask & (1 << k)) == 0)
                {
                    byKind[k][i >> 6] &= ~(1UL << (i & 63));
                }
            }
        }

        return byKind;
    }

    /// <summary>Hash dispatch for one field: value -> rules that value can still satisfy.</summary>
    private sealed class FieldIndex
    {
        private readonly FrozenDictionary<string, ulong[]> _byValue;
        private readonly ulong[] _others;

        private FieldIndex(RouteField field, FrozenDictionary<string, ulong[]> byValue, ulong[] others)
        {
            Field = field;
            _byValue = byValue;
            _others = others;
        }

        public RouteField Field { get; }

        public ReadOnlySpan<ulong> Lookup(string value) => _byValue.TryGetValue(value, out ulong[]? bits) ? bits : _others;

        public static FieldIndex? Build(RouteField field, int ruleCount, int words, List<(RouteField Field, IReadOnlyList<string> Values)?[]> dispatched)
        {
            if (field == RouteField.Statement)
            {
                return null;
            }

            // "others": rules that do not test this field; every value can satisfy them.
            ulong[] others = new ulong[words];
            var byValue = new Dictionary<string, ulong[]>(StringComparer.OrdinalIgnoreCase);
            bool any = false;
            for (int i = 0; i < ruleCount; i++)
            {
                IReadOnlyList<string>? values = null;
                foreach ((RouteField Field, IReadOnlyList<string> Values)? c in dispatched[i])
                {
                    if (c is { } constraint && constraint.Field == field)
                    {
                        values = constraint.Values;
                    }
                }

                if (values is null)
                {
                    others[i >> 6] |= 1UL << (i & 63);
                    continue;
                }

                any = true;
                foreach (string value in values)
                {
                    if (!byValue.TryGetValue(value, out ulong[]? bits))
                    {
                        byValue[value] = bits = new ulong[words];
                    }

                    bits[i >> 6] |= 1UL << (i & 63);
                }
            }

            if (!any)
            {
                return null;
            }

            foreach (ulong[] bits in byValue.Values)
            {
                for (int w = 0; w < words; w++)
                {
                    bits[w] |= others[w];
                }
            }

            return new FieldIndex(field, byValue.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), others);
        }
    }
}

/// <summary>Why a request went where it went.</summary>
public sealed class RouteExplanation(RouteDecision decision, IReadOnlyList<string> conditionsHeld, IReadOnlyList<string> tagRulesApplied, SqlAnalysis analysis)
{
    public RouteDecision Decision { get; } = decision;

    /// <summary>The deciding rule's conditions that held (empty for the fallback).</summary>
    public IReadOnlyList<string> ConditionsHeld { get; } = conditionsHeld;

    /// <summary>Names of tags-only rules that matched before the decision.</summary>
    public IReadOnlyList<string> TagRulesApplied { get; } = tagRulesApplied;

    public SqlAnalysis Analysis { get; } = analysis;
}
