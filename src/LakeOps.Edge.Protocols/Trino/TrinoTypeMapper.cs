using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>
/// Arrow field to Trino type (see <see cref="ArrowConventions"/> for how engines describe values):
/// signed ints keep their width, unsigned ints widen (uint64 becomes decimal(20,0)), float16/32 real,
/// decimals decimal(p,s) (wider than 38 digits: varchar), utf8 varchar (json / uuid by field metadata),
/// binary varbinary (FixedSizeBinary(16) with the uuid extension: uuid), date32/64 date, time32/64
/// time(p), timestamps timestamp(p) [with time zone], intervals and durations interval day to second
/// (year-month intervals: interval year to month), lists array, map map, struct row, dictionary its
/// value type, null unknown. p is 0, 3, 6 or 9 by the Arrow unit.
/// </summary>
public static class TrinoTypeMapper
{
    /// <summary>Trino's widest decimal.</summary>
    public const int MaxDecimalPrecision = 38;

    /// <summary>The Trino type of an Arrow field; <see cref="NotSupportedException"/> for types Trino cannot show.</summary>
    public static TrinoType FromField(Field field)
    {
        ArgumentNullException.ThrowIfNull(field);
        string? extension = null;
        if (field.HasMetadata && field.Metadata.TryGetValue(ArrowConventions.ExtensionNameKey, out string? name))
        {
            extension = name;
        }

        return FromArrow(field.DataType, extension);
    }

    public static TrinoType FromArrow(IArrowType type, string? extension = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        switch (type.TypeId)
        {
            case ArrowTypeId.Null: return TrinoType.Unknown;
            case ArrowTypeId.Boolean: return TrinoType.Boolean;
            case ArrowTypeId.Int8: return TrinoType.TinyInt;
            case ArrowTypeId.Int16:
            case ArrowTypeId.UInt8: return TrinoType.SmallInt;
            case ArrowTypeId.Int32:
            case ArrowTypeId.UInt16: return TrinoType.Integer;
            case ArrowTypeId.Int64:
            case ArrowTypeId.UInt32: return TrinoType.BigInt;
            case ArrowTypeId.UInt64: return TrinoType.Decimal(20, 0);
            case ArrowTypeId.HalfFloat:
            case ArrowTypeId.Float: return TrinoType.Real;
            case ArrowTypeId.Double: return TrinoType.Double;
            case ArrowTypeId.Decimal32:
            case ArrowTypeId.Decimal64:
            case ArrowTypeId.Decimal128:
            case ArrowTypeId.Decimal256:
                {
                    (int precision, int scale) = DecimalOf(type);
                    return precision <= MaxDecimalPrecision && scale >= 0 && scale <= precision
                        ? TrinoType.Decimal(precision, scale)
                        : TrinoType.Varchar;
                }

            case ArrowTypeId.String:
            case ArrowTypeId.LargeString:
            case ArrowTypeId.StringView:
                return extension switch
                {
                    ArrowConventions.JsonExtension => TrinoType.Json,
                    ArrowConventions.UuidExtension => TrinoType.Uuid,
                    _ => TrinoType.Varchar,
                };

            case ArrowTypeId.Binary:
            case ArrowTypeId.LargeBinary:
            case ArrowTypeId.BinaryView:
                return TrinoType.Varbinary;
            case ArrowTypeId.FixedSizedBinary:
                return extension == ArrowConventions.UuidExtension && ((FixedSizeBinaryType)type).ByteWidth == 16 ? TrinoType.Uuid : TrinoType.Varbinary;
            case ArrowTypeId.Date32:
            case ArrowTypeId.Date64:
                return TrinoType.Date;
            case ArrowTypeId.Time32:
            case ArrowTypeId.Time64:
                return TrinoType.Time(PrecisionOf(((TimeType)type).Unit));
            case ArrowTypeId.Timestamp:
                {
                    var timestamp = (TimestampType)type;
                    int precision = PrecisionOf(timestamp.Unit);
                    return string.IsNullOrEmpty(timestamp.Timezone) ? TrinoType.Timestamp(precision) : TrinoType.TimestampWithTimeZone(precision);
                }

            case ArrowTypeId.Interval:
                return ((IntervalType)type).Unit == IntervalUnit.YearMonth ? TrinoType.IntervalYearToMonth : TrinoType.IntervalDayToSecond;
            case ArrowTypeId.Duration:
                return TrinoType.IntervalDayToSecond;
            case ArrowTypeId.List:
            case ArrowTypeId.LargeList:
            case ArrowTypeId.FixedSizeList:
                return TrinoType.Array(FromField(((NestedType)type).Fields[0]));
            case ArrowTypeId.Map:
                {
                    var map = (MapType)type;
                    return TrinoType.Map(FromField(map.KeyField), FromField(map.ValueField));
                }

            case ArrowTypeId.Struct:
                {
                    var fields = ((StructType)type).Fields;
                    var names = new string?[fields.Count];
                    var types = new TrinoType[fields.Count];
                    for (int i = 0; i < fields.Count; i++)
                    {
                        names[i] = fields[i].Name;
                        types[i] = FromField(fields[i]);
                    }

                    return TrinoType.Row(names, types);
                }

            case ArrowTypeId.Dictionary:
                return FromArrow(((DictionaryType)type).ValueType, extension);
            default:
                throw new NotSupportedException($"Arrow type {type.Name} has no Trino equivalent");
        }
    }

    /// <summary>Precision and scale of any Arrow decimal type.</summary>
    public static (int Precision, int Scale) DecimalOf(IArrowType type) => type switch
    {
        Decimal32Type d => (d.Precision, d.Scale),
        Decimal64Type d => (d.Precision, d.Scale),
        Decimal128Type d => (d.Precision, d.Scale),
        Decimal256Type d => (d.Precision, d.Scale),
        _ => throw new ArgumentException($"{type?.Name} is not a decimal type", nameof(type)),
    };

    /// <summary>Fractional-second digits of an Arrow time unit.</summary>
    public static int PrecisionOf(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => 0,
        TimeUnit.Millisecond => 3,
        TimeUnit.Microsecond => 6,
        _ => 9,
    };
}
