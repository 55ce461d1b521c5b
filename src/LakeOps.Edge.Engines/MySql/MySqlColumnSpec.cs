using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>How one MySQL value is decoded into Arrow.</summary>
internal enum MySqlValueKind : byte
{
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
    Decimal,
    Utf8,
    Binary,
    Date,
    Timestamp,
    Time,

    /// <summary>BIT(n): big-endian bytes, as Int64.</summary>
    Bit,
}

/// <summary>
/// One result column of a MySQL-wire engine: its Arrow field and how to decode its values. The type
/// mapping is the table in <see cref="Map"/>.
/// </summary>
internal sealed class MySqlColumnSpec
{
    private static readonly TimestampType TimestampLocal = new(TimeUnit.Microsecond, (string?)null);
    private static readonly TimestampType TimestampUtc = new(TimeUnit.Microsecond, "UTC");
    private static readonly Time64Type TimeMicros = new(TimeUnit.Microsecond);

    private MySqlColumnSpec(MySqlValueKind kind, Field field, MySqlColumnType type, int scale = 0)
    {
        Kind = kind;
        Field = field;
        Type = type;
        Scale = scale;
    }

    public MySqlValueKind Kind { get; }

    public Field Field { get; }

    /// <summary>The wire type, which decides the binary-protocol encoding of the value.</summary>
    public MySqlColumnType Type { get; }

    /// <summary>Decimal scale (Decimal kind).</summary>
    public int Scale { get; }

    /// <summary>
    /// The Arrow form of a MySQL column.
    /// </summary>
    /// <remarks>
    /// TINYINT: Int8 (UInt8 unsigned); SMALLINT: Int16 (UInt16); MEDIUMINT, INT: Int32 (UInt32); BIGINT: Int64
    /// (UInt64); FLOAT: Float; DOUBLE: Double; DECIMAL(p,s) with p &lt;= 38: Decimal128(p,s), wider: Utf8;
    /// CHAR, VARCHAR, TEXT, ENUM, SET: Utf8; BINARY, VARBINARY, BLOB (character set 63), GEOMETRY: Binary;
    /// JSON: Utf8 + arrow.json; DATE: Date32; DATETIME: Timestamp(us); TIMESTAMP: Timestamp(us, "UTC");
    /// TIME: Time64(us) (values outside 00:00:00..23:59:59.999999 fail with 22008); YEAR: Int16;
    /// BIT(n): Int64; NULL (a bare NULL literal): Utf8. Zero dates ('0000-00-00') become NULL.
    /// Every field carries the engine's type name in <see cref="ArrowConventions.EngineTypeKey"/>.
    /// </remarks>
    public static MySqlColumnSpec Map(MySqlColumnDefinition column)
    {
        ArgumentNullException.ThrowIfNull(column);
        bool unsigned = (column.Flags & MySqlColumnFlags.Unsigned) != 0;
        bool binary = column.CharacterSet == MySqlCharacterSet.Binary;
        switch (column.Type)
        {
            case MySqlColumnType.Tiny:
                return Make(column, unsigned ? MySqlValueKind.UInt8 : MySqlValueKind.Int8, unsigned ? UInt8Type.Default : Int8Type.Default, "TINYINT");
            case MySqlColumnType.Short:
                return Make(column, unsigned ? MySqlValueKind.UInt16 : MySqlValueKind.Int16, unsigned ? UInt16Type.Default : Int16Type.Default, "SMALLINT");
            case MySqlColumnType.Int24:
                return Make(column, unsigned ? MySqlValueKind.UInt32 : MySqlValueKind.Int32, unsigned ? UInt32Type.Default : Int32Type.Default, "MEDIUMINT");
            case MySqlColumnType.Long:
                return Make(column, unsigned ? MySqlValueKind.UInt32 : MySqlValueKind.Int32, unsigned ? UInt32Type.Default : Int32Type.Default, "INT");
            case MySqlColumnType.LongLong:
                return Make(column, unsigned ? MySqlValueKind.UInt64 : MySqlValueKind.Int64, unsigned ? UInt64Type.Default : Int64Type.Default, "BIGINT");
            case MySqlColumnType.Year:
                return Make(column, MySqlValueKind.Int16, Int16Type.Default, "YEAR");
            case MySqlColumnType.Float:
                return Make(column, MySqlValueKind.Float32, FloatType.Default, "FLOAT");
            case MySqlColumnType.Double:
                return Make(column, MySqlValueKind.Float64, DoubleType.Default, "DOUBLE");
            case MySqlColumnType.Decimal:
            case MySqlColumnType.NewDecimal:
                return MapDecimal(column, unsigned);
            case MySqlColumnType.Date:
            case MySqlColumnType.NewDate:
                return Make(column, MySqlValueKind.Date, Date32Type.Default, "DATE");
            case MySqlColumnType.DateTime:
            case MySqlColumnType.DateTime2:
                return Make(column, MySqlValueKind.Timestamp, TimestampLocal, "DATETIME");
            case MySqlColumnType.Timestamp:
            case MySqlColumnType.Timestamp2:
                return Make(column, MySqlValueKind.Timestamp, TimestampUtc, "TIMESTAMP");
            case MySqlColumnType.Time:
            case MySqlColumnType.Time2:
                return Make(column, MySqlValueKind.Time, TimeMicros, "TIME");
            case MySqlColumnType.Bit:
                return Make(column, MySqlValueKind.Bit, Int64Type.Default, "BIT");
            case MySqlColumnType.Json:
                return Make(column, MySqlValueKind.Utf8, StringType.Default, "JSON", json: true);
            case MySqlColumnType.Geometry:
            case MySqlColumnType.Vector:
                return Make(column, MySqlValueKind.Binary, BinaryType.Default, column.Type == MySqlColumnType.Geometry ? "GEOMETRY" : "VECTOR");
            case MySqlColumnType.Null:
                return Make(column, MySqlValueKind.Utf8, StringType.Default, "NULL");
            case MySqlColumnType.Enum:
                return Make(column, MySqlValueKind.Utf8, StringType.Default, "ENUM");
            case MySqlColumnType.Set:
                return Make(column, MySqlValueKind.Utf8, StringType.Default, "SET");
            default:
                // VARCHAR, VAR_STRING, STRING, TINY/MEDIUM/LONG BLOB, BLOB: text unless the character set is binary.
                string name = StringTypeName(column, binary);
                return binary
                    ? Make(column, MySqlValueKind.Binary, BinaryType.Default, name)
                    : Make(column, MySqlValueKind.Utf8, StringType.Default, name);
        }
    }

    private static string StringTypeName(MySqlColumnDefinition column, bool binary)
    {
        if ((column.Flags & MySqlColumnFlags.Enum) != 0)
        {
            return "ENUM";
        }

        if ((column.Flags & MySqlColumnFlags.Set) != 0)
        {
            return "SET";
        }

        return column.Type switch
        {
            MySqlColumnType.String => binary ? "BINARY" : "CHAR",
            MySqlColumnType.VarChar or MySqlColumnType.VarString => binary ? "VARBINARY" : "VARCHAR",
            _ => binary ? "BLOB" : "TEXT",
        };
    }

    private static MySqlColumnSpec MapDecimal(MySqlColumnDefinition column, bool unsigned)
    {
        int scale = column.Decimals;

        // column_length counts the digits, the point (when there is a scale) and the sign (when signed).
        int precision = (int)column.ColumnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
        precision = Math.Max(precision, Math.Max(scale, 1));
        string name = string.Create(CultureInfo.InvariantCulture, $"DECIMAL({precision},{scale})");
        if (precision > 38 || scale > 38)
        {
            return Make(column, MySqlValueKind.Utf8, StringType.Default, name);
        }

        return new MySqlColumnSpec(MySqlValueKind.Decimal, MakeField(column.Name, new Decimal128Type(precision, scale), name, json: false), column.Type, scale);
    }

    private static MySqlColumnSpec Make(MySqlColumnDefinition column, MySqlValueKind kind, IArrowType type, string typeName, bool json = false) =>
        new(kind, MakeField(column.Name, type, (column.Flags & MySqlColumnFlags.Unsigned) != 0 && kind is not MySqlValueKind.Decimal ? typeName + " UNSIGNED" : typeName, json), column.Type);

    private static Field MakeField(string name, IArrowType type, string typeName, bool json)
    {
        var metadata = new Dictionary<string, string>(json ? 2 : 1, StringComparer.Ordinal) { [ArrowConventions.EngineTypeKey] = typeName };
        if (json)
        {
            metadata[ArrowConventions.ExtensionNameKey] = ArrowConventions.JsonExtension;
        }

        return new Field(name, type, nullable: true, metadata);
    }
}
