using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Types;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlRowEncoderTests
{
    [Fact]
    public void Every_common_type_maps_to_its_column_definition()
    {
        (IArrowType Type, MySqlColumnType Expected, MySqlColumnFlags Flags, ushort Charset, byte Decimals)[] cases =
        [
            (BooleanType.Default, MySqlColumnType.Tiny, MySqlColumnFlags.Num, 63, 0),
            (Int8Type.Default, MySqlColumnType.Tiny, MySqlColumnFlags.Num, 63, 0),
            (UInt8Type.Default, MySqlColumnType.Tiny, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 63, 0),
            (Int16Type.Default, MySqlColumnType.Short, MySqlColumnFlags.Num, 63, 0),
            (UInt16Type.Default, MySqlColumnType.Short, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 63, 0),
            (Int32Type.Default, MySqlColumnType.Long, MySqlColumnFlags.Num, 63, 0),
            (UInt32Type.Default, MySqlColumnType.Long, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 63, 0),
            (Int64Type.Default, MySqlColumnType.LongLong, MySqlColumnFlags.Num, 63, 0),
            (UInt64Type.Default, MySqlColumnType.LongLong, MySqlColumnFlags.Num | MySqlColumnFlags.Unsigned, 63, 0),
            (FloatType.Default, MySqlColumnType.Float, MySqlColumnFlags.Num, 63, 31),
            (DoubleType.Default, MySqlColumnType.Double, MySqlColumnFlags.Num, 63, 31),
            (new Decimal128Type(12, 3), MySqlColumnType.NewDecimal, MySqlColumnFlags.Num, 63, 3),
            (StringType.Default, MySqlColumnType.VarString, MySqlColumnFlags.None, 255, 0),
            (BinaryType.Default, MySqlColumnType.Blob, MySqlColumnFlags.Blob | MySqlColumnFlags.Binary, 63, 0),
            (Date32Type.Default, MySqlColumnType.Date, MySqlColumnFlags.Binary, 63, 0),
            (new Time64Type(TimeUnit.Microsecond), MySqlColumnType.Time, MySqlColumnFlags.Binary, 63, 6),
            (new TimestampType(TimeUnit.Microsecond, (string?)null), MySqlColumnType.DateTime, MySqlColumnFlags.Binary, 63, 6),
            (new TimestampType(TimeUnit.Second, "UTC"), MySqlColumnType.Timestamp, MySqlColumnFlags.Binary | MySqlColumnFlags.Timestamp, 63, 0),
            (NullType.Default, MySqlColumnType.Null, MySqlColumnFlags.Binary, 63, 0),
            (new ListType(Int32Type.Default), MySqlColumnType.VarString, MySqlColumnFlags.None, 255, 0),
        ];
        foreach (var c in cases)
        {
            MySqlColumnDefinition column = MySqlTypeMapper.Describe(new Field("c", c.Type, true));
            Assert.Equal((c.Expected, c.Flags, c.Charset, c.Decimals), (column.Type, column.Flags, column.CharacterSet, column.Decimals));
        }

        Assert.Equal(MySqlColumnFlags.Num | MySqlColumnFlags.NotNull, MySqlTypeMapper.Describe(new Field("n", Int32Type.Default, false)).Flags);
        MySqlColumnDefinition uuid = MySqlTypeMapper.Describe(new Field("u", StringType.Default, true, [new(ArrowConventions.ExtensionNameKey, ArrowConventions.UuidExtension)]), 45);
        Assert.Equal((MySqlColumnType.String, 144u, (ushort)45), (uuid.Type, uuid.ColumnLength, uuid.CharacterSet));
        Assert.Equal(14u, MySqlTypeMapper.Describe(new Field("d", new Decimal128Type(12, 3), true)).ColumnLength);

        // Unaliased expressions can be huge; names are capped as MySQL caps them.
        string longName = "length('" + new string('x', 20_000) + "')";
        Assert.Equal(longName[..MySqlTypeMapper.MaxColumnNameLength], MySqlTypeMapper.Describe(new Field(longName, Int64Type.Default, true)).Name);
    }

    [Fact]
    public void Text_and_binary_rows_carry_every_type()
    {
        RecordBatch batch = AllTypes(out string?[][] expectedText);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(batch.Schema);
        encoder.Bind(batch);
        for (int row = 0; row < batch.Length; row++)
        {
            byte[] text = Wire(w => encoder.WriteTextRow(row, w));
            EverySplit(text, payload => Assert.Equal((IEnumerable<string?>)expectedText[row], DecodeText(payload, batch.ColumnCount)));

            byte[] binary = ReadAll(Wire(w => encoder.WriteBinaryRow(row, w)))[0].Payload;
            object?[] values = DecodeBinary(binary, encoder.Columns);
            for (int i = 0; i < values.Length; i++)
            {
                if (expectedText[row][i] is null)
                {
                    Assert.Null(values[i]);
                }
                else
                {
                    Assert.Equal(expectedText[row][i], BinaryAsText(values[i]!, encoder.Columns[i]));
                }
            }
        }
    }

    [Fact]
    public void Long_values_get_wider_length_prefixes()
    {
        foreach (int length in new[] { 250, 251, 65535, 65536, 70000 })
        {
            string value = new('x', length);
            var schema = new Schema([new Field("d", new Decimal128Type(38, 0), true), new Field("s", StringType.Default, true)], null);
            var batch = new RecordBatch(schema, [new Decimal128Array.Builder(new Decimal128Type(38, 0)).Append(5m).Build(), new StringArray.Builder().Append(value).Build()], 1);
            MySqlRowEncoder encoder = MySqlRowEncoder.Create(schema);
            encoder.Bind(batch);
            Assert.Equal(new[] { "5", value }, DecodeText(Payload(w => encoder.WriteTextRow(0, w)), 2));
            byte[] binary = Payload(w => encoder.WriteBinaryRow(0, w));
            object?[] values = DecodeBinary(binary, encoder.Columns);
            Assert.Equal("5", values[0]);
            Assert.Equal(value, values[1]);
        }
    }

    [Fact]
    public void A_row_over_16_MiB_is_split_into_continuation_packets()
    {
        string big = new('y', MySqlPacketScanner.MaxPacketPayload + 100);
        var schema = new Schema([new Field("id", Int32Type.Default, true), new Field("s", StringType.Default, true)], null);
        var batch = new RecordBatch(schema, [new Int32Array.Builder().Append(7).Build(), new StringArray.Builder().Append(big).Build()], 1);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(schema);
        encoder.Bind(batch);
        byte[] wire = Wire(w =>
        {
            encoder.WriteTextRow(0, w);
            encoder.WriteBinaryRow(0, w);
        }, firstSequence: 3);
        List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(wire);
        Assert.Equal(2, packets.Count);
        Assert.Equal(2, packets[0].Frame.PacketCount);
        Assert.Equal(5, packets[1].Frame.SequenceId);
        Assert.Equal(new[] { "7", big }, DecodeText(packets[0].Payload, 2));
        object?[] values = DecodeBinary(packets[1].Payload, encoder.Columns);
        Assert.Equal(7, values[0]);
        Assert.Equal(big, values[1]);
    }

    [Fact]
    public void Column_definitions_are_written_from_the_schema()
    {
        var schema = new Schema([new Field("a", Int64Type.Default, false), new Field("b", StringType.Default, true)], null);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(schema, MySqlCharacterSet.Utf8General);
        List<(byte[] Payload, MySqlFrame Frame)> packets = ReadAll(Wire(encoder.WriteColumnDefinitions));
        Assert.Equal(2, packets.Count);
        MySqlColumnDefinition b = MySqlColumnDefinition.Parse(packets[1].Payload);
        Assert.Equal(("b", MySqlColumnType.VarString, MySqlCharacterSet.Utf8General), (b.Name, b.Type, b.CharacterSet));
    }

    [Fact]
    public void Binding_a_batch_of_another_shape_throws_and_rows_outside_it_are_refused()
    {
        var schema = new Schema([new Field("a", Int64Type.Default, true)], null);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(schema);
        var other = new RecordBatch(new Schema([new Field("a", StringType.Default, true)], null), [new StringArray.Builder().Append("x").Build()], 1);
        Assert.Throws<ArgumentException>(() => encoder.Bind(other));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.WriteTextRow(0, new MySqlPacketWriter(new ArrayBufferWriter<byte>())));
    }

    [Fact]
    public void Binary_dates_outside_mysql_range_are_an_encoding_error()
    {
        var schema = new Schema([new Field("d", Date32Type.Default, true)], null);
        var batch = new RecordBatch(schema, [new Date32Array(Raw<int>(Date32Type.Default, -800_000))], 1);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(schema);
        encoder.Bind(batch);
        Assert.Throws<MySqlEncodingException>(() => Wire(w => encoder.WriteBinaryRow(0, w)));
        Assert.StartsWith("-", DecodeText(Payload(w => encoder.WriteTextRow(0, w)), 1)[0]!, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_rows_allocate_nothing_per_row_once_bound()
    {
        RecordBatch batch = AllTypes(out _);
        MySqlRowEncoder encoder = MySqlRowEncoder.Create(batch.Schema);
        encoder.Bind(batch);
        var output = new ArrayBufferWriter<byte>(1 << 20);
        var writer = new MySqlPacketWriter(output);
        encoder.WriteTextRow(0, writer);
        encoder.WriteBinaryRow(0, writer);
        output.ResetWrittenCount();

        // A per-row allocation shows in every round; a one-off runtime allocation (tier-up, a pool refill
        // after a GC on a busy CI machine) does not, so the quietest of three rounds must be zero.
        long fewest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                encoder.WriteTextRow(0, writer);
                encoder.WriteBinaryRow(0, writer);
                output.ResetWrittenCount();
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    /// <summary>One column per type; row 0 has values, row 1 has NULLs (and a few edge values).</summary>
    private static RecordBatch AllTypes(out string?[][] text)
    {
        var micros = new TimestampType(TimeUnit.Microsecond, (string?)null);
        var utc = new TimestampType(TimeUnit.Microsecond, "UTC");
        var fields = new List<Field>
        {
            new("b", BooleanType.Default, true),
            new("i8", Int8Type.Default, true),
            new("u8", UInt8Type.Default, true),
            new("i16", Int16Type.Default, true),
            new("u16", UInt16Type.Default, true),
            new("i32", Int32Type.Default, true),
            new("u32", UInt32Type.Default, true),
            new("i64", Int64Type.Default, true),
            new("u64", UInt64Type.Default, true),
            new("f32", FloatType.Default, true),
            new("f64", DoubleType.Default, true),
            new("dec", new Decimal128Type(10, 2), true),
            new("s", StringType.Default, true),
            new("bin", BinaryType.Default, true),
            new("d", Date32Type.Default, true),
            new("t", new Time64Type(TimeUnit.Microsecond), true),
            new("ts", micros, true),
            new("tstz", utc, true),
            new("n", NullType.Default, true),
        };
        IArrowArray[] arrays =
        [
            new BooleanArray.Builder().Append(true).AppendNull().Append(false).Build(),
            new Int8Array.Builder().Append(-128).AppendNull().Append(1).Build(),
            new UInt8Array.Builder().Append(255).AppendNull().Append(0).Build(),
            new Int16Array.Builder().Append(-32768).AppendNull().Append(2).Build(),
            new UInt16Array.Builder().Append(65535).AppendNull().Append(3).Build(),
            new Int32Array.Builder().Append(int.MinValue).AppendNull().Append(4).Build(),
            new UInt32Array.Builder().Append(uint.MaxValue).AppendNull().Append(5).Build(),
            new Int64Array.Builder().Append(long.MinValue).AppendNull().Append(6).Build(),
            new UInt64Array.Builder().Append(ulong.MaxValue).AppendNull().Append(7).Build(),
            new FloatArray.Builder().Append(1.5f).AppendNull().Append(-0.25f).Build(),
            new DoubleArray.Builder().Append(0.1).AppendNull().Append(1e100).Build(),
            new Decimal128Array.Builder(new Decimal128Type(10, 2)).Append(-12345678.9m).AppendNull().Append(0m).Build(),
            new StringArray.Builder().Append("héllo").AppendNull().Append("").Build(),
            new BinaryArray.Builder().Append([0, 0xFF, 0x41]).AppendNull().Append(ReadOnlySpan<byte>.Empty).Build(),
            new Date32Array(Raw<int>(Date32Type.Default, 19782, null, 0)),
            new Time64Array(Raw<long>(new Time64Type(TimeUnit.Microsecond), 45_296_500_000L, null, 0L)),
            new TimestampArray(Raw<long>(micros, 1_709_210_096_000_001L, null, 0L)),
            new TimestampArray(Raw<long>(utc, 1_709_210_096_000_000L, null, -1L)),
            new NullArray(3),
        ];
        text =
        [
            ["1", "-128", "255", "-32768", "65535", "-2147483648", "4294967295", "-9223372036854775808", "18446744073709551615", "1.5", "0.1",
                "-12345678.90", "héllo", "\0\u00FFA", "2024-02-29", "12:34:56.500000", "2024-02-29 12:34:56.000001", "2024-02-29 12:34:56", null],
            [.. Enumerable.Repeat<string?>(null, 19)],
            ["0", "1", "0", "2", "3", "4", "5", "6", "7", "-0.25", "1e+100", "0.00", "", "", "1970-01-01", "00:00:00", "1970-01-01 00:00:00", "1969-12-31 23:59:59.999999", null],
        ];
        return new RecordBatch(new Schema(fields, null), arrays, 3);
    }

    private static ArrayData Raw<T>(IArrowType type, params T?[] values)
        where T : struct
    {
        var valueBuffer = new ArrowBuffer.Builder<T>();
        var validity = new ArrowBuffer.BitmapBuilder();
        int nulls = 0;
        foreach (T? value in values)
        {
            validity.Append(value.HasValue);
            valueBuffer.Append(value ?? default);
            nulls += value.HasValue ? 0 : 1;
        }

        return new ArrayData(type, values.Length, nulls, 0, [validity.Build(), valueBuffer.Build()]);
    }

    /// <summary>A text row: each value a length-encoded string (Latin-1 for bytes, so they compare as text), 0xFB for NULL.</summary>
    private static string?[] DecodeText(byte[] payload, int columns)
    {
        var reader = new MySqlPayloadReader(payload, "row");
        var values = new string?[columns];
        for (int i = 0; i < columns; i++)
        {
            values[i] = reader.TryReadLengthEncodedBytes(out ReadOnlySpan<byte> bytes) ? Encoding.UTF8.GetString(bytes) : null;
            if (values[i] is { } s && s.Contains('\uFFFD', StringComparison.Ordinal))
            {
                values[i] = Encoding.Latin1.GetString(bytes);
            }
        }

        reader.End();
        return values;
    }

    /// <summary>A binary row: 0x00, NULL bitmap with offset 2, then values by column type.</summary>
    private static object?[] DecodeBinary(byte[] payload, IReadOnlyList<MySqlColumnDefinition> columns)
    {
        var reader = new MySqlPayloadReader(payload, "binary row");
        Assert.Equal(0, reader.ReadByte());
        ReadOnlySpan<byte> bitmap = reader.ReadBytes((columns.Count + 9) / 8);
        var values = new object?[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            int bit = i + 2;
            if ((bitmap[bit >> 3] & (1 << (bit & 7))) != 0)
            {
                continue;
            }

            bool unsigned = (columns[i].Flags & MySqlColumnFlags.Unsigned) != 0;
            values[i] = columns[i].Type switch
            {
                MySqlColumnType.Tiny => unsigned ? reader.ReadByte() : (object)(sbyte)reader.ReadByte(),
                MySqlColumnType.Short => unsigned ? reader.ReadUInt16() : (short)reader.ReadUInt16(),
                MySqlColumnType.Long => unsigned ? reader.ReadUInt32() : (int)reader.ReadUInt32(),
                MySqlColumnType.LongLong => unsigned ? reader.ReadUInt64() : (long)reader.ReadUInt64(),
                MySqlColumnType.Float => BitConverter.Int32BitsToSingle((int)reader.ReadUInt32()),
                MySqlColumnType.Double => BitConverter.Int64BitsToDouble((long)reader.ReadUInt64()),
                MySqlColumnType.Date or MySqlColumnType.DateTime or MySqlColumnType.Timestamp => ReadDateTime(ref reader, columns[i].Type != MySqlColumnType.Date),
                MySqlColumnType.Time => ReadTime(ref reader),
                MySqlColumnType.Blob => Encoding.Latin1.GetString(reader.ReadLengthEncodedBytes()),
                _ => Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes()),
            };
        }

        reader.End();
        return values;
    }

    private static string ReadDateTime(ref MySqlPayloadReader reader, bool withTime)
    {
        int length = reader.ReadByte();
        ReadOnlySpan<byte> b = reader.ReadBytes(length);
        string date = $"{BinaryPrimitives.ReadUInt16LittleEndian(b):D4}-{b[2]:D2}-{b[3]:D2}";
        if (length == 4)
        {
            // The short form means midnight.
            return withTime ? date + " 00:00:00" : date;
        }

        string time = $"{date} {b[4]:D2}:{b[5]:D2}:{b[6]:D2}";
        return length == 11 ? $"{time}.{BinaryPrimitives.ReadUInt32LittleEndian(b[7..]):D6}" : time;
    }

    private static string ReadTime(ref MySqlPayloadReader reader)
    {
        int length = reader.ReadByte();
        if (length == 0)
        {
            return "00:00:00";
        }

        ReadOnlySpan<byte> b = reader.ReadBytes(length);
        long hours = (BinaryPrimitives.ReadUInt32LittleEndian(b[1..]) * 24L) + b[5];
        string time = $"{(b[0] == 1 ? "-" : "")}{hours:D2}:{b[6]:D2}:{b[7]:D2}";
        return length == 12 ? $"{time}.{BinaryPrimitives.ReadUInt32LittleEndian(b[8..]):D6}" : time;
    }

    /// <summary>A binary value in the text form the text protocol uses (dates already are; floats and bools compared numerically).</summary>
    private static string BinaryAsText(object value, MySqlColumnDefinition column) => value switch
    {
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        double d => d == 1e100 ? "1e+100" : d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable number when column.Type is not MySqlColumnType.Date => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}
