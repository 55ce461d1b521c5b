using System.Buffers;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;
using static LakeOps.Edge.Protocols.Tests.Types.EncoderTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Types;

public class PgRowEncoderTests
{
    private static RecordBatch TwoColumns()
    {
        var ids = new Int32Array.Builder().Append(1).AppendNull().Append(3).Build();
        var names = new StringArray.Builder().Append("a").Append("bb").AppendNull().Build();
        var schema = new Schema([new Field("id", Int32Type.Default, true), new Field("name", StringType.Default, true)], null);
        return new RecordBatch(schema, [ids, names], 3);
    }

    private static byte[] Row(PgRowEncoder encoder, int row)
    {
        var output = new ArrayBufferWriter<byte>();
        encoder.WriteDataRow(row, output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void DataRow_has_type_length_count_and_values_with_null_as_minus_one()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        encoder.Bind(batch);

        // 'D', length 4+2+(4+1)+(4+1) = 16, 2 columns, "1", "a".
        Assert.Equal(Hex("44 00000010 0002 00000001 31 00000001 61"), Row(encoder, 0));

        // NULL id: length -1 and no bytes.
        Assert.Equal(Hex("44 00000010 0002 ffffffff 00000002 6262"), Row(encoder, 1));
        Assert.Equal(Hex("44 0000000f 0002 00000001 33 ffffffff"), Row(encoder, 2));
    }

    [Fact]
    public void Rows_append_to_the_same_output()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        encoder.Bind(batch);
        var output = new ArrayBufferWriter<byte>();
        for (int row = 0; row < batch.Length; row++)
        {
            encoder.WriteDataRow(row, output);
        }

        byte[] expected = [.. Row(encoder, 0), .. Row(encoder, 1), .. Row(encoder, 2)];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void One_format_code_applies_to_every_column()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, [1]);
        encoder.Bind(batch);
        Assert.All(encoder.Columns, c => Assert.Equal(1, c.FormatCode));
        Assert.Equal(Hex("44 00000013 0002 00000004 00000001 00000001 61"), Row(encoder, 0));
    }

    [Fact]
    public void Per_column_format_codes()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, [1, 0]);
        encoder.Bind(batch);
        Assert.Equal([1, 0], encoder.Columns.Select(c => (int)c.FormatCode));
        byte[]?[] values = ParseDataRow(Row(encoder, 0));
        Assert.Equal(Hex("00000001"), values[0]);
        Assert.Equal("a", Encoding.UTF8.GetString(values[1]!));
    }

    [Fact]
    public void Format_count_that_fits_no_rule_is_a_protocol_violation()
    {
        var error = Assert.Throws<PgResultFormatException>(() => PgRowEncoder.Create(TwoColumns().Schema, [0, 1, 0]));
        Assert.Equal(SqlStates.ProtocolViolation, error.SqlState);
        Assert.Contains("3 result formats", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 columns", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<ArgumentException>(error);
    }

    [Fact]
    public void Unknown_format_code_is_rejected()
    {
        var error = Assert.Throws<PgResultFormatException>(() => PgRowEncoder.Create(TwoColumns().Schema, [2]));
        Assert.Contains("format code: 2", error.Message, StringComparison.Ordinal);
        Assert.Throws<PgResultFormatException>(() => PgRowEncoder.Create(TwoColumns().Schema, [0, -1]));
    }

    [Fact]
    public void Columns_describe_name_type_size_typmod_and_format()
    {
        var schema = new Schema(
            [
                new Field("n", new Decimal128Type(10, 2), true),
                new Field("t", StringType.Default, true),
                new Field("ts", new TimestampType(TimeUnit.Microsecond, "UTC"), true),
                new Field("l", new ListType(Int64Type.Default), true),
            ],
            null);
        PgRowEncoder encoder = PgRowEncoder.Create(schema, [0, 1, 0, 1]);
        Assert.Equal(
            [
                new PgColumn("n", PgTypes.Numeric, -1, (10 << 16) + 2 + 4, 0),
                new PgColumn("t", PgTypes.Text, -1, -1, 1),
                new PgColumn("ts", PgTypes.TimestampTz, 8, -1, 0),
                new PgColumn("l", PgTypes.Int8Array, -1, -1, 1),
            ],
            encoder.Columns);
    }

    [Fact]
    public void Encoder_is_reused_across_batches()
    {
        RecordBatch first = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(first.Schema, []);
        encoder.Bind(first);
        Assert.Equal(3, encoder.RowCount);
        Assert.Equal("1", Encoding.UTF8.GetString(ParseDataRow(Row(encoder, 0))[0]!));

        var second = new RecordBatch(
            first.Schema,
            [new Int32Array.Builder().Append(42).Build(), new StringArray.Builder().Append("z").Build()],
            1);
        encoder.Bind(second);
        Assert.Equal(1, encoder.RowCount);
        byte[]?[] values = ParseDataRow(Row(encoder, 0));
        Assert.Equal("42", Encoding.UTF8.GetString(values[0]!));
        Assert.Equal("z", Encoding.UTF8.GetString(values[1]!));
    }

    [Fact]
    public void Sliced_batches_encode_the_slice()
    {
        RecordBatch batch = TwoColumns().Slice(1, 2);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        encoder.Bind(batch);
        Assert.Equal([null, Encoding.UTF8.GetBytes("bb")], ParseDataRow(Row(encoder, 0)));
        Assert.Equal([Encoding.UTF8.GetBytes("3"), null], ParseDataRow(Row(encoder, 1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Sliced_mixed_batches_encode_like_the_same_rows_of_the_whole_batch(short format)
    {
        RecordBatch whole = AllocationTests.MixedBatch(300, withNested: true);
        RecordBatch slice = whole.Slice(101, 57);
        PgRowEncoder wholeEncoder = PgRowEncoder.Create(whole.Schema, [format]);
        wholeEncoder.Bind(whole);
        PgRowEncoder sliceEncoder = PgRowEncoder.Create(slice.Schema, [format]);
        sliceEncoder.Bind(slice);
        for (int row = 0; row < slice.Length; row++)
        {
            Assert.Equal(Row(wholeEncoder, 101 + row), Row(sliceEncoder, row));
        }
    }

    [Fact]
    public void Batch_with_other_column_types_is_rejected()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        var wrongSchema = new Schema([new Field("id", Int64Type.Default, true), new Field("name", StringType.Default, true)], null);
        var wrong = new RecordBatch(wrongSchema, [new Int64Array.Builder().Append(1).Build(), new StringArray.Builder().Append("a").Build()], 1);
        Assert.Throws<ArgumentException>(() => encoder.Bind(wrong));

        var oneColumn = new RecordBatch(new Schema([new Field("id", Int32Type.Default, true)], null), [new Int32Array.Builder().Append(1).Build()], 1);
        Assert.Throws<ArgumentException>(() => encoder.Bind(oneColumn));
    }

    [Fact]
    public void Rows_outside_the_bound_batch_are_rejected()
    {
        RecordBatch batch = TwoColumns();
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        Assert.Throws<ArgumentOutOfRangeException>(() => Row(encoder, 0));
        encoder.Bind(batch);
        Assert.Throws<ArgumentOutOfRangeException>(() => Row(encoder, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Row(encoder, -1));
    }

    [Fact]
    public void Zero_column_results_write_empty_rows()
    {
        var batch = new RecordBatch(new Schema([], null), [], 2);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        encoder.Bind(batch);
        Assert.Equal(Hex("44 00000006 0000"), Row(encoder, 1));
    }

    [Fact]
    public void Large_values_grow_the_output()
    {
        string big = new('x', 100_000);
        var batch = new RecordBatch(new Schema([new Field("t", StringType.Default, true)], null), [new StringArray.Builder().Append(big).Build()], 1);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, []);
        encoder.Bind(batch);
        var output = new ArrayBufferWriter<byte>(16);
        encoder.WriteDataRow(0, output);
        Assert.Equal(big, Encoding.UTF8.GetString(ParseDataRow(output.WrittenSpan)[0]!));
    }
}
