using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

public class PgTypeMapperTests
{
    public static TheoryData<string, IArrowType, string?, int> Mappings() => new()
    {
        { "bool", BooleanType.Default, null, PgTypes.Bool },
        { "int8", Int8Type.Default, null, PgTypes.Int2 },
        { "uint8", UInt8Type.Default, null, PgTypes.Int2 },
        { "int16", Int16Type.Default, null, PgTypes.Int2 },
        { "uint16", UInt16Type.Default, null, PgTypes.Int4 },
        { "int32", Int32Type.Default, null, PgTypes.Int4 },
        { "uint32", UInt32Type.Default, null, PgTypes.Int8 },
        { "int64", Int64Type.Default, null, PgTypes.Int8 },
        { "uint64", UInt64Type.Default, null, PgTypes.Numeric },
        { "float16", HalfFloatType.Default, null, PgTypes.Float4 },
        { "float32", FloatType.Default, null, PgTypes.Float4 },
        { "float64", DoubleType.Default, null, PgTypes.Float8 },
        { "decimal256", new Decimal256Type(76, 10), null, PgTypes.Numeric },
        { "utf8", StringType.Default, null, PgTypes.Text },
        { "large utf8", LargeStringType.Default, null, PgTypes.Text },
        { "string view", StringViewType.Default, null, PgTypes.Text },
        { "json", StringType.Default, ArrowConventions.JsonExtension, PgTypes.Json },
        { "uuid text", StringType.Default, ArrowConventions.UuidExtension, PgTypes.Uuid },
        { "binary", BinaryType.Default, null, PgTypes.Bytea },
        { "large binary", LargeBinaryType.Default, null, PgTypes.Bytea },
        { "uuid", new FixedSizeBinaryType(16), ArrowConventions.UuidExtension, PgTypes.Uuid },
        { "fixed 16 without metadata", new FixedSizeBinaryType(16), null, PgTypes.Bytea },
        { "fixed 4", new FixedSizeBinaryType(4), ArrowConventions.UuidExtension, PgTypes.Bytea },
        { "date32", Date32Type.Default, null, PgTypes.Date },
        { "date64", Date64Type.Default, null, PgTypes.Date },
        { "time32", new Time32Type(TimeUnit.Millisecond), null, PgTypes.Time },
        { "time64", new Time64Type(TimeUnit.Nanosecond), null, PgTypes.Time },
        { "timestamp", new TimestampType(TimeUnit.Microsecond, (string?)null), null, PgTypes.Timestamp },
        { "timestamp utc", new TimestampType(TimeUnit.Nanosecond, "UTC"), null, PgTypes.TimestampTz },
        { "timestamp zone", new TimestampType(TimeUnit.Second, "+05:00"), null, PgTypes.TimestampTz },
        { "interval mdn", IntervalType.MonthDayNanosecond, null, PgTypes.Interval },
        { "interval ym", IntervalType.YearMonth, null, PgTypes.Interval },
        { "interval dt", IntervalType.DayTime, null, PgTypes.Interval },
        { "duration", DurationType.Microsecond, null, PgTypes.Interval },
        { "list int32", new ListType(Int32Type.Default), null, PgTypes.Int4Array },
        { "large list text", new LargeListType(StringType.Default), null, PgTypes.TextArray },
        { "fixed list float8", new FixedSizeListType(DoubleType.Default, 3), null, PgTypes.Float8Array },
        { "list of list int16", new ListType(new ListType(Int16Type.Default)), null, PgTypes.Int2Array },
        { "list decimal", new ListType(new Decimal128Type(5, 1)), null, PgTypes.NumericArray },
        { "list timestamptz", new ListType(new TimestampType(TimeUnit.Microsecond, "UTC")), null, PgTypes.TimestampTzArray },
        { "list date", new ListType(Date32Type.Default), null, PgTypes.DateArray },
        { "list interval", new ListType(IntervalType.MonthDayNanosecond), null, PgTypes.IntervalArray },
        { "list bool", new ListType(BooleanType.Default), null, PgTypes.BoolArray },
        { "list binary", new ListType(BinaryType.Default), null, PgTypes.ByteaArray },
        { "list time", new ListType(new Time64Type(TimeUnit.Microsecond)), null, PgTypes.TimeArray },
        { "list timestamp", new ListType(new TimestampType(TimeUnit.Microsecond, (string?)null)), null, PgTypes.TimestampArray },
        { "list float4", new ListType(FloatType.Default), null, PgTypes.Float4Array },
        { "list int64", new ListType(Int64Type.Default), null, PgTypes.Int8Array },
        { "list of struct", new ListType(new StructType([new Field("a", Int32Type.Default, true)])), null, PgTypes.Text },
        { "struct", new StructType([new Field("a", Int32Type.Default, true)]), null, PgTypes.Text },
        { "map", new MapType(StringType.Default, Int32Type.Default), null, PgTypes.Text },
        { "union", new UnionType([new Field("a", Int32Type.Default, true)], [0], UnionMode.Sparse), null, PgTypes.Text },
        { "null", NullType.Default, null, PgTypes.Text },
        { "dictionary", new DictionaryType(Int32Type.Default, StringType.Default, false), null, PgTypes.Text },
        { "dictionary of int64", new DictionaryType(Int8Type.Default, Int64Type.Default, false), null, PgTypes.Int8 },
        { "run end encoded", new RunEndEncodedType(Int32Type.Default, DoubleType.Default), null, PgTypes.Float8 },
        { "guid extension", GuidType.Default, null, PgTypes.Uuid },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Maps_arrow_types_to_postgres_types(string name, IArrowType type, string? extension, int expectedOid)
    {
        PgTypeInfo info = PgTypeMapper.MapField(Field(type, extension), out int typeModifier);
        Assert.True(expectedOid == info.Oid, $"{name}: expected {expectedOid}, got {info.Oid} ({info.Name})");
        Assert.Equal(type is Decimal256Type ? ((76 << 16) | 10) + 4 : -1, typeModifier);
    }

    [Fact]
    public void Decimal_typmod_is_precision_and_scale_plus_header()
    {
        Assert.Equal(PgTypes.Numeric, PgTypeMapper.MapField(Field(new Decimal128Type(38, 4)), out int typeModifier).Oid);
        Assert.Equal(((38 << 16) | 4) + 4, typeModifier);

        // The same typmod numeric(10,2) has in pg_attribute: 655366.
        PgTypeMapper.MapField(Field(new Decimal128Type(10, 2)), out typeModifier);
        Assert.Equal(655366, typeModifier);
    }

    [Fact]
    public void Parameter_oids_follow_the_same_mapping()
    {
        Assert.Equal(PgTypes.Int8, PgTypeMapper.ParameterOidFor(Int64Type.Default));
        Assert.Equal(PgTypes.Numeric, PgTypeMapper.ParameterOidFor(new Decimal128Type(10, 2)));
        Assert.Equal(PgTypes.TextArray, PgTypeMapper.ParameterOidFor(new ListType(StringType.Default)));
        Assert.Equal(PgTypes.Uuid, PgTypeMapper.ParameterOidFor(GuidType.Default));
    }

    [Fact]
    public void Unknown_parameter_type_is_text()
    {
        Assert.Equal(PgTypes.Text, PgTypeMapper.ParameterOidFor(null));
    }

    [Fact]
    public void Every_mapped_type_is_in_the_pg_type_table()
    {
        foreach (object[] row in Mappings())
        {
            PgTypeInfo info = PgTypeMapper.MapField(Field((IArrowType)row[1], (string?)row[2]), out _);
            Assert.Same(info, PgTypes.Find(info.Oid));
        }
    }
}
