using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Protocols.Tests.Types;

public sealed class OidColumnTests
{
    private static Schema OidSchema(bool tagged) => new(
        [new Field("oid", UInt32Type.Default, true, tagged ? [new KeyValuePair<string, string>(PgTypeMapper.PgTypeOidKey, "26")] : null)],
        null);

    [Fact]
    public void Tagged_uint32_column_is_described_and_sent_as_oid()
    {
        Schema schema = OidSchema(tagged: true);
        Assert.Equal(PgTypes.Oid, PgTypeMapper.MapField(schema.GetFieldByIndex(0), out _).Oid);

        PgRowEncoder encoder = PgRowEncoder.Create(schema, [1]);
        Assert.Equal(PgTypes.Oid, encoder.Columns[0].TypeOid);
        encoder.Bind(new RecordBatch(schema, [new UInt32Array.Builder().Append(4_000_000_000u).Build()], 1));
        var output = new ArrayBufferWriter<byte>();
        encoder.WriteDataRow(0, output);
        // 'D', length, 1 column, value length 4, then the unsigned value big-endian.
        Assert.Equal(new byte[] { (byte)'D', 0, 0, 0, 14, 0, 1, 0, 0, 0, 4, 0xEE, 0x6B, 0x28, 0x00 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Untagged_uint32_column_is_int8()
    {
        Assert.Equal(PgTypes.Int8, PgTypeMapper.MapField(OidSchema(tagged: false).GetFieldByIndex(0), out _).Oid);
    }
}
