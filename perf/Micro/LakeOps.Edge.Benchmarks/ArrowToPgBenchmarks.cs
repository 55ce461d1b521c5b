using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Types;
using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// Arrow record batch to PostgreSQL DataRow messages: a 100k-row batch of int, float8, numeric, text,
/// timestamptz, date, bool and uuid columns (every 7th row NULL) in text and in binary format.
/// One operation is one row (OperationsPerInvoke), so "Mean" is time per row and rows/s = 1 s / Mean;
/// "Allocated" is per row and should be 0 B.
/// </summary>
[MemoryDiagnoser]
public class ArrowToPgBenchmarks
{
    private const int Rows = 100_000;

    private RecordBatch _batch = null!;
    private PgRowEncoder _text = null!;
    private PgRowEncoder _binary = null!;
    private ArrayBufferWriter<byte> _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batch = MixedBatch(Rows);
        _text = PgRowEncoder.Create(_batch.Schema, [0]);
        _text.Bind(_batch);
        _binary = PgRowEncoder.Create(_batch.Schema, [1]);
        _binary.Bind(_batch);
        _output = new ArrayBufferWriter<byte>(Rows * 200);
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int TextRows() => WriteAll(_text);

    [Benchmark(OperationsPerInvoke = Rows)]
    public int BinaryRows() => WriteAll(_binary);

    private int WriteAll(PgRowEncoder encoder)
    {
        ArrayBufferWriter<byte> output = _output;
        output.ResetWrittenCount();
        for (int row = 0; row < Rows; row++)
        {
            encoder.WriteDataRow(row, output);
        }

        return output.WrittenCount;
    }

    private static RecordBatch MixedBatch(int rows)
    {
        var ints = new Int32Array.Builder();
        var floats = new DoubleArray.Builder();
        var decimals = new Decimal128Array.Builder(new Decimal128Type(18, 4));
        var texts = new StringArray.Builder();
        var timestamps = new TimestampArray.Builder(new TimestampType(TimeUnit.Microsecond, "UTC"));
        var dates = new Date32Array.Builder();
        var bools = new BooleanArray.Builder();
        var uuidValues = new ArrowBuffer.Builder<byte>();
        var uuidValidity = new ArrowBuffer.BitmapBuilder();
        var random = new Random(7);
        byte[] uuid = new byte[16];
        int nulls = 0;
        for (int i = 0; i < rows; i++)
        {
            if (i % 7 == 3)
            {
                ints.AppendNull();
                floats.AppendNull();
                decimals.AppendNull();
                texts.AppendNull();
                timestamps.AppendNull();
                dates.AppendNull();
                bools.AppendNull();
                uuidValues.Append(new byte[16]);
                uuidValidity.Append(false);
                nulls++;
                continue;
            }

            ints.Append(random.Next());
            floats.Append((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-5, 12)));
            decimals.Append((decimal)random.Next() / 10000m);
            texts.Append(i % 5 == 0 ? "customer \"acme\", inc." : "row " + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            timestamps.Append(DateTimeOffset.FromUnixTimeMilliseconds(random.NextInt64(0, 2_000_000_000_000)));
            dates.Append(new DateTime(2000, 1, 1).AddDays(random.Next(0, 10_000)));
            bools.Append(i % 2 == 0);
            random.NextBytes(uuid);
            uuidValues.Append(uuid);
            uuidValidity.Append(true);
        }

        var uuids = new Apache.Arrow.Arrays.FixedSizeBinaryArray(
            new ArrayData(new FixedSizeBinaryType(16), rows, nulls, 0, [uuidValidity.Build(), uuidValues.Build()]));
        var schema = new Schema(
            [
                new Field("i", Int32Type.Default, true),
                new Field("f", DoubleType.Default, true),
                new Field("d", new Decimal128Type(18, 4), true),
                new Field("t", StringType.Default, true),
                new Field("ts", new TimestampType(TimeUnit.Microsecond, "UTC"), true),
                new Field("dt", Date32Type.Default, true),
                new Field("b", BooleanType.Default, true),
                new Field("u", new FixedSizeBinaryType(16), true, [new(ArrowConventions.ExtensionNameKey, ArrowConventions.UuidExtension)]),
            ],
            null);
        return new RecordBatch(schema, [ints.Build(), floats.Build(), decimals.Build(), texts.Build(), timestamps.Build(), dates.Build(), bools.Build(), uuids], rows);
    }
}
