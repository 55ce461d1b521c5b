using System.Globalization;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// Parses the <c>type</c> strings of Trino's result columns (the display form of the type signature, which
/// every Trino version sends): base names of one or several words, parameters in parentheses, row fields
/// as <c>name type</c> (names may be double-quoted).
/// </summary>
public static class TrinoTypeSignatureParser
{
    /// <summary>
    /// Parses <paramref name="type"/>; unknown names give <see cref="TrinoTypeKind.Other"/>, malformed text throws
    /// <see cref="FormatException"/>. <see cref="TrinoType.Name"/> keeps the text as given.
    /// </summary>
    public static TrinoType Parse(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        int position = 0;
        TrinoType parsed = ParseType(type, ref position);
        SkipSpaces(type, ref position);
        if (position != type.Length)
        {
            throw new FormatException($"unexpected '{type[position]}' at position {position} of Trino type '{type}'");
        }

        return parsed;
    }

    private static TrinoType ParseType(string text, ref int position)
    {
        int start = position;
        string baseName = ReadBaseName(text, ref position);
        if (baseName.Length == 0)
        {
            throw new FormatException($"missing type name at position {start} of Trino type '{text}'");
        }

        List<int>? numbers = null;
        TrinoType? element = null;
        TrinoType? value = null;
        List<(string? Name, TrinoType Type)>? fields = null;
        string lower = baseName.ToLowerInvariant();

        SkipSpaces(text, ref position);
        if (position < text.Length && text[position] == '(')
        {
            position++;
            switch (lower)
            {
                case "array":
                    element = ParseType(text, ref position);
                    break;
                case "map":
                    element = ParseType(text, ref position);
                    Expect(text, ref position, ',');
                    value = ParseType(text, ref position);
                    break;
                case "row":
                    fields = ParseRowFields(text, ref position);
                    break;
                default:
                    numbers = ParseParameters(text, ref position);
                    break;
            }

            Expect(text, ref position, ')');
        }

        // "timestamp(3) with time zone": the suffix follows the parameters.
        bool withTimeZone = false;
        if (lower is "time" or "timestamp" && TryWords(text, ref position, "with time zone"))
        {
            withTimeZone = true;
        }
        else if (lower is "time" or "timestamp")
        {
            TryWords(text, ref position, "without time zone");
        }

        string name = text[start..position].Trim();
        int first = numbers is { Count: > 0 } ? numbers[0] : -1;
        int timePrecision = first < 0 ? 3 : first;
        return lower switch
        {
            "array" when element is not null => Nested(TrinoTypeKind.Array, "array", name, [element], []),
            "map" when element is not null && value is not null => Nested(TrinoTypeKind.Map, "map", name, [element, value], []),
            "row" when fields is not null => Row(name, fields),
            "boolean" => Simple(TrinoTypeKind.Boolean, "boolean", name),
            "tinyint" => Simple(TrinoTypeKind.TinyInt, "tinyint", name),
            "smallint" => Simple(TrinoTypeKind.SmallInt, "smallint", name),
            "integer" or "int" => Simple(TrinoTypeKind.Integer, "integer", name),
            "bigint" => Simple(TrinoTypeKind.BigInt, "bigint", name),
            "real" => Simple(TrinoTypeKind.Real, "real", name),
            "double" or "double precision" => Simple(TrinoTypeKind.Double, "double", name),
            "decimal" => new TrinoType(TrinoTypeKind.Decimal, "decimal", name, first < 0 ? 38 : first, numbers is { Count: > 1 } ? numbers[1] : 0, 0, [], []),
            "varchar" => Sized(TrinoTypeKind.Varchar, "varchar", name, first < 0 ? TrinoType.UnboundedVarcharLength : first),
            "char" => Sized(TrinoTypeKind.Char, "char", name, first < 0 ? 1 : first),
            "varbinary" => Simple(TrinoTypeKind.Varbinary, "varbinary", name),
            "json" => Simple(TrinoTypeKind.Json, "json", name),
            "date" => Simple(TrinoTypeKind.Date, "date", name),
            "time" when withTimeZone => Timed(TrinoTypeKind.TimeWithTimeZone, "time with time zone", name, timePrecision),
            "time" => Timed(TrinoTypeKind.Time, "time", name, timePrecision),
            "timestamp" when withTimeZone => Timed(TrinoTypeKind.TimestampWithTimeZone, "timestamp with time zone", name, timePrecision),
            "timestamp" => Timed(TrinoTypeKind.Timestamp, "timestamp", name, timePrecision),
            "interval day to second" => Simple(TrinoTypeKind.IntervalDayToSecond, "interval day to second", name),
            "interval year to month" => Simple(TrinoTypeKind.IntervalYearToMonth, "interval year to month", name),
            "uuid" => Simple(TrinoTypeKind.Uuid, "uuid", name),
            "unknown" => Simple(TrinoTypeKind.Unknown, "unknown", name),
            _ => Simple(TrinoTypeKind.Other, lower, name),
        };
    }

    private static TrinoType Simple(TrinoTypeKind kind, string rawType, string name) => new(kind, rawType, name, 0, 0, 0, [], []);

    /// <summary>varchar / char: the length is also the varchar's Precision, as <see cref="TrinoType.Varchar"/> has it.</summary>
    private static TrinoType Sized(TrinoTypeKind kind, string rawType, string name, int length) => new(kind, rawType, name, length, 0, length, [], []);

    private static TrinoType Timed(TrinoTypeKind kind, string rawType, string name, int precision) => new(kind, rawType, name, precision, 0, 0, [], []);

    private static TrinoType Nested(TrinoTypeKind kind, string rawType, string name, TrinoType[] children, string?[] fieldNames) =>
        new(kind, rawType, name, 0, 0, 0, children, fieldNames);

    private static TrinoType Row(string name, List<(string? Name, TrinoType Type)> fields)
    {
        var children = new TrinoType[fields.Count];
        var fieldNames = new string?[fields.Count];
        for (int i = 0; i < fields.Count; i++)
        {
            (fieldNames[i], children[i]) = fields[i];
        }

        return Nested(TrinoTypeKind.Row, "row", name, children, fieldNames);
    }

    /// <summary>One or more words ("bigint", "interval day to second", "double precision") up to '(' ',' ')' or the end.</summary>
    private static string ReadBaseName(string text, ref int position)
    {
        SkipSpaces(text, ref position);
        int start = position;
        int end = position;
        while (position < text.Length && text[position] is not '(' and not ',' and not ')')
        {
            char c = text[position];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or ':' or '$')
            {
                position++;
                end = position;
                continue;
            }

            if (c == ' ')
            {
                // Continue into the next word only for the known multi-word base names.
                string sofar = text[start..end].ToLowerInvariant();
                if (sofar is "interval" or "interval day" or "interval day to" or "interval year" or "interval year to" or "double")
                {
                    int probe = position;
                    SkipSpaces(text, ref probe);
                    int wordEnd = probe;
                    while (wordEnd < text.Length && char.IsAsciiLetter(text[wordEnd]))
                    {
                        wordEnd++;
                    }

                    string next = text[probe..wordEnd].ToLowerInvariant();
                    bool continues = sofar switch
                    {
                        "interval" => next is "day" or "year",
                        "interval day" or "interval year" => next == "to",
                        "interval day to" => next == "second",
                        "interval year to" => next == "month",
                        _ => next == "precision",
                    };
                    if (continues)
                    {
                        position = wordEnd;
                        end = wordEnd;
                        continue;
                    }
                }
            }

            break;
        }

        position = end;
        return text[start..end];
    }

    private static List<int> ParseParameters(string text, ref int position)
    {
        var numbers = new List<int>(2);
        while (true)
        {
            SkipSpaces(text, ref position);
            int start = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (position == start)
            {
                // Non-numeric parameters (e.g. qdigest(bigint)): skip to the matching ')'.
                int depth = 0;
                while (position < text.Length && (depth > 0 || text[position] != ')'))
                {
                    depth += text[position] == '(' ? 1 : text[position] == ')' ? -1 : 0;
                    position++;
                }

                return numbers;
            }

            numbers.Add(int.Parse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture));
            SkipSpaces(text, ref position);
            if (position < text.Length && text[position] == ',')
            {
                position++;
                continue;
            }

            return numbers;
        }
    }

    private static List<(string? Name, TrinoType Type)> ParseRowFields(string text, ref int position)
    {
        var fields = new List<(string? Name, TrinoType Type)>();
        while (true)
        {
            SkipSpaces(text, ref position);
            string? name = null;
            if (position < text.Length && text[position] == '"')
            {
                name = ReadQuoted(text, ref position);
            }
            else
            {
                // "name type" or an anonymous "type": a first word followed by another type is a name.
                int save = position;
                string word = ReadBaseName(text, ref position);
                int afterWord = position;
                SkipSpaces(text, ref position);
                if (afterWord > save && position > afterWord && position < text.Length && text[position] is not ',' and not ')' and not '(')
                {
                    name = word;
                }
                else
                {
                    position = save;
                }
            }

            fields.Add((name, ParseType(text, ref position)));
            SkipSpaces(text, ref position);
            if (position < text.Length && text[position] == ',')
            {
                position++;
                continue;
            }

            return fields;
        }
    }

    private static string ReadQuoted(string text, ref int position)
    {
        position++;
        var name = new System.Text.StringBuilder();
        while (position < text.Length)
        {
            char c = text[position++];
            if (c == '"')
            {
                if (position < text.Length && text[position] == '"')
                {
                    name.Append('"');
                    position++;
                    continue;
                }

                return name.ToString();
            }

            name.Append(c);
        }

        throw new FormatException($"unterminated quoted field name in Trino type '{text}'");
    }

    private static bool TryWords(string text, ref int position, string words)
    {
        int probe = position;
        SkipSpaces(text, ref probe);
        foreach (string word in words.Split(' '))
        {
            SkipSpaces(text, ref probe);
            if (probe + word.Length > text.Length || !text.AsSpan(probe, word.Length).Equals(word, StringComparison.OrdinalIgnoreCase)
                || (probe + word.Length < text.Length && char.IsAsciiLetterOrDigit(text[probe + word.Length])))
            {
                return false;
            }

            probe += word.Length;
        }

        position = probe;
        return true;
    }

    private static void Expect(string text, ref int position, char expected)
    {
        SkipSpaces(text, ref position);
        if (position >= text.Length || text[position] != expected)
        {
            throw new FormatException($"expected '{expected}' at position {position} of Trino type '{text}'");
        }

        position++;
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && text[position] == ' ')
        {
            position++;
        }
    }
}
