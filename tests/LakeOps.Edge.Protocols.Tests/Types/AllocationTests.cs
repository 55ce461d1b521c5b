using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Scalars;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Tests.Types;

/// <summary>Encoding rows allocates nothing once the encoder is built and bound (a behaviour, not a timing).</summary>
public class AllocationTests
{
    private const int Rows = 10_000;

    /// <summary>int, float, decimal, text, timestamp, date, bool and uuid columns, every 7th value NULL.</summary>
    internal static RecordBatch MixedBatch(int rows, bool withNested = false)
    {
        var ints = new Int32Array.Builder();
        var floats = new DoubleArray.Builder();
        var decimals = new Decimal128Array.Builder(new Decimal128Type(18, 4));
        var texts = new StringArray.Builder();
        var timestamps = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var dates = new Date32Array.Builder();
        var bools = new BooleanArray.Builder();
        var uuids = new FixedSizeBinaryArrayBuilder(16);
        var intervals = new MonthDayNanosecondIntervalArray.Builder();
        var lists = new ListArray.Builder(Int64Type.Default);
        var listValues = (Int64Array.Builder)lists.ValueBuilder;
        var random = new Random(7);
        Span<byte> uuid = stackalloc byte[16];
        for (int i = 0; i < rows; i++)
        {
            bool isNull = i % 7 == 3;
            if (isNull)
            {
                ints.AppendNull();
                floats.AppendNull();
                decimals.AppendNull();
                texts.AppendNull();
                timestamps.AppendNull();
                dates.AppendNull();
                bools.AppendNull();
                uuids.AppendNull();
                intervals.AppendNull();
                lists.AppendNull();
                continue;
            }

            ints.Append(random.Next(int.MinValue, int.MaxValue));
            floats.Append((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-10, 20)));
            decimals.Append((decimal)random.Next() / 10000m);
            texts.Append(i % 5 == 0 ? "with \"quotes\", commas and ünïcødé" : "row " + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            timestamps.Append(DateTimeOffset.FromUnixTimeMilliseconds(random.NextInt64(-5_000_000_000_000, 5_000_000_000_000)));
            dates.Append(new DateTime(1900, 1, 1).AddDays(random.Next(0, 80_000)));
            bools.Append(i % 2 == 0);
            random.NextBytes(uuid);
            uuids.Append(uuid);
            intervals.Append(new MonthDayNanosecondInterval(random.Next(-30, 30), random.Next(-30, 30), random.NextInt64(-1_000_000_000_000, 1_000_000_000_000)));
            lists.Append();
            listValues.Append(i).AppendNull().Append(-i);
        }

        var fields = new List<Field>
        {
            new("i", Int32Type.Default, true),
            new("f", DoubleType.Default, true),
            new("d", new Decimal128Type(18, 4), true),
            new("t", StringType.Default, true),
            new("ts", new TimestampType(TimeUnit.Microsecond, "UTC"), true),
            new("dt", Date32Type.Default, true),
            new("b", BooleanType.Default, true),
            new("u", new FixedSizeBinaryType(16), true, [new(ArrowConventions.ExtensionNameKey, ArrowConventions.UuidExtension)]),
        };
        var arrays = new List<IArrowArray> { ints.Build(), floats.Build(), decimals.Build(), texts.Build(), timestamps.Build(), dates.Build(), bools.Build(), uuids.Build() };
        if (withNested)
        {
            fields.Add(new Field("iv", IntervalType.MonthDayNanosecond, true));
            fields.Add(new Field("l", new ListType(Int64Type.Default), true));
            arrays.Add(intervals.Build());
            arrays.Add(lists.Build());
        }

        return new RecordBatch(new Schema(fields, null), arrays, rows);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    public void Encoding_rows_allocates_nothing(short format, bool withNested)
    {
        RecordBatch batch = MixedBatch(Rows, withNested);
        PgRowEncoder encoder = PgRowEncoder.Create(batch.Schema, [format]);
        encoder.Bind(batch);
        var output = new ArrayBufferWriter<byte>();

        // Warm up: JIT every path and grow the output to its final size.
        WriteAll(encoder, output);
        WriteAll(encoder, output);
        long written = output.WrittenCount;

        long before = GC.GetAllocatedBytesForCurrentThread();
        WriteAll(encoder, output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(written, output.WrittenCount);
        Assert.True(written > Rows * 10, "rows were written");
        Assert.Equal(0, allocated);
    }

    private static void WriteAll(PgRowEncoder encoder, ArrayBufferWriter<byte> output)
    {
        output.ResetWrittenCount();
        for (int row = 0; row < Rows; row++)
        {
            encoder.WriteDataRow(row, output);
        }
    }

    /// <summary>FixedSizeBinary has no public concrete builder in Arrow C#; a tiny one for tests.</summary>
    private sealed class FixedSizeBinaryArrayBuilder(int width)
    {
        private readonly ArrowBuffer.Builder<byte> _values = new();
        private readonly ArrowBuffer.BitmapBuilder _validity = new();
        private int _length;
        private int _nulls;

        public void Append(ReadOnlySpan<byte> value)
        {
            _values.Append(value);
            _validity.Append(true);
            _length++;
        }

        public void AppendNull()
        {
            _values.Append(new byte[width]);
            _validity.Append(false);
            _length++;
            _nulls++;
        }

        public Apache.Arrow.Arrays.FixedSizeBinaryArray Build() =>
            new(new ArrayData(new FixedSizeBinaryType(width), _length, _nulls, 0, [_validity.Build(), _values.Build()]));
    }
}
