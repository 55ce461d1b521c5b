using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.MySql.Types;

/// <summary>
/// Maps Arrow result fields (see <see cref="ArrowConventions"/>) to MySQL column definitions and value encoders.
/// The single place where Arrow types are inspected for MySQL clients, so ColumnDefinition41 and the rows agree.
/// <list type="table">
/// <listheader><term>Arrow</term><description>MYSQL_TYPE, flags, charset, length, decimals</description></listheader>
/// <item><term>Boolean</term><description>TINY, NUM, 63, 1, 0 (values 1/0)</description></item>
/// <item><term>Int8 / UInt8</term><description>TINY (UNSIGNED), 63, 4 / 3</description></item>
/// <item><term>Int16 / UInt16</term><description>SHORT (UNSIGNED), 63, 6 / 5</description></item>
/// <item><term>Int32 / UInt32</term><description>LONG (UNSIGNED), 63, 11 / 10</description></item>
/// <item><term>Int64 / UInt64</term><description>LONGLONG (UNSIGNED), 63, 20</description></item>
/// <item><term>Float16 / Float32</term><description>FLOAT, 63, 12, 31</description></item>
/// <item><term>Float64</term><description>DOUBLE, 63, 22, 31</description></item>
/// <item><term>Decimal(p, s)</term><description>NEWDECIMAL, 63, p + 2, s</description></item>
/// <item><term>Utf8 / LargeUtf8 / StringView (json too)</term><description>VAR_STRING, text charset, 262140, 0</description></item>
/// <item><term>uuid</term><description>STRING (CHAR(36)), text charset, 36 × bytes per char, 0</description></item>
/// <item><term>Binary / LargeBinary / BinaryView / FixedSizeBinary</term><description>BLOB, BLOB|BINARY, 63, 4294967295, 0</description></item>
/// <item><term>Date32 / Date64</term><description>DATE, BINARY, 63, 10, 0</description></item>
/// <item><term>Time32 / Time64</term><description>TIME, BINARY, 63, 10 (+1+fsp), fsp (0 s, 3 ms, 6 us/ns)</description></item>
/// <item><term>Timestamp (no zone)</term><description>DATETIME, BINARY, 63, 19 (+1+fsp), fsp</description></item>
/// <item><term>Timestamp (zone)</term><description>TIMESTAMP, BINARY|TIMESTAMP, 63, 19 (+1+fsp), fsp (UTC values)</description></item>
/// <item><term>Null</term><description>NULL, BINARY, 63, 0, 0</description></item>
/// <item><term>Interval, Duration, List, Struct, Map, Union, Dictionary, RunEndEncoded, others</term><description>VAR_STRING text (lists/structs/maps as JSON)</description></item>
/// </list>
/// </summary>
public static class MySqlTypeMapper
{
    /// <summary>Display length used for text columns of unknown width (65535 characters of utf8mb4).</summary>
    public const uint TextColumnLength = 65535 * 4;

    /// <summary>Length of binary columns (LONGBLOB).</summary>
    public const uint BlobColumnLength = uint.MaxValue;

    /// <summary>Longest column name sent (MySQL's limit for names and aliases).</summary>
    public const int MaxColumnNameLength = 256;

    /// <summary>"Not fixed" decimals of floating-point columns.</summary>
    public const byte NotFixedDecimals = 0x1F;

    /// <summary>The column definition a field is sent with.</summary>
    /// <param name="field">The Arrow field.</param>
    /// <param name="textCharset">Collation id for text columns (the client's, e.g. 255 or 45).</param>
    public static MySqlColumnDefinition Describe(Field field, ushort textCharset = MySqlCharacterSet.Utf8Mb4)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Map(field, textCharset, out _);
    }

    internal static MySqlColumnDefinition Map(Field field, ushort textCharset, out MySqlValueEncoder encoder)
    {
        string? extension = ExtensionName(field);
        IArrowType type = field.DataType;
        if (type is ExtensionType extensionType)
        {
            extension ??= extensionType.Name;
            type = extensionType.StorageType;
        }

        var binary = MySqlColumnFlags.Binary;
        switch (type.TypeId)
        {
            case ArrowTypeId.Null:
                encoder = new MySqlNullEncoder();
                return Column(field, MySqlColumnType.Null, 63, 0, binary, 0);
            case ArrowTypeId.Boolean:
                encoder = new MySqlBoolEncoder();
                return Column(field, MySqlColumnType.Tiny, 63, 1, MySqlColumnFlags.Num, 0);
            case ArrowTypeId.Int8:
                encoder = new MySqlIntegerEncoder<sbyte, Int8Array>(1);
                return Column(field, MySqlColumnType.Tiny, 63, 4, MySqlColumnFlags.Num, 0);
            case ArrowTypeId.UInt8:
                encoder = new MySqlIntegerEncoder<byte, UInt8Array>(1);
                return Column(field, MySqlColumnType.Tiny, 63, 3, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 0);
            case ArrowTypeId.Int16:
                encoder = new MySqlIntegerEncoder<short, Int16Array>(2);
                return Column(field, MySqlColumnType.Short, 63, 6, MySqlColumnFlags.Num, 0);
            case ArrowTypeId.UInt16:
                encoder = new MySqlIntegerEncoder<ushort, UInt16Array>(2);
                return Column(field, MySqlColumnType.Short, 63, 5, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 0);
            case ArrowTypeId.Int32:
                encoder = new MySqlIntegerEncoder<int, Int32Array>(4);
                return Column(field, MySqlColumnType.Long, 63, 11, MySqlColumnFlags.Num, 0);
            case ArrowTypeId.UInt32:
                encoder = new MySqlIntegerEncoder<uint, UInt32Array>(4);
                return Column(field, MySqlColumnType.Long, 63, 10, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 0);
            case ArrowTypeId.Int64:
                encoder = new MySqlIntegerEncoder<long, Int64Array>(8);
                return Column(field, MySqlColumnType.LongLong, 63, 20, MySqlColumnFlags.Num, 0);
            case ArrowTypeId.UInt64:
                encoder = new MySqlIntegerEncoder<ulong, UInt64Array>(8);
                return Column(field, MySqlColumnType.LongLong, 63, 20, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 0);
            case ArrowTypeId.HalfFloat:
            case ArrowTypeId.Float:
                encoder = new MySqlFloatEncoder(isDouble: false);
                return Column(field, MySqlColumnType.Float, 63, 12, MySqlColumnFlags.Num, NotFixedDecimals);
            case ArrowTypeId.Double:
                encoder = new MySqlFloatEncoder(isDouble: true);
                return Column(field, MySqlColumnType.Double, 63, 22, MySqlColumnFlags.Num, NotFixedDecimals);
            case ArrowTypeId.Decimal32:
            case ArrowTypeId.Decimal64:
            case ArrowTypeId.Decimal128:
            case ArrowTypeId.Decimal256:
                {
                    (int precision, int scale) = type switch
                    {
                        Decimal256Type d256 => (d256.Precision, d256.Scale),
                        Decimal128Type d128 => (d128.Precision, d128.Scale),
                        Decimal64Type d64 => (d64.Precision, d64.Scale),
                        Decimal32Type d32 => (d32.Precision, d32.Scale),
                        _ => (38, 0),
                    };
                    scale = Math.Max(0, scale);
                    encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.Text);
                    return Column(field, MySqlColumnType.NewDecimal, 63, (uint)(precision + (scale > 0 ? 2 : 1)),
                        MySqlColumnFlags.Num, (byte)Math.Min(scale, 255));
                }

            case ArrowTypeId.String:
            case ArrowTypeId.LargeString:
            case ArrowTypeId.StringView:
                encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.Text);
                if (IsUnconstrainedNumeric(field))
                {
                    // PostgreSQL numeric without precision travels as text; MySQL sends decimals as text
                    // in both protocols, so it can still be a NEWDECIMAL column (clients then read a decimal).
                    return Column(field, MySqlColumnType.NewDecimal, 63, 66, MySqlColumnFlags.Num, NotFixedDecimals);
                }

                return extension == ArrowConventions.UuidExtension ? Uuid(field, textCharset) : Text(field, textCharset);
            case ArrowTypeId.FixedSizedBinary when extension == ArrowConventions.UuidExtension && ((FixedSizeBinaryType)type).ByteWidth == 16:
                encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.Text);
                return Uuid(field, textCharset);
            case ArrowTypeId.Binary:
            case ArrowTypeId.LargeBinary:
            case ArrowTypeId.BinaryView:
            case ArrowTypeId.FixedSizedBinary:
                encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.RawBytes);
                return Column(field, MySqlColumnType.Blob, 63, BlobColumnLength, MySqlColumnFlags.Blob | binary, 0);
            case ArrowTypeId.Date32:
            case ArrowTypeId.Date64:
                encoder = new MySqlDateEncoder();
                return Column(field, MySqlColumnType.Date, 63, 10, binary, 0);
            case ArrowTypeId.Time32:
            case ArrowTypeId.Time64:
                {
                    byte fsp = FractionalDigits(type is Time32Type t32 ? t32.Unit : ((Time64Type)type).Unit);
                    encoder = new MySqlTimeEncoder();
                    return Column(field, MySqlColumnType.Time, 63, (uint)(10 + (fsp > 0 ? fsp + 1 : 0)), binary, fsp);
                }

            case ArrowTypeId.Timestamp:
                {
                    var timestamp = (TimestampType)type;
                    byte fsp = FractionalDigits(timestamp.Unit);
                    bool zoned = !string.IsNullOrEmpty(timestamp.Timezone);
                    encoder = new MySqlTimestampEncoder();
                    return Column(field, zoned ? MySqlColumnType.Timestamp : MySqlColumnType.DateTime, 63,
                        (uint)(19 + (fsp > 0 ? fsp + 1 : 0)), zoned ? binary | MySqlColumnFlags.Timestamp : binary, fsp);
                }

            case ArrowTypeId.List:
            case ArrowTypeId.LargeList:
            case ArrowTypeId.FixedSizeList:
            case ArrowTypeId.ListView:
            case ArrowTypeId.LargeListView:
                encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.Json);
                return Text(field, textCharset);
            default:
                // Everything else is shown as its PostgreSQL text form (intervals, structs and maps as JSON, dictionaries by value).
                try
                {
                    encoder = new MySqlPgBackedEncoder(ValueEncoderFactory.Create(field), PgRendering.Text);
                }
                catch (PgEncodingException ex)
                {
                    throw new MySqlEncodingException($"Arrow type {type.Name} of column '{field.Name}' cannot be sent to MySQL clients", MySqlErrorCode.UnknownError, ex);
                }

                return Text(field, textCharset);
        }
    }

    /// <summary>Bytes per character of a text collation: 3 for utf8mb3 ones, else 4.</summary>
    public static int BytesPerCharacter(ushort charset) => charset is MySqlCharacterSet.Utf8General or 83 or (>= 192 and <= 215) ? 3 : 4;

    private static MySqlColumnDefinition Text(Field field, ushort charset) =>
        Column(field, MySqlColumnType.VarString, charset, TextColumnLength, MySqlColumnFlags.None, 0);

    // CHAR(36): MySqlConnector reads such columns as Guid.
    private static MySqlColumnDefinition Uuid(Field field, ushort charset) =>
        Column(field, MySqlColumnType.String, charset, (uint)(36 * BytesPerCharacter(charset)), MySqlColumnFlags.None, 0);

    private static MySqlColumnDefinition Column(Field field, MySqlColumnType type, ushort charset, uint length, MySqlColumnFlags flags, byte decimals) => new()
    {
        Name = ColumnName(field.Name),
        OriginalName = ColumnName(field.Name),
        Type = type,
        CharacterSet = charset,
        ColumnLength = length,
        Flags = flags | (field.IsNullable ? MySqlColumnFlags.None : MySqlColumnFlags.NotNull),
        Decimals = decimals,
    };

    /// <summary>
    /// Column names are capped at <see cref="MaxColumnNameLength"/> characters, as MySQL caps generated names:
    /// engines name unaliased expressions by their text, which can be megabytes long.
    /// </summary>
    private static string ColumnName(string name)
    {
        if (name.Length <= MaxColumnNameLength)
        {
            return name;
        }

        int cut = char.IsHighSurrogate(name[MaxColumnNameLength - 1]) ? MaxColumnNameLength - 1 : MaxColumnNameLength;
        return name[..cut];
    }

    private static byte FractionalDigits(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => 0,
        TimeUnit.Millisecond => 3,
        _ => 6,
    };

    private static bool IsUnconstrainedNumeric(Field field) =>
        field.HasMetadata && field.Metadata.TryGetValue(ArrowConventions.EngineTypeKey, out string? engineType) && engineType == "numeric";

    private static string? ExtensionName(Field field) =>
        field.HasMetadata && field.Metadata.TryGetValue(ArrowConventions.ExtensionNameKey, out string? name) ? name : null;
}
