using System.Buffers;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Tests.Types;

public sealed class TimeZoneOutputTests
{
    [Theory]
    [InlineData(0, "+00")]
    [InlineData(-8 * 3600, "-08")]
    [InlineData(5 * 3600 + 1800, "+05:30")]
    [InlineData(-(3 * 3600 + 30 * 60), "-03:30")]
    [InlineData(1172, "+00:19:32")] // Amsterdam mean time, as PostgreSQL prints it for 1900
    public void Offsets_print_like_postgresql(int seconds, string expected)
    {
        Span<byte> buffer = stackalloc byte[16];
        int written = PgDateTimeFormat.WriteUtcOffset(seconds, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }

    [Theory]
    [InlineData("UTC", "2024-01-15 12:00:00+00", "2024-07-01 12:00:00+00")]
    [InlineData("America/Los_Angeles", "2024-01-15 04:00:00-08", "2024-07-01 05:00:00-07")]
    [InlineData("Asia/Kolkata", "2024-01-15 17:30:00+05:30", "2024-07-01 17:30:00+05:30")]
    public void Timestamptz_text_uses_the_session_zone_and_its_daylight_rules(string zone, string winter, string summer)
    {
        var type = new TimestampType(TimeUnit.Microsecond, "UTC");
        var schema = new Schema([new Field("t", type, true)], null);
        long january = new DateTimeOffset(2024, 1, 15, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        long july = new DateTimeOffset(2024, 7, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        TimestampArray values = new TimestampArray.Builder(type).Append(DateTimeOffset.FromUnixTimeMilliseconds(january / 1000)).Append(DateTimeOffset.FromUnixTimeMilliseconds(july / 1000)).Build();

        PgRowEncoder encoder = PgRowEncoder.Create(schema, [0], TimeZoneInfo.FindSystemTimeZoneById(zone));
        encoder.Bind(new RecordBatch(schema, [values], 2));
        Assert.Equal(winter, TextOf(encoder, 0));
        Assert.Equal(summer, TextOf(encoder, 1));

        // Binary stays the UTC instant whatever the zone.
        PgRowEncoder binary = PgRowEncoder.Create(schema, [1], TimeZoneInfo.FindSystemTimeZoneById(zone));
        binary.Bind(new RecordBatch(schema, [values], 2));
        var output = new ArrayBufferWriter<byte>();
        binary.WriteDataRow(0, output);
        long pgMicros = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(output.WrittenSpan[11..]);
        Assert.Equal(january - PgDateTimeFormat.PgEpochMicros, pgMicros);
    }

    private static string TextOf(PgRowEncoder encoder, int row)
    {
        var output = new ArrayBufferWriter<byte>();
        encoder.WriteDataRow(row, output);
        return Encoding.UTF8.GetString(output.WrittenSpan[11..]);
    }
}
