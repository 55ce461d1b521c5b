using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Tests.Types;

/// <summary>Builds one-column batches, runs them through <see cref="PgRowEncoder"/> and parses the DataRows back.</summary>
internal static class EncoderTestHelpers
{
    public static Field Field(IArrowType type, string? extension = null, string name = "c") =>
        extension is null
            ? new Field(name, type, nullable: true)
            : new Field(name, type, nullable: true, [new KeyValuePair<string, string>(ArrowConventions.ExtensionNameKey, extension)]);

    public static RecordBatch Batch(Field field, IArrowArray array) =>
        new(new Schema([field], null), [array], array.Length);

    /// <summary>Every row of a one-column array in text format; null for SQL NULL.</summary>
    public static string?[] Text(IArrowArray array, string? extension = null) =>
        Text(Field(array.Data.DataType, extension), array);

    public static string?[] Text(Field field, IArrowArray array) =>
        [.. Encode(field, array, format: 0).Select(v => v is null ? null : Encoding.UTF8.GetString(v))];

    /// <summary>Compares row values (null for SQL NULL) in order.</summary>
    public static void AssertRows(IEnumerable<string?> expected, IEnumerable<string?> actual) =>
        Assert.Equal(expected, actual);

    /// <summary>Every row of a one-column array in binary format; null for SQL NULL.</summary>
    public static byte[]?[] Binary(IArrowArray array, string? extension = null) =>
        Encode(Field(array.Data.DataType, extension), array, format: 1);

    public static byte[]?[] Encode(Field field, IArrowArray array, short format)
    {
        RecordBatch batch = Batch(field, array);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, [format]);
        encoder.Bind(batch);
        var result = new byte[]?[batch.Length];
        for (int row = 0; row < batch.Length; row++)
        {
            var output = new ArrayBufferWriter<byte>();
            encoder.WriteDataRow(row, output);
            result[row] = ParseDataRow(output.WrittenSpan)[0];
        }

        return result;
    }

    /// <summary>Parses one complete DataRow message, checking its framing.</summary>
    public static byte[]?[] ParseDataRow(ReadOnlySpan<byte> message)
    {
        Assert.Equal((byte)'D', message[0]);
        int length = BinaryPrimitives.ReadInt32BigEndian(message[1..]);
        Assert.Equal(message.Length - 1, length);
        int count = BinaryPrimitives.ReadInt16BigEndian(message[5..]);
        var values = new byte[]?[count];
        int pos = 7;
        for (int i = 0; i < count; i++)
        {
            int valueLength = BinaryPrimitives.ReadInt32BigEndian(message[pos..]);
            pos += 4;
            if (valueLength == -1)
            {
                continue;
            }

            values[i] = message.Slice(pos, valueLength).ToArray();
            pos += valueLength;
        }

        Assert.Equal(message.Length, pos);
        return values;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static string ToHex(byte[]? bytes) => bytes is null ? "NULL" : Convert.ToHexString(bytes).ToLowerInvariant();

    public static Decimal128Array Decimals128(int precision, int scale, params string?[] values)
    {
        var builder = new Decimal128Array.Builder(new Decimal128Type(precision, scale));
        foreach (string? value in values)
        {
            if (value is null)
            {
                builder.AppendNull();
            }
            else
            {
                builder.Append(Unscaled(value, 16));
            }
        }

        return builder.Build();
    }

    public static Decimal256Array Decimals256(int precision, int scale, params string?[] values)
    {
        var builder = new Decimal256Array.Builder(new Decimal256Type(precision, scale));
        foreach (string? value in values)
        {
            if (value is null)
            {
                builder.AppendNull();
            }
            else
            {
                builder.Append(Unscaled(value, 32));
            }
        }

        return builder.Build();
    }

    /// <summary>Little-endian two's complement bytes of an unscaled integer given in decimal.</summary>
    public static byte[] Unscaled(string unscaled, int width)
    {
        var value = System.Numerics.BigInteger.Parse(unscaled, System.Globalization.CultureInfo.InvariantCulture);
        byte[] bytes = new byte[width];
        byte fill = value.Sign < 0 ? (byte)0xFF : (byte)0;
        System.Array.Fill(bytes, fill);
        byte[] raw = value.ToByteArray(isUnsigned: false, isBigEndian: false);
        raw.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>One row: a list of two inner lists, each filled by its callback (values builder of the inner list).</summary>
    public static ListArray NestedList<TValues>(IArrowType valueType, Action<TValues> first, Action<TValues> second)
        where TValues : class
    {
        var outer = new ListArray.Builder(new ListType(valueType));
        var inner = (ListArray.Builder)outer.ValueBuilder;
        var values = (TValues)inner.ValueBuilder;
        outer.Append();
        inner.Append();
        first(values);
        inner.Append();
        second(values);
        return outer.Build();
    }

    /// <summary>Array data of raw values of a fixed-width type (null entries become SQL NULL).</summary>
    public static ArrayData Raw<T>(IArrowType type, params T?[] values)
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

    public static FixedSizeBinaryArray FixedBinary(int width, params byte[]?[] values)
    {
        var type = new FixedSizeBinaryType(width);
        var valueBuffer = new ArrowBuffer.Builder<byte>();
        var validity = new ArrowBuffer.BitmapBuilder();
        int nulls = 0;
        foreach (byte[]? value in values)
        {
            validity.Append(value is not null);
            valueBuffer.Append(value ?? new byte[width]);
            nulls += value is null ? 1 : 0;
        }

        var data = new ArrayData(type, values.Length, nulls, 0, [validity.Build(), valueBuffer.Build()]);
        return new FixedSizeBinaryArray(data);
    }
}
