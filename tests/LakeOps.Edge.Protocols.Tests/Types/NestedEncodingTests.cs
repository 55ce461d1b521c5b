using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

/// <summary>
/// Lists as PostgreSQL arrays (array_out text, checked against psql) and struct/map/union as JSON text.
/// </summary>
public class NestedEncodingTests
{
    [Fact]
    public void Int_lists_with_nulls_and_empty_lists()
    {
        var builder = new ListArray.Builder(Int32Type.Default);
        var values = (Int32Array.Builder)builder.ValueBuilder;
        builder.Append();
        values.Append(1).AppendNull().Append(3);
        builder.Append();
        builder.AppendNull();
        AssertRows(["{1,NULL,3}", "{}", null], Text(builder.Build()));
    }

    [Fact]
    public void Text_elements_are_quoted_by_the_array_out_rule()
    {
        var builder = new ListArray.Builder(StringType.Default);
        var values = (StringArray.Builder)builder.ValueBuilder;
        builder.Append();
        values.Append("a b").Append(string.Empty).Append("NULL").Append("x\"y").Append("c,d").AppendNull().Append("é").Append("nULl").Append("a\\b").Append("a\tb").Append("{").Append("plain");
        AssertRows(["{\"a b\",\"\",\"NULL\",\"x\\\"y\",\"c,d\",NULL,é,\"nULl\",\"a\\\\b\",\"a\tb\",\"{\",plain}"], Text(builder.Build()));
    }

    [Fact]
    public void Scalar_elements_use_their_own_text_form_and_get_quoted_when_needed()
    {
        var decimals = new ListArray.Builder(new Decimal128Type(10, 1));
        var decimalValues = (Decimal128Array.Builder)decimals.ValueBuilder;
        decimals.Append();
        decimalValues.Append(1.5m).AppendNull();
        AssertRows(["{1.5,NULL}"], Text(decimals.Build()));

        var bools = new ListArray.Builder(BooleanType.Default);
        bools.Append();
        ((BooleanArray.Builder)bools.ValueBuilder).Append(true).Append(false);
        var boolArray = bools.Build();
        Assert.Equal(Postgres.Types.PgTypes.BoolArray, PgTypesArrayOid(boolArray));
        AssertRows(["{t,f}"], Text(boolArray));

        var doubles = new ListArray.Builder(DoubleType.Default);
        doubles.Append();
        ((DoubleArray.Builder)doubles.ValueBuilder).Append(double.NaN).Append(1e20);
        AssertRows(["{NaN,1e+20}"], Text(doubles.Build()));

        var bytea = new ListArray.Builder(BinaryType.Default);
        bytea.Append();
        ((BinaryArray.Builder)bytea.ValueBuilder).Append([0x0a]);
        AssertRows(["{\"\\\\x0a\"}"], Text(bytea.Build()));

        var timestamps = new ListArray.Builder(new TimestampType(TimeUnit.Millisecond, "UTC"));
        timestamps.Append();
        ((TimestampArray.Builder)timestamps.ValueBuilder).Append(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        AssertRows(["{\"2020-01-01 00:00:00+00\"}"], Text(timestamps.Build()));

        var intervals = new ListArray.Builder(IntervalType.MonthDayNanosecond);
        intervals.Append();
        ((MonthDayNanosecondIntervalArray.Builder)intervals.ValueBuilder).Append(new MonthDayNanosecondInterval(0, 1, 0)).AppendNull();
        AssertRows(["{\"1 day\",NULL}"], Text(intervals.Build()));
    }

    private static int PgTypesArrayOid(IArrowArray array) =>
        Postgres.Types.PgTypeMapper.MapField(Field(array.Data.DataType), out _).Oid;

    [Fact]
    public void Json_elements_are_quoted()
    {
        var builder = new ListArray.Builder(StringType.Default);
        builder.Append();
        ((StringArray.Builder)builder.ValueBuilder).Append("{\"a\":1}");
        var field = new Field("c", new ListType(new Field("item", StringType.Default, true, [new(ArrowConventions.ExtensionNameKey, ArrowConventions.JsonExtension)])), true);
        var array = builder.Build();
        AssertRows(["{\"{\\\"a\\\":1}\"}"], Text(field, array));
        Assert.Equal(Postgres.Types.PgTypes.JsonArray, Postgres.Types.PgTypeMapper.MapField(field, out _).Oid);
    }

    [Fact]
    public void Nested_lists_print_nested_braces()
    {
        ListArray outer = NestedList<FloatArray.Builder>(FloatType.Default, v => v.Append(1.5f).Append(2), v => v.Append(3).Append(4));
        AssertRows(["{{1.5,2},{3,4}}"], Text(outer));
    }

    [Fact]
    public void Large_and_fixed_size_lists_are_arrays_too()
    {
        var large = new LargeListArray.Builder(Int64Type.Default);
        large.Append();
        ((Int64Array.Builder)large.ValueBuilder).Append(5).Append(6);
        AssertRows(["{5,6}"], Text(large.Build()));

        var fixedList = new FixedSizeListArray.Builder(Int16Type.Default, 2);
        var fixedValues = (Int16Array.Builder)fixedList.ValueBuilder;
        fixedList.Append();
        fixedValues.Append(1).Append(2);
        fixedList.AppendNull();
        fixedList.Append();
        fixedValues.Append(3).AppendNull();
        AssertRows(["{1,2}", null, "{3,NULL}"], Text(fixedList.Build()));
    }

    [Fact]
    public void Sliced_lists_and_fixed_size_lists_read_the_right_elements()
    {
        var fixedList = new FixedSizeListArray.Builder(Int32Type.Default, 2);
        var fixedValues = (Int32Array.Builder)fixedList.ValueBuilder;
        for (int i = 0; i < 4; i++)
        {
            fixedList.Append();
            fixedValues.Append(i * 10).Append((i * 10) + 1);
        }

        AssertRows(["{10,11}", "{20,21}"], Text(fixedList.Build().Slice(1, 2)));

        var list = new ListArray.Builder(Int32Type.Default);
        var values = (Int32Array.Builder)list.ValueBuilder;
        for (int i = 0; i < 4; i++)
        {
            list.Append();
            values.Append(i);
        }

        AssertRows(["{2}", "{3}"], Text(list.Build().Slice(2, 2)));
    }

    [Fact]
    public void Structs_are_json_objects()
    {
        var structType = new StructType(
        [
            new Field("a", Int32Type.Default, true),
            new Field("b", StringType.Default, true),
            new Field("c", BooleanType.Default, true),
            new Field("d \"q\"", DoubleType.Default, true),
        ]);
        var a = new Int32Array.Builder().Append(1).AppendNull().Append(3).Build();
        var b = new StringArray.Builder().Append("x").Append("line\nbreak \"q\"").AppendNull().Build();
        var c = new BooleanArray.Builder().Append(true).Append(false).Append(true).Build();
        var d = new DoubleArray.Builder().Append(0.5).Append(double.NaN).Append(1e20).Build();
        var validity = new ArrowBuffer.BitmapBuilder().Append(true).Append(true).Append(false).Build();
        var array = new StructArray(structType, 3, [a, b, c, d], validity, nullCount: 1);
        AssertRows(
            [
                "{\"a\": 1, \"b\": \"x\", \"c\": true, \"d \\\"q\\\"\": 0.5}",
                "{\"a\": null, \"b\": \"line\\nbreak \\\"q\\\"\", \"c\": false, \"d \\\"q\\\"\": \"NaN\"}",
                null,
            ],
            Text(array));
        Assert.Equal(Postgres.Types.PgTypes.Text, Postgres.Types.PgTypeMapper.MapField(Field(structType), out _).Oid);
    }

    [Fact]
    public void Struct_values_of_other_types_are_json_strings_of_their_postgres_text()
    {
        var structType = new StructType(
        [
            new Field("ts", new TimestampType(TimeUnit.Second, (string?)null), true),
            new Field("n", new Decimal128Type(5, 2), true),
            new Field("l", new ListType(Int32Type.Default), true),
            new Field("j", StringType.Default, true, [new(ArrowConventions.ExtensionNameKey, ArrowConventions.JsonExtension)]),
        ]);
        var ts = new TimestampArray(Raw<long>(new TimestampType(TimeUnit.Second, (string?)null), 0));
        var n = Decimals128(5, 2, "-150");
        var listBuilder = new ListArray.Builder(Int32Type.Default);
        listBuilder.Append();
        ((Int32Array.Builder)listBuilder.ValueBuilder).Append(1).AppendNull();
        var j = new StringArray.Builder().Append("{\"k\": [true]}").Build();
        var array = new StructArray(structType, 1, [ts, n, listBuilder.Build(), j], ArrowBuffer.Empty);
        AssertRows(["{\"ts\": \"1970-01-01 00:00:00\", \"n\": -1.50, \"l\": [1, null], \"j\": {\"k\": [true]}}"], Text(array));
    }

    [Fact]
    public void Sliced_structs_read_children_at_the_struct_offset()
    {
        var structType = new StructType([new Field("a", Int32Type.Default, true)]);
        var a = new Int32Array.Builder().Append(1).Append(2).Append(3).Build();
        var array = new StructArray(structType, 3, [a], ArrowBuffer.Empty);
        AssertRows(["{\"a\": 2}", "{\"a\": 3}"], Text(array.Slice(1, 2)));
    }

    [Fact]
    public void Lists_of_structs_are_json_arrays()
    {
        var structType = new StructType([new Field("a", Int32Type.Default, true)]);
        var a = new Int32Array.Builder().Append(1).Append(2).Build();
        var structs = new StructArray(structType, 2, [a], ArrowBuffer.Empty);
        var offsets = new ArrowBuffer.Builder<int>().Append(0).Append(2).Build();
        var array = new ListArray(new ListType(structType), 1, offsets, structs, ArrowBuffer.Empty);
        AssertRows(["[{\"a\": 1}, {\"a\": 2}]"], Text(array));
        Assert.Equal(Postgres.Types.PgTypes.Text, Postgres.Types.PgTypeMapper.MapField(Field(array.Data.DataType), out _).Oid);
    }

    [Fact]
    public void Maps_are_json_objects_with_string_keys()
    {
        var builder = new MapArray.Builder(new MapType(StringType.Default, Int64Type.Default));
        var keys = (StringArray.Builder)builder.KeyBuilder;
        var values = (Int64Array.Builder)builder.ValueBuilder;
        builder.Append();
        keys.Append("a");
        values.Append(1);
        keys.Append("b\"");
        values.AppendNull();
        builder.Append();
        builder.AppendNull();
        AssertRows(["{\"a\": 1, \"b\\\"\": null}", "{}", null], Text(builder.Build()));

        var numericKeys = new MapArray.Builder(new MapType(Int32Type.Default, StringType.Default));
        numericKeys.Append();
        ((Int32Array.Builder)numericKeys.KeyBuilder).Append(7);
        ((StringArray.Builder)numericKeys.ValueBuilder).Append("x");
        AssertRows(["{\"7\": \"x\"}"], Text(numericKeys.Build()));
    }

    [Fact]
    public void Unions_print_the_selected_member()
    {
        var unionType = new UnionType([new Field("i", Int32Type.Default, true), new Field("s", StringType.Default, true)], [0, 1], UnionMode.Dense);
        var ints = new Int32Array.Builder().Append(5).AppendNull().Build();
        var strings = new StringArray.Builder().Append("x y").Build();
        var typeIds = new ArrowBuffer.Builder<byte>().Append(0).Append(1).Append(0).Build();
        var offsets = new ArrowBuffer.Builder<int>().Append(0).Append(0).Append(1).Build();
        var array = new DenseUnionArray(unionType, 3, [ints, strings], typeIds, offsets);
        AssertRows(["5", "x y", null], Text(array));

        var sparseType = new UnionType([new Field("i", Int32Type.Default, true), new Field("s", StringType.Default, true)], [3, 7], UnionMode.Sparse);
        var sparseInts = new Int32Array.Builder().Append(1).Append(2).Build();
        var sparseStrings = new StringArray.Builder().Append("a").Append("b").Build();
        var sparseIds = new ArrowBuffer.Builder<byte>().Append(7).Append(3).Build();
        var sparse = new SparseUnionArray(sparseType, 2, [sparseInts, sparseStrings], sparseIds);
        AssertRows(["a", "2"], Text(sparse));
    }
}
