using System.Globalization;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// The Trino result column types the engine adapter (reader side) distinguishes; everything else is <see cref="Other"/>.
/// (The front door's writer side has its own TrinoTypeKind for the types it produces.)
/// </summary>
public enum TrinoColumnTypeKind : byte
{
    /// <summary>The type of a bare NULL literal ("unknown").</summary>
    Unknown,
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Decimal,
    Varchar,
    Char,
    Varbinary,
    Json,
    Date,
    Time,
    TimeWithTimeZone,
    Timestamp,
    TimestampWithTimeZone,
    IntervalDayToSecond,
    IntervalYearToMonth,
    Uuid,
    Array,
    Map,
    Row,

    /// <summary>Any other type (ipaddress, HyperLogLog, geometry, ...): values are kept as text.</summary>
    Other,
}

/// <summary>A field of a Trino row type; <see cref="Name"/> is null for anonymous fields.</summary>
public sealed record TrinoColumnTypeField(string? Name, TrinoColumnType Type);

/// <summary>
/// A parsed Trino type, e.g. <c>decimal(10,2)</c>, <c>timestamp(3) with time zone</c>, <c>array(map(varchar, bigint))</c>.
/// <see cref="Precision"/> is the fractional-second digits for time/timestamp, the digits of a decimal;
/// <see cref="Length"/> is the declared length of varchar/char (-1 unbounded).
/// </summary>
public sealed record TrinoColumnType(TrinoColumnTypeKind Kind, string Name)
{
    public int Precision { get; init; } = -1;

    public int Scale { get; init; }

    public int Length { get; init; } = -1;

    /// <summary>Element type of an array; key type of a map.</summary>
    public TrinoColumnType? ElementType { get; init; }

    /// <summary>Value type of a map.</summary>
    public TrinoColumnType? ValueType { get; init; }

    public IReadOnlyList<TrinoColumnTypeField> Fields { get; init; } = [];

    public bool IsNested => Kind is TrinoColumnTypeKind.Array or TrinoColumnTypeKind.Map or TrinoColumnTypeKind.Row;
}

/// <summary>
/// Parses the <c>type</c> strings of Trino's result columns (the display form of the type signature, which
/// every Trino version sends): base names of one or several words, parameters in parentheses, row fields
/// as <c>name type</c> (names may be double-quoted).
/// </summary>
public static class TrinoTypeSignatureParser
{
    /// <summary>Parses <paramref name="type"/>; unknown names give <see cref="TrinoColumnTypeKind.Other"/>, malformed text throws <see cref="FormatException"/>.</summary>
    public static TrinoColumnType Parse(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        int position = 0;
        TrinoColumnType parsed = ParseType(type, ref position);
        SkipSpaces(type, ref position);
        if (position != type.Length)
        {
            throw new FormatException($"unexpected '{type[position]}' at position {position} of Trino type '{type}'");
        }

        return parsed;
    }

    private static TrinoColumnType ParseType(string text, ref int position)
    {
        int start = position;
        string baseName = ReadBaseName(text, ref position);
        if (baseName.Length == 0)
        {
            throw new FormatException($"missing type name at position {start} of Trino type '{text}'");
        }

        List<int>? numbers = null;
        TrinoColumnType? element = null;
        TrinoColumnType? value = null;
        List<TrinoColumnTypeField>? fields = null;
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
        return lower switch
        {
            "array" when element is not null => new TrinoColumnType(TrinoColumnTypeKind.Array, name) { ElementType = element },
            "map" when element is not null => new TrinoColumnType(TrinoColumnTypeKind.Map, name) { ElementType = element, ValueType = value },
            "row" when fields is not null => new TrinoColumnType(TrinoColumnTypeKind.Row, name) { Fields = fields.AsReadOnly() },
            "boolean" => new TrinoColumnType(TrinoColumnTypeKind.Boolean, name),
            "tinyint" => new TrinoColumnType(TrinoColumnTypeKind.TinyInt, name),
            "smallint" => new TrinoColumnType(TrinoColumnTypeKind.SmallInt, name),
            "integer" or "int" => new TrinoColumnType(TrinoColumnTypeKind.Integer, name),
            "bigint" => new TrinoColumnType(TrinoColumnTypeKind.BigInt, name),
            "real" => new TrinoColumnType(TrinoColumnTypeKind.Real, name),
            "double" or "double precision" => new TrinoColumnType(TrinoColumnTypeKind.Double, name),
            "decimal" => new TrinoColumnType(TrinoColumnTypeKind.Decimal, name)
            {
                Precision = first < 0 ? 38 : first,
                Scale = numbers is { Count: > 1 } ? numbers[1] : 0,
            },
            "varchar" => new TrinoColumnType(TrinoColumnTypeKind.Varchar, name) { Length = first },
            "char" => new TrinoColumnType(TrinoColumnTypeKind.Char, name) { Length = first < 0 ? 1 : first },
            "varbinary" => new TrinoColumnType(TrinoColumnTypeKind.Varbinary, name),
            "json" => new TrinoColumnType(TrinoColumnTypeKind.Json, name),
            "date" => new TrinoColumnType(TrinoColumnTypeKind.Date, name),
            "time" => new TrinoColumnType(withTimeZone ? TrinoColumnTypeKind.TimeWithTimeZone : TrinoColumnTypeKind.Time, name) { Precision = first < 0 ? 3 : first },
            "timestamp" => new TrinoColumnType(withTimeZone ? TrinoColumnTypeKind.TimestampWithTimeZone : TrinoColumnTypeKind.Timestamp, name) { Precision = first < 0 ? 3 : first },
            "interval day to second" => new TrinoColumnType(TrinoColumnTypeKind.IntervalDayToSecond, name),
            "interval year to month" => new TrinoColumnType(TrinoColumnTypeKind.IntervalYearToMonth, name),
            "uuid" => new TrinoColumnType(TrinoColumnTypeKind.Uuid, name),
            "unknown" => new TrinoColumnType(TrinoColumnTypeKind.Unknown, name),
            _ => new TrinoColumnType(TrinoColumnTypeKind.Other, name),
        };
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

    private static List<TrinoColumnTypeField> ParseRowFields(string text, ref int position)
    {
        var fields = new List<TrinoColumnTypeField>();
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

            fields.Add(new TrinoColumnTypeField(name, ParseType(text, ref position)));
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
