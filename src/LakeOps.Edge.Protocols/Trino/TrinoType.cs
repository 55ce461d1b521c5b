using System.Globalization;
using System.Text.Json;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// The Trino types Edge distinguishes: those the front door produces (the value encoding depends on it) and
/// those the engine adapter reads from a coordinator's <c>columns</c>.
/// </summary>
public enum TrinoTypeKind : byte
{
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
    Varbinary,
    Date,
    Time,
    Timestamp,
    TimestampWithTimeZone,
    IntervalDayToSecond,
    IntervalYearToMonth,
    Json,
    Uuid,
    Array,
    Map,
    Row,

    /// <summary>char(n); only read from a coordinator.</summary>
    Char,

    /// <summary>time(p) with time zone; only read from a coordinator.</summary>
    TimeWithTimeZone,

    /// <summary>Any other type a coordinator names (ipaddress, HyperLogLog, geometry, ...): values are kept as text.</summary>
    Other,
}

/// <summary>
/// One Trino type: its display name (<c>decimal(10,2)</c>, <c>array(bigint)</c>) and the parts of its
/// <c>typeSignature</c> (raw type plus LONG / TYPE / NAMED_TYPE arguments). Immutable; built once per
/// column by <see cref="TrinoTypeMapper"/> (front door) or <see cref="TrinoTypeSignatureParser"/> (engine adapter).
/// </summary>
public sealed class TrinoType
{
    /// <summary>Trino's length of an unbounded varchar (the LONG argument of its signature).</summary>
    public const int UnboundedVarcharLength = int.MaxValue;

    private TrinoType(TrinoTypeKind kind, string rawType, string name, int precision, int scale, TrinoType[] children, string?[] fieldNames)
        : this(kind, rawType, name, precision, scale, kind == TrinoTypeKind.Varchar ? precision : 0, children, fieldNames)
    {
    }

    /// <summary>Any type, with its display name as given (the parser keeps the coordinator's spelling).</summary>
    internal TrinoType(TrinoTypeKind kind, string rawType, string name, int precision, int scale, int length, TrinoType[] children, string?[] fieldNames)
    {
        Kind = kind;
        RawType = rawType;
        Name = name;
        Precision = precision;
        Scale = scale;
        Length = length;
        Children = children;
        FieldNames = fieldNames;
    }

    public static TrinoType Unknown { get; } = Simple(TrinoTypeKind.Unknown, "unknown");

    public static TrinoType Boolean { get; } = Simple(TrinoTypeKind.Boolean, "boolean");

    public static TrinoType TinyInt { get; } = Simple(TrinoTypeKind.TinyInt, "tinyint");

    public static TrinoType SmallInt { get; } = Simple(TrinoTypeKind.SmallInt, "smallint");

    public static TrinoType Integer { get; } = Simple(TrinoTypeKind.Integer, "integer");

    public static TrinoType BigInt { get; } = Simple(TrinoTypeKind.BigInt, "bigint");

    public static TrinoType Real { get; } = Simple(TrinoTypeKind.Real, "real");

    public static TrinoType Double { get; } = Simple(TrinoTypeKind.Double, "double");

    public static TrinoType Varchar { get; } = new(TrinoTypeKind.Varchar, "varchar", "varchar", UnboundedVarcharLength, 0, [], []);

    public static TrinoType Varbinary { get; } = Simple(TrinoTypeKind.Varbinary, "varbinary");

    public static TrinoType Date { get; } = Simple(TrinoTypeKind.Date, "date");

    public static TrinoType IntervalDayToSecond { get; } = Simple(TrinoTypeKind.IntervalDayToSecond, "interval day to second");

    public static TrinoType IntervalYearToMonth { get; } = Simple(TrinoTypeKind.IntervalYearToMonth, "interval year to month");

    public static TrinoType Json { get; } = Simple(TrinoTypeKind.Json, "json");

    public static TrinoType Uuid { get; } = Simple(TrinoTypeKind.Uuid, "uuid");

    public TrinoTypeKind Kind { get; }

    /// <summary>The signature's rawType: "varchar", "decimal", "timestamp with time zone", "array", ...</summary>
    public string RawType { get; }

    /// <summary>The type as Trino prints it in <c>columns[].type</c>.</summary>
    public string Name { get; }

    /// <summary>decimal precision; fractional-second digits of time/timestamp; varchar length (as <see cref="Length"/>).</summary>
    public int Precision { get; }

    /// <summary>decimal scale.</summary>
    public int Scale { get; }

    /// <summary>Declared length of varchar / char (<see cref="UnboundedVarcharLength"/> for a plain varchar); 0 for other kinds.</summary>
    public int Length { get; }

    /// <summary>Element (array), key and value (map) or field types (row).</summary>
    public IReadOnlyList<TrinoType> Children { get; }

    /// <summary>Row field names (null for an anonymous field); empty for other kinds.</summary>
    public IReadOnlyList<string?> FieldNames { get; }

    public static TrinoType Decimal(int precision, int scale) =>
        new(TrinoTypeKind.Decimal, "decimal", string.Create(CultureInfo.InvariantCulture, $"decimal({precision},{scale})"), precision, scale, [], []);

    public static TrinoType Time(int precision) =>
        new(TrinoTypeKind.Time, "time", string.Create(CultureInfo.InvariantCulture, $"time({precision})"), precision, 0, [], []);

    public static TrinoType Timestamp(int precision) =>
        new(TrinoTypeKind.Timestamp, "timestamp", string.Create(CultureInfo.InvariantCulture, $"timestamp({precision})"), precision, 0, [], []);

    public static TrinoType TimestampWithTimeZone(int precision) =>
        new(TrinoTypeKind.TimestampWithTimeZone, "timestamp with time zone", string.Create(CultureInfo.InvariantCulture, $"timestamp({precision}) with time zone"), precision, 0, [], []);

    public static TrinoType Array(TrinoType element)
    {
        ArgumentNullException.ThrowIfNull(element);
        return new(TrinoTypeKind.Array, "array", $"array({element.Name})", 0, 0, [element], []);
    }

    public static TrinoType Map(TrinoType key, TrinoType value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return new(TrinoTypeKind.Map, "map", $"map({key.Name}, {value.Name})", 0, 0, [key, value], []);
    }

    /// <summary>row(name type, ...); a null or empty name makes an anonymous field.</summary>
    public static TrinoType Row(IReadOnlyList<string?> names, IReadOnlyList<TrinoType> fields)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(fields);
        var parts = new string[fields.Count];
        var children = new TrinoType[fields.Count];
        var fieldNames = new string?[fields.Count];
        for (int i = 0; i < fields.Count; i++)
        {
            string? name = i < names.Count && !string.IsNullOrEmpty(names[i]) ? names[i] : null;
            children[i] = fields[i];
            fieldNames[i] = name;
            parts[i] = name is null ? fields[i].Name : $"{QuoteFieldName(name)} {fields[i].Name}";
        }

        return new(TrinoTypeKind.Row, "row", $"row({string.Join(", ", parts)})", 0, 0, children, fieldNames);
    }

    /// <summary>
    /// Writes the typeSignature object: <c>{"rawType":..,"arguments":[..]}</c> with LONG arguments for
    /// lengths/precisions, TYPE for element types and NAMED_TYPE for row fields.
    /// </summary>
    public void WriteSignature(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("rawType"u8, RawType);
        writer.WriteStartArray("arguments"u8);
        switch (Kind)
        {
            case TrinoTypeKind.Varchar:
            case TrinoTypeKind.Char:
                WriteLongArgument(writer, Length);
                break;
            case TrinoTypeKind.Time:
            case TrinoTypeKind.TimeWithTimeZone:
            case TrinoTypeKind.Timestamp:
            case TrinoTypeKind.TimestampWithTimeZone:
                WriteLongArgument(writer, Precision);
                break;
            case TrinoTypeKind.Decimal:
                WriteLongArgument(writer, Precision);
                WriteLongArgument(writer, Scale);
                break;
            case TrinoTypeKind.Array:
            case TrinoTypeKind.Map:
                foreach (TrinoType child in Children)
                {
                    writer.WriteStartObject();
                    writer.WriteString("kind"u8, "TYPE"u8);
                    writer.WritePropertyName("value"u8);
                    child.WriteSignature(writer);
                    writer.WriteEndObject();
                }

                break;
            case TrinoTypeKind.Row:
                for (int i = 0; i < Children.Count; i++)
                {
                    writer.WriteStartObject();
                    writer.WriteString("kind"u8, "NAMED_TYPE"u8);
                    writer.WriteStartObject("value"u8);
                    if (FieldNames[i] is { } name)
                    {
                        writer.WriteStartObject("fieldName"u8);
                        writer.WriteString("name"u8, name);
                        writer.WriteEndObject();
                    }

                    writer.WritePropertyName("typeSignature"u8);
                    Children[i].WriteSignature(writer);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                break;
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public override string ToString() => Name;

    private static TrinoType Simple(TrinoTypeKind kind, string name) => new(kind, name, name, 0, 0, [], []);

    private static void WriteLongArgument(Utf8JsonWriter writer, long value)
    {
        writer.WriteStartObject();
        writer.WriteString("kind"u8, "LONG"u8);
        writer.WriteNumber("value"u8, value);
        writer.WriteEndObject();
    }

    /// <summary>Field names that are not plain identifiers are double-quoted in the display name, as Trino does.</summary>
    private static string QuoteFieldName(string name)
    {
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            }
        }

        return name;
    }
}
