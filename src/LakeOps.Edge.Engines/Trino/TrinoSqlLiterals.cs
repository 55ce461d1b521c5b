using System.Globalization;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// Parameters of prepared statements on a Trino cluster: finds the placeholders (<c>$n</c> as PostgreSQL
/// clients write them, or <c>?</c>) outside strings, identifiers and comments, and inlines values as Trino
/// literals of the parameter's type (<c>DATE '2024-01-02'</c>, <c>X'00ff'</c>, <c>CAST('..' AS bigint)</c>).
/// </summary>
internal static class TrinoSqlLiterals
{
    /// <summary>One placeholder in the text: where it is and which parameter (0-based) it stands for.</summary>
    public readonly record struct Occurrence(int Start, int Length, int Parameter);

    /// <summary>All placeholders of a statement; <see cref="Count"/> parameters in all.</summary>
    public sealed record Placeholders(IReadOnlyList<Occurrence> Occurrences, int Count);

    public static Placeholders FindPlaceholders(string sql)
    {
        var occurrences = new List<Occurrence>();
        int count = 0;
        int questionMarks = 0;
        var lexer = new SqlLexer(sql);
        for (SqlToken token = lexer.Next(); token.Kind != SqlTokenKind.End; token = lexer.Next())
        {
            ReadOnlySpan<char> text = token.Text(sql);
            if (token.Kind == SqlTokenKind.Parameter && text.Length > 1 && text[0] == '$'
                && int.TryParse(text[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= 1)
            {
                occurrences.Add(new Occurrence(token.Start, token.Length, number - 1));
                count = Math.Max(count, number);
            }
            else if (token.Kind == SqlTokenKind.Operator && text is "?")
            {
                occurrences.Add(new Occurrence(token.Start, token.Length, questionMarks++));
                count = Math.Max(count, questionMarks);
            }
        }

        return new Placeholders(occurrences.AsReadOnly(), count);
    }

    /// <summary>The statement with every placeholder written as '?', as Trino's PREPARE expects.</summary>
    public static string WithQuestionMarks(string sql, Placeholders placeholders)
    {
        if (placeholders.Occurrences.Count == 0)
        {
            return sql;
        }

        var text = new StringBuilder(sql.Length);
        int at = 0;
        foreach (Occurrence occurrence in placeholders.Occurrences)
        {
            text.Append(sql, at, occurrence.Start - at).Append('?');
            at = occurrence.Start + occurrence.Length;
        }

        return text.Append(sql, at, sql.Length - at).ToString();
    }

    public static string Inline(string sql, Placeholders placeholders, ReadOnlySpan<ParameterValue> values, IReadOnlyList<string?> trinoTypes)
    {
        var text = new StringBuilder(sql.Length + (16 * placeholders.Occurrences.Count));
        int at = 0;
        foreach (Occurrence occurrence in placeholders.Occurrences)
        {
            text.Append(sql, at, occurrence.Start - at);
            string? type = occurrence.Parameter < trinoTypes.Count ? trinoTypes[occurrence.Parameter] : null;
            Append(text, values[occurrence.Parameter], type);
            at = occurrence.Start + occurrence.Length;
        }

        return text.Append(sql, at, sql.Length - at).ToString();
    }

    /// <summary>A Trino literal for one value; <paramref name="type"/> is the parameter's Trino type when known.</summary>
    public static void Append(StringBuilder text, ParameterValue value, string? type)
    {
        ArgumentNullException.ThrowIfNull(text);
        CultureInfo invariant = CultureInfo.InvariantCulture;
        switch (value.Kind)
        {
            case ParameterKind.Null:
                if (type is null)
                {
                    text.Append("NULL");
                }
                else
                {
                    text.Append("CAST(NULL AS ").Append(type).Append(')');
                }

                break;
            case ParameterKind.Boolean:
                text.Append(value.AsBoolean ? "TRUE" : "FALSE");
                break;
            case ParameterKind.Int16:
            case ParameterKind.Int32:
                text.Append(value.AsInt64.ToString(invariant));
                break;
            case ParameterKind.Int64:
                text.Append("BIGINT '").Append(value.AsInt64.ToString(invariant)).Append('\'');
                break;
            case ParameterKind.Float32:
                text.Append("REAL '").Append(value.AsFloat32.ToString("R", invariant)).Append('\'');
                break;
            case ParameterKind.Float64:
                text.Append("DOUBLE '").Append(value.AsFloat64.ToString("R", invariant)).Append('\'');
                break;
            case ParameterKind.Decimal:
                text.Append("DECIMAL '").Append(value.AsString).Append('\'');
                break;
            case ParameterKind.Bytes:
                text.Append("X'").Append(Convert.ToHexString(value.AsBytes)).Append('\'');
                break;
            case ParameterKind.Date:
                text.Append("DATE '").Append(Date(value.AsInt64)).Append('\'');
                break;
            case ParameterKind.Time:
                text.Append("TIME '").Append(Time(value.AsInt64)).Append('\'');
                break;
            case ParameterKind.Timestamp:
            case ParameterKind.TimestampTz:
                long micros = value.AsInt64;
                long days = Math.DivRem(micros, 86_400_000_000L, out long ofDay);
                if (ofDay < 0)
                {
                    ofDay += 86_400_000_000L;
                    days--;
                }

                text.Append("TIMESTAMP '").Append(Date(days)).Append(' ').Append(Time(ofDay));
                text.Append(value.Kind == ParameterKind.TimestampTz ? " UTC'" : "'");
                break;
            case ParameterKind.Interval:
                AppendInterval(text, value.AsInterval);
                break;
            case ParameterKind.Uuid:
                text.Append("UUID ");
                Quote(text, value.AsString);
                break;
            case ParameterKind.Json:
                text.Append("JSON ");
                Quote(text, value.AsString);
                break;
            case ParameterKind.Array:
                text.Append("ARRAY[");
                ParameterValue[] elements = value.AsArray;
                for (int i = 0; i < elements.Length; i++)
                {
                    text.Append(i == 0 ? string.Empty : ", ");
                    Append(text, elements[i], null);
                }

                text.Append(']');
                break;
            default:
                // Text: typed by the statement when DESCRIBE INPUT knew the type, else a varchar literal.
                if (type is null || type.StartsWith("varchar", StringComparison.OrdinalIgnoreCase) || type.StartsWith("char", StringComparison.OrdinalIgnoreCase))
                {
                    Quote(text, value.AsString);
                }
                else
                {
                    text.Append("CAST(");
                    Quote(text, value.AsString);
                    text.Append(" AS ").Append(type).Append(')');
                }

                break;
        }
    }

    private static void AppendInterval(StringBuilder text, IntervalValue interval)
    {
        if (interval.Months != 0 && (interval.Days != 0 || interval.Microseconds != 0))
        {
            throw new EngineException("Trino cannot mix months with days or seconds in one interval", SqlStates.FeatureNotSupported);
        }

        CultureInfo invariant = CultureInfo.InvariantCulture;
        if (interval.Months != 0)
        {
            int months = Math.Abs(interval.Months);
            text.Append("INTERVAL '").Append(interval.Months < 0 ? "-" : string.Empty)
                .Append((months / 12).ToString(invariant)).Append('-').Append((months % 12).ToString(invariant)).Append("' YEAR TO MONTH");
            return;
        }

        long total = (interval.Days * 86_400_000_000L) + interval.Microseconds;
        bool negative = total < 0;
        total = Math.Abs(total);
        long days = total / 86_400_000_000L;
        text.Append("INTERVAL '").Append(negative ? "-" : string.Empty).Append(days.ToString(invariant)).Append(' ')
            .Append(Time(total % 86_400_000_000L)).Append("' DAY TO SECOND");
    }

    private static string Date(long days) =>
        DateOnly.FromDayNumber(checked((int)(days + 719_162))).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Time(long micros)
    {
        long seconds = Math.DivRem(micros, 1_000_000, out long fraction);
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}.{fraction:000000}");
    }

    private static void Quote(StringBuilder text, string value) =>
        text.Append('\'').Append(value.Replace("'", "''", StringComparison.Ordinal)).Append('\'');
}
