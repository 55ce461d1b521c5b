using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>How one PostgreSQL value is decoded into Arrow.</summary>
internal enum PgValueKind : byte
{
    Bool,
    Int16,
    Int32,
    Int64,
    Oid,
    Float32,
    Float64,
    Decimal,

    /// <summary>numeric without a precision, or wider than Decimal128: its numeric_out text.</summary>
    NumericText,

    /// <summary>Binary format equal to the UTF-8 text (text, varchar, bpchar, name, "char", json).</summary>
    Text,
    Jsonb,
    Uuid,
    Bytes,
    Date,
    Time,
    Timestamp,
    Interval,

    /// <summary>A type Edge has no binary decoder for: requested in text format, delivered as a string.</summary>
    TextFormat,
    List,
}

/// <summary>
/// One result column: its Arrow field, the format to request in Bind, and how to decode it. The mapping
/// (PostgreSQL type OID to Arrow) is the table in <see cref="Map(string, int, int, bool)"/>; anything not listed is read as text.
/// </summary>
internal sealed class PgColumnSpec
{
    private PgColumnSpec(PgValueKind kind, Field field, int typeOid, int scale = 0, PgColumnSpec? element = null)
    {
        Kind = kind;
        Field = field;
        TypeOid = typeOid;
        Scale = scale;
        Element = element;
    }

    public PgValueKind Kind { get; }

    public Field Field { get; }

    public int TypeOid { get; }

    /// <summary>Decimal scale (Decimal kind).</summary>
    public int Scale { get; }

    /// <summary>Element decoding (List kind).</summary>
    public PgColumnSpec? Element { get; }

    /// <summary>1 (binary) unless the type is read as text.</summary>
    public short Format => Kind == PgValueKind.TextFormat ? (short)0 : (short)1;

    /// <summary>
    /// The Arrow form of a column. <paramref name="allowBinary"/> false (the server already chose text
    /// format) maps every column to a string.
    /// </summary>
    /// <remarks>
    /// bool: Boolean; int2/int4/int8: Int16/32/64; oid: UInt32; float4/8: Float/Double; numeric(p,s) with
    /// p &lt;= 38 and s &gt;= 0: Decimal128(p,s), other numeric: Utf8 (numeric_out text); text, varchar, bpchar,
    /// name, "char": Utf8; bytea: Binary; date: Date32; time: Time64(us); timestamp: Timestamp(us);
    /// timestamptz: Timestamp(us, "UTC"); interval: Interval(MonthDayNanosecond); uuid: Utf8 + arrow.uuid;
    /// json/jsonb: Utf8 + arrow.json; one-dimensional arrays of these: List; anything else: Utf8 in text format.
    /// </remarks>
    public static PgColumnSpec Map(PgFieldDescription description, bool allowBinary = true) =>
        Map(description.Name, description.TypeOid, description.TypeModifier, allowBinary);

    public static PgColumnSpec Map(string name, int typeOid, int typeModifier, bool allowBinary = true)
    {
        if (!allowBinary)
        {
            return Scalar(PgValueKind.TextFormat, name, typeOid, StringType.Default, null);
        }

        int elementOid = ElementOf(typeOid);
        if (elementOid != 0)
        {
            PgColumnSpec element = MapScalar("item", elementOid, typeModifier);
            if (element.Kind == PgValueKind.TextFormat)
            {
                return Scalar(PgValueKind.TextFormat, name, typeOid, StringType.Default, null);
            }

            var list = new ListType(element.Field);
            return new PgColumnSpec(PgValueKind.List, new Field(name, list, nullable: true, Metadata(TypeName(typeOid), null)), typeOid, element: element);
        }

        return MapScalar(name, typeOid, typeModifier);
    }

    /// <summary>The Arrow type a parameter of this PostgreSQL type takes, or null when Edge does not know the type.</summary>
    public static IArrowType? ParameterType(int typeOid)
    {
        PgColumnSpec spec = Map("p", typeOid, -1);
        return spec.Kind == PgValueKind.TextFormat && typeOid is not (PgTypes.Text or PgTypes.Varchar) ? null : spec.Field.DataType;
    }

    private static PgColumnSpec MapScalar(string name, int oid, int typeModifier)
    {
        switch (oid)
        {
            case PgTypes.Bool:
                return Scalar(PgValueKind.Bool, name, oid, BooleanType.Default);
            case PgTypes.Int2:
                return Scalar(PgValueKind.Int16, name, oid, Int16Type.Default);
            case PgTypes.Int4:
                return Scalar(PgValueKind.Int32, name, oid, Int32Type.Default);
            case PgTypes.Int8:
                return Scalar(PgValueKind.Int64, name, oid, Int64Type.Default);
            case PgTypes.Oid:
                return Scalar(PgValueKind.Oid, name, oid, UInt32Type.Default);
            case PgTypes.Float4:
                return Scalar(PgValueKind.Float32, name, oid, FloatType.Default);
            case PgTypes.Float8:
                return Scalar(PgValueKind.Float64, name, oid, DoubleType.Default);
            case PgTypes.Numeric:
                if (typeModifier >= 4)
                {
                    // atttypmod = ((precision << 16) | scale) + 4; the scale is an 11-bit signed field since PostgreSQL 15.
                    int precision = ((typeModifier - 4) >> 16) & 0xFFFF;
                    int scale = (((typeModifier - 4) & 0x7FF) ^ 1024) - 1024;
                    if (precision is >= 1 and <= 38 && scale >= 0 && scale <= precision)
                    {
                        return new PgColumnSpec(PgValueKind.Decimal, new Field(name, new Decimal128Type(precision, scale), nullable: true,
                            Metadata(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"numeric({precision},{scale})"), null)), oid, scale);
                    }
                }

                return Scalar(PgValueKind.NumericText, name, oid, StringType.Default);
            case PgTypes.Text or PgTypes.Varchar or PgTypes.Name or PgTypes.Char or BpChar:
                return Scalar(PgValueKind.Text, name, oid, StringType.Default);
            case PgTypes.Json:
                return Scalar(PgValueKind.Text, name, oid, StringType.Default, ArrowConventions.JsonExtension);
            case PgTypes.Jsonb:
                return Scalar(PgValueKind.Jsonb, name, oid, StringType.Default, ArrowConventions.JsonExtension);
            case PgTypes.Uuid:
                return Scalar(PgValueKind.Uuid, name, oid, StringType.Default, ArrowConventions.UuidExtension);
            case PgTypes.Bytea:
                return Scalar(PgValueKind.Bytes, name, oid, BinaryType.Default);
            case PgTypes.Date:
                return Scalar(PgValueKind.Date, name, oid, Date32Type.Default);
            case PgTypes.Time:
                return Scalar(PgValueKind.Time, name, oid, new Time64Type(TimeUnit.Microsecond));
            case PgTypes.Timestamp:
                return Scalar(PgValueKind.Timestamp, name, oid, new TimestampType(TimeUnit.Microsecond, (string?)null));
            case PgTypes.TimestampTz:
                return Scalar(PgValueKind.Timestamp, name, oid, new TimestampType(TimeUnit.Microsecond, "UTC"));
            case PgTypes.Interval:
                return Scalar(PgValueKind.Interval, name, oid, new IntervalType(IntervalUnit.MonthDayNanosecond));
            default:
                return Scalar(PgValueKind.TextFormat, name, oid, StringType.Default);
        }
    }

    private const int BpChar = 1042;

    private static PgColumnSpec Scalar(PgValueKind kind, string name, int oid, IArrowType type, string? extension = null) =>
        new(kind, new Field(name, type, nullable: true, Metadata(TypeName(oid), extension)), oid);

    private static Dictionary<string, string>? Metadata(string? engineType, string? extension)
    {
        if (engineType is null && extension is null)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(2, StringComparer.Ordinal);
        if (engineType is not null)
        {
            metadata[ArrowConventions.EngineTypeKey] = engineType;
        }

        if (extension is not null)
        {
            metadata[ArrowConventions.ExtensionNameKey] = extension;
        }

        return metadata;
    }

    private static string? TypeName(int oid) => oid switch
    {
        BpChar => "bpchar",
        1014 => "_bpchar",
        _ => PgTypes.Find(oid)?.Name,
    };

    /// <summary>The element type of the array types Edge decodes, else 0.</summary>
    private static int ElementOf(int oid) => oid switch
    {
        PgTypes.BoolArray => PgTypes.Bool,
        PgTypes.Int2Array => PgTypes.Int2,
        PgTypes.Int4Array => PgTypes.Int4,
        PgTypes.Int8Array => PgTypes.Int8,
        PgTypes.OidArray => PgTypes.Oid,
        PgTypes.Float4Array => PgTypes.Float4,
        PgTypes.Float8Array => PgTypes.Float8,
        PgTypes.NumericArray => PgTypes.Numeric,
        PgTypes.TextArray => PgTypes.Text,
        PgTypes.VarcharArray => PgTypes.Varchar,
        1014 => BpChar,
        PgTypes.NameArray => PgTypes.Name,
        PgTypes.CharArray => PgTypes.Char,
        PgTypes.ByteaArray => PgTypes.Bytea,
        PgTypes.DateArray => PgTypes.Date,
        PgTypes.TimeArray => PgTypes.Time,
        PgTypes.TimestampArray => PgTypes.Timestamp,
        PgTypes.TimestampTzArray => PgTypes.TimestampTz,
        PgTypes.IntervalArray => PgTypes.Interval,
        PgTypes.UuidArray => PgTypes.Uuid,
        PgTypes.JsonArray => PgTypes.Json,
        PgTypes.JsonbArray => PgTypes.Jsonb,
        _ => 0,
    };

    /// <summary>The schema of a list of columns.</summary>
    public static Schema SchemaOf(PgColumnSpec[] columns)
    {
        var builder = new Schema.Builder();
        foreach (PgColumnSpec column in columns)
        {
            builder.Field(column.Field);
        }

        return builder.Build();
    }
}
