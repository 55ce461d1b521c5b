using System.Globalization;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Routing;

/// <summary>One line of an explanation: the result-set column, the CLI label, the text.</summary>
/// <param name="Column">Column name in an <c>EXPLAIN ROUTE</c> result set.</param>
/// <param name="Label">Label the <c>explain</c> verb prints.</param>
/// <param name="Value">The text; empty when the field does not apply.</param>
/// <param name="Optional">The CLI leaves the line out when <paramref name="Value"/> is empty.</param>
public readonly record struct RouteExplanationField(string Column, string Label, string Value, bool Optional);

/// <summary>
/// The text of a <see cref="RouteExplanation"/>, shared by the <c>explain</c> verb (label: value lines)
/// and <c>EXPLAIN ROUTE</c> in sessions (one row, one column per field), so both say the same.
/// </summary>
public static class RouteExplanationFields
{
    /// <summary>The column names, in order (the same for every explanation).</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["rule", "group", "denied", "reason", "conditions_held", "tag_rules", "tags", "kind", "tables", "hint", "fingerprint"];

    public static RouteExplanationField[] Of(RouteExplanation explanation)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        RouteDecision decision = explanation.Decision;
        SqlAnalysis analysis = explanation.Analysis;
        return
        [
            new("rule", "rule", decision.RuleName, false),
            new("group", "group", decision.Group?.Name ?? "", true),
            new("denied", "denied", decision.IsDenied ? decision.DenyMessage ?? "" : "", true),
            new("reason", "reason", decision.Reason, false),
            new("conditions_held", "conditions", explanation.ConditionsHeld.Count == 0 ? "-" : string.Join("; ", explanation.ConditionsHeld), false),
            new("tag_rules", "tag rules", string.Join(", ", explanation.TagRulesApplied), true),
            new("tags", "added tags", string.Join(",", decision.AddedTags), true),
            new("kind", "statement", analysis.Kind.ToString().ToLowerInvariant(), false),
            new("tables", "tables", analysis.Tables.Count == 0 ? "-" : string.Join(", ", analysis.Tables), false),
            new("hint", "hint", analysis.Hint.IsEmpty ? "" : $"tags={string.Join(",", analysis.Hint.Tags)} group={analysis.Hint.Group ?? "-"}", true),
            new("fingerprint", "fingerprint", analysis.Fingerprint.ToString("x16", CultureInfo.InvariantCulture), false),
        ];
    }

    /// <summary>The CLI form: "label:" padded to 13 characters, then the value; empty optional fields left out.</summary>
    public static void Write(RouteExplanation explanation, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (RouteExplanationField field in Of(explanation))
        {
            if (field.Optional && field.Value.Length == 0)
            {
                continue;
            }

            output.WriteLine($"{field.Label + ":",-13}{field.Value}");
        }
    }
}
