using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Picks the encoder (and with it the PostgreSQL type) for an Arrow field, following
/// <see cref="ArrowConventions"/>. The single place where Arrow types are inspected; both
/// <see cref="PgTypeMapper"/> and <see cref="PgRowEncoder"/> go through it so RowDescription and DataRow
/// always agree.
/// </summary>
internal static class ValueEncoderFactory
{
    /// <param name="field">The Arrow field.</param>
    /// <param name="timeZone">Zone for timestamptz text output; null means UTC.</param>
    public static ValueEncoder Create(Field field, TimeZoneInfo? timeZone = null)
    {
        if (field.DataType.TypeId == ArrowTypeId.UInt32 && field.HasMetadata
            && field.Metadata.TryGetValue(PgTypeMapper.PgTypeOidKey, out string? oid) && oid == "26")
        {
            // oid is an unsigned 32-bit number on the wire: 4 bytes in binary, plain digits in text.
            return new IntegerEncoder<uint, UInt32Array>(PgTypeCatalog.Oid);
        }

        return Create(field.DataType, ExtensionName(field), timeZone);
    }

    private static ValueEncoder Create(IArrowType type, string? extension, TimeZoneInfo? timeZone)
    {
        if (type is ExtensionType extensionType)
        {
            // Registered extension types (GuidType, Bool8Type, ...) are encoded through their storage.
            string name = extensionType.Name;
            if (name == "arrow.bool8")
            {
                return new Bool8Encoder();
            }

            return Create(extensionType.StorageType, name, timeZone);
        }

        switch (type.TypeId)
        {
            case ArrowTypeId.Null:
                return new NullEncoder();
            case ArrowTypeId.Boolean:
                return new BoolEncoder();
            case ArrowTypeId.Int8:
                return new IntegerEncoder<sbyte, Int8Array>(PgTypeCatalog.Int2);
            case ArrowTypeId.UInt8:
                return new IntegerEncoder<byte, UInt8Array>(PgTypeCatalog.Int2);
            case ArrowTypeId.Int16:
                return new IntegerEncoder<short, Int16Array>(PgTypeCatalog.Int2);
            case ArrowTypeId.UInt16:
                return new IntegerEncoder<ushort, UInt16Array>(PgTypeCatalog.Int4);
            case ArrowTypeId.Int32:
                return new IntegerEncoder<int, Int32Array>(PgTypeCatalog.Int4);
            case ArrowTypeId.UInt32:
                return new IntegerEncoder<uint, UInt32Array>(PgTypeCatalog.Int8);
            case ArrowTypeId.Int64:
                return new IntegerEncoder<long, Int64Array>(PgTypeCatalog.Int8);
            case ArrowTypeId.UInt64:
                return new UInt64NumericEncoder();
            case ArrowTypeId.HalfFloat:
                return new Float4Encoder<Half, HalfFloatArray>();
            case ArrowTypeId.Float:
                return new Float4Encoder<float, FloatArray>();
            case ArrowTypeId.Double:
                return new Float8Encoder();
            case ArrowTypeId.Decimal32:
            case ArrowTypeId.Decimal64:
            case ArrowTypeId.Decimal128:
            case ArrowTypeId.Decimal256:
                return CreateDecimal(type);
            case ArrowTypeId.String:
            case ArrowTypeId.LargeString:
            case ArrowTypeId.StringView:
                return extension switch
                {
                    ArrowConventions.JsonExtension => new Utf8Encoder(PgTypeCatalog.Json),
                    ArrowConventions.UuidExtension => new UuidTextEncoder(),
                    _ => new Utf8Encoder(PgTypeCatalog.Text),
                };
            case ArrowTypeId.Binary:
            case ArrowTypeId.LargeBinary:
            case ArrowTypeId.BinaryView:
                return new ByteaEncoder();
            case ArrowTypeId.FixedSizedBinary:
                return ((FixedSizeBinaryType)type).ByteWidth == 16 && extension == ArrowConventions.UuidExtension
                    ? new UuidEncoder()
                    : new ByteaEncoder();
            case ArrowTypeId.Date32:
                return new DateEncoder(milliseconds: false);
            case ArrowTypeId.Date64:
                return new DateEncoder(milliseconds: true);
            case ArrowTypeId.Time32:
            case ArrowTypeId.Time64:
                return new TimeEncoder();
            case ArrowTypeId.Timestamp:
                return new TimestampEncoder(withZone: !string.IsNullOrEmpty(((TimestampType)type).Timezone), timeZone);

            case ArrowTypeId.Interval:
                return new IntervalEncoder(((IntervalType)type).Unit);
            case ArrowTypeId.Duration:
                return new IntervalEncoder();
            case ArrowTypeId.List:
                return ListEncoder.Create(Create(((ListType)type).ValueField, timeZone));
            case ArrowTypeId.LargeList:
                return ListEncoder.Create(Create(((LargeListType)type).ValueField, timeZone));
            case ArrowTypeId.FixedSizeList:
                return ListEncoder.Create(Create(((FixedSizeListType)type).ValueField, timeZone));
            case ArrowTypeId.ListView:
                return ListEncoder.Create(Create(((ListViewType)type).ValueField, timeZone));
            case ArrowTypeId.LargeListView:
                return ListEncoder.Create(Create(((LargeListViewType)type).ValueField, timeZone));
            case ArrowTypeId.Map:
                {
                    var map = (MapType)type;
                    return new MapEncoder(Create(map.KeyField, timeZone), Create(map.ValueField, timeZone));
                }

            case ArrowTypeId.Struct:
                {
                    var fields = ((StructType)type).Fields;
                    var encoders = new ValueEncoder[fields.Count];
                    for (int i = 0; i < encoders.Length; i++)
                    {
                        encoders[i] = Create(fields[i], timeZone);
                    }

                    return new StructEncoder(fields, encoders);
                }

            case ArrowTypeId.Union:
                {
                    var union = (UnionType)type;
                    var members = new ValueEncoder[union.Fields.Count];
                    for (int i = 0; i < members.Length; i++)
                    {
                        members[i] = Create(union.Fields[i], timeZone);
                    }

                    return new UnionEncoder(union, members);
                }

            case ArrowTypeId.Dictionary:
                {
                    var dictionary = (DictionaryType)type;
                    return new DictionaryEncoder(Create(dictionary.ValueType, extension, timeZone), dictionary.IndexType.TypeId);
                }

            case ArrowTypeId.RunEndEncoded:
                return new RunEndEncodedEncoder(Create(((RunEndEncodedType)type).ValuesField, timeZone));
            default:
                throw new PgEncodingException(SqlStates.FeatureNotSupported, $"Arrow type {type.Name} cannot be sent to PostgreSQL clients");
        }
    }

    private static ValueEncoder CreateDecimal(IArrowType type)
    {
        int precision;
        int scale;
        switch (type)
        {
            case Decimal256Type d256:
                (precision, scale) = (d256.Precision, d256.Scale);
                break;
            case Decimal128Type d128:
                (precision, scale) = (d128.Precision, d128.Scale);
                break;
            case Decimal64Type d64:
                (precision, scale) = (d64.Precision, d64.Scale);
                break;
            default:
                var d32 = (Decimal32Type)type;
                (precision, scale) = (d32.Precision, d32.Scale);
                break;
        }

        if (scale is < PgNumericFormat.MinScale or > PgNumericFormat.MaxScale)
        {
            throw new PgEncodingException(SqlStates.FeatureNotSupported, $"decimal scale {scale} is outside PostgreSQL's numeric range");
        }

        // numeric typmod: ((precision << 16) | (scale & 0x7ff)) + VARHDRSZ, as PostgreSQL computes it.
        int typeModifier = ((precision << 16) | (scale & 0x7FF)) + 4;
        return new DecimalEncoder(typeModifier);
    }

    private static string? ExtensionName(Field field) =>
        field.HasMetadata && field.Metadata.TryGetValue(ArrowConventions.ExtensionNameKey, out string? name) ? name : null;
}
