using System.Buffers.Binary;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlCommandPacketTests
{
    private const MySqlCapabilities Plain = MySqlCapabilities.Protocol41;
    private const MySqlCapabilities WithAttributes = MySqlCapabilities.Protocol41 | MySqlCapabilities.QueryAttributes;

    [Fact]
    public void Com_query_text_is_the_rest_of_the_packet_over_every_split()
    {
        byte[] wire = Packet(0, [0x03, .. "SELECT 'é'"u8]);
        EverySplit(wire, payload =>
        {
            Assert.Equal(MySqlCommand.Query, MySqlCommandPackets.ReadCommand(payload));
            Assert.Equal("SELECT 'é'"u8.ToArray(), MySqlCommandPackets.ParseQuery(payload, Plain).ToArray());
        });
    }

    [Fact]
    public void Com_query_with_query_attributes_skips_or_returns_them()
    {
        // parameter_count 2, set count 1, null bitmap (second is NULL), bound flag, types + names, one value.
        byte[] payload =
        [
            0x03, 2, 1, 0b10, 1,
            (byte)MySqlColumnType.LongLong, 0, 2, (byte)'i', (byte)'d',
            (byte)MySqlColumnType.VarString, 0, 1, (byte)'n',
            42, 0, 0, 0, 0, 0, 0, 0,
            .. "SELECT 1"u8,
        ];
        EverySplit(Packet(0, payload), p =>
        {
            var attributes = new List<MySqlQueryAttribute>();
            Assert.Equal("SELECT 1"u8.ToArray(), MySqlCommandPackets.ParseQuery(p, WithAttributes, attributes).ToArray());
            Assert.Equal(2, attributes.Count);
            Assert.Equal("id", attributes[0].Name);
            Assert.Equal(42, attributes[0].Value.AsInt64);
            Assert.True(attributes[1].Value.IsNull);
        });

        // No attributes: count 0 and set count 1, then the text.
        Assert.Equal("SELECT 2"u8.ToArray(), MySqlCommandPackets.ParseQuery([0x03, 0, 1, .. "SELECT 2"u8], WithAttributes).ToArray());
    }

    [Fact]
    public void Small_commands_parse()
    {
        Assert.Equal(7u, MySqlCommandPackets.ParseStatementId([0x19, 7, 0, 0, 0], MySqlCommand.StmtClose));
        Assert.Equal("db"u8.ToArray(), MySqlCommandPackets.ParseInitDb([0x02, .. "db"u8]).ToArray());
        Assert.Equal("t"u8.ToArray(), MySqlCommandPackets.ParseFieldList([0x04, (byte)'t', 0, (byte)'%'], out ReadOnlySpan<byte> wildcard).ToArray());
        Assert.Equal("%"u8.ToArray(), wildcard.ToArray());
        Assert.Equal("t"u8.ToArray(), MySqlCommandPackets.ParseFieldList([0x04, (byte)'t'], out _).ToArray());
        Assert.Equal(1, MySqlCommandPackets.ParseSetOption([0x1B, 1, 0]));
        Assert.Equal(99u, MySqlCommandPackets.ParseProcessKill([0x0C, 99, 0, 0, 0]));
        MySqlLongData data = MySqlCommandPackets.ParseSendLongData([0x18, 5, 0, 0, 0, 1, 0, 0xAA, 0xBB]);
        Assert.Equal(5u, data.StatementId);
        Assert.Equal(1, data.ParameterId);
        Assert.Equal([0xAA, 0xBB], data.Data.ToArray());

        Assert.Throws<MySqlProtocolException>(() => MySqlCommandPackets.ReadCommand([]));
        Assert.Throws<MySqlProtocolException>(() => MySqlCommandPackets.ParseStatementId([0x19, 7, 0], MySqlCommand.StmtClose));
        Assert.Throws<MySqlProtocolException>(() => MySqlCommandPackets.ParseStatementId([0x1A, 7, 0, 0, 0], MySqlCommand.StmtClose));
    }

    [Fact]
    public void Execute_decodes_every_parameter_type()
    {
        var values = new List<(ushort Type, byte[] Bytes, Action<ParameterValue> Check)>
        {
            (T(MySqlColumnType.Tiny), [0xFF], v => Assert.Equal((ParameterKind.Int16, -1L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Tiny, unsigned: true), [0xFF], v => Assert.Equal(255L, v.AsInt64)),
            (T(MySqlColumnType.Short), [0x00, 0x80], v => Assert.Equal((ParameterKind.Int16, -32768L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Short, unsigned: true), [0xFF, 0xFF], v => Assert.Equal((ParameterKind.Int32, 65535L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Year), [0xE8, 0x07], v => Assert.Equal(2024L, v.AsInt64)),
            (T(MySqlColumnType.Long), [0xFF, 0xFF, 0xFF, 0xFF], v => Assert.Equal((ParameterKind.Int32, -1L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Int24, unsigned: true), [0xFF, 0xFF, 0xFF, 0xFF], v => Assert.Equal((ParameterKind.Int64, 4294967295L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.LongLong), Le(long.MinValue), v => Assert.Equal(long.MinValue, v.AsInt64)),
            (T(MySqlColumnType.LongLong, unsigned: true), Le(-1L), v => Assert.Equal((ParameterKind.Decimal, "18446744073709551615"), (v.Kind, v.AsString))),
            (T(MySqlColumnType.Float), BitConverter.GetBytes(1.5f), v => Assert.Equal((ParameterKind.Float32, 1.5f), (v.Kind, v.AsFloat32))),
            (T(MySqlColumnType.Double), BitConverter.GetBytes(-2.25), v => Assert.Equal((ParameterKind.Float64, -2.25), (v.Kind, v.AsFloat64))),
            (T(MySqlColumnType.NewDecimal), [6, .. "-12.50"u8], v => Assert.Equal((ParameterKind.Decimal, "-12.50"), (v.Kind, v.AsString))),
            (T(MySqlColumnType.VarString), [3, .. "héy"u8[..3]], v => Assert.Equal(ParameterKind.Text, v.Kind)),
            (T(MySqlColumnType.String), [2, (byte)'o', (byte)'k'], v => Assert.Equal((ParameterKind.Text, "ok"), (v.Kind, v.AsString))),
            (T(MySqlColumnType.VarString), [2, 0xFF, 0xFE], v => Assert.Equal(ParameterKind.Bytes, v.Kind)),
            (T(MySqlColumnType.Json), [2, (byte)'{', (byte)'}'], v => Assert.Equal((ParameterKind.Json, "{}"), (v.Kind, v.AsString))),
            (T(MySqlColumnType.Blob), [3, 0, 1, 2], v => Assert.Equal([0, 1, 2], v.AsBytes)),
            (T(MySqlColumnType.LongBlob), [0], v => Assert.Empty(v.AsBytes)),
            (T(MySqlColumnType.Date), [4, 0xE8, 0x07, 2, 29], v => Assert.Equal((ParameterKind.Date, 19782L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.DateTime), [7, 0xB2, 0x07, 1, 1, 0, 0, 1], v => Assert.Equal((ParameterKind.Timestamp, 1_000_000L), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Timestamp), [11, 0xB2, 0x07, 1, 1, 0, 0, 0, 5, 0, 0, 0], v => Assert.Equal(5L, v.AsInt64)),
            (T(MySqlColumnType.DateTime), [4, 0xB2, 0x07, 1, 2], v => Assert.Equal(86_400_000_000L, v.AsInt64)),
            (T(MySqlColumnType.DateTime), [0], v => Assert.Equal((ParameterKind.Text, "0000-00-00 00:00:00"), (v.Kind, v.AsString))),
            (T(MySqlColumnType.Time), [8, 0, 1, 0, 0, 0, 2, 3, 4], v => Assert.Equal((ParameterKind.Time, ((((24L + 2) * 60) + 3) * 60 + 4) * 1_000_000), (v.Kind, v.AsInt64))),
            (T(MySqlColumnType.Time), [12, 1, 0, 0, 0, 0, 0, 0, 1, 7, 0, 0, 0], v => Assert.Equal(-1_000_007L, v.AsInt64)),
            (T(MySqlColumnType.Time), [0], v => Assert.Equal(0L, v.AsInt64)),
            (T(MySqlColumnType.Null), [], v => Assert.True(v.IsNull)),
        };

        byte[] payload = ExecutePayload(1, values.Count, newTypes: true, values.Select(v => v.Type).ToArray(), nullMask: 0, values.Select(v => v.Bytes).ToArray());
        EverySplit(Packet(0, payload), p =>
        {
            var types = new ushort[values.Count];
            var decoded = new ParameterValue[values.Count];
            bool bound = false;
            MySqlBinaryParameters.ParseExecute(p, MySqlCapabilities.Protocol41, values.Count, types, ref bound, [], decoded);
            Assert.True(bound);
            for (int i = 0; i < values.Count; i++)
            {
                values[i].Check(decoded[i]);
            }
        });
    }

    [Fact]
    public void Execute_reuses_the_previous_types_and_honours_the_null_bitmap()
    {
        ushort[] types = [T(MySqlColumnType.Long), T(MySqlColumnType.VarString), T(MySqlColumnType.Long)];
        var decoded = new ParameterValue[3];
        bool bound = false;
        MySqlBinaryParameters.ParseExecute(ExecutePayload(1, 3, true, types, 0, [Le(1), [1, (byte)'a'], Le(3)]), MySqlCapabilities.Protocol41, 3, types, ref bound, [], decoded);

        // Second execute: no types, the middle parameter NULL (bit 1).
        var remembered = (ushort[])types.Clone();
        MySqlBinaryParameters.ParseExecute(ExecutePayload(1, 3, false, [], 0b010, [Le(10), [], Le(30)]), MySqlCapabilities.Protocol41, 3, remembered, ref bound, [], decoded);
        Assert.Equal(10, decoded[0].AsInt64);
        Assert.True(decoded[1].IsNull);
        Assert.Equal(30, decoded[2].AsInt64);

        // Never bound: an error, not a guess.
        bool never = false;
        Assert.Throws<MySqlProtocolException>(() => MySqlBinaryParameters.ParseExecute(ExecutePayload(1, 1, false, [], 0, [Le(1)]), MySqlCapabilities.Protocol41, 1, new ushort[1], ref never, [], new ParameterValue[1]));
    }

    [Fact]
    public void Execute_takes_long_data_instead_of_inline_values()
    {
        ushort[] types = [T(MySqlColumnType.Blob), T(MySqlColumnType.Long)];
        var decoded = new ParameterValue[2];
        bool bound = false;
        byte[] payload = ExecutePayload(1, 2, true, types, 0, [[], Le(5)]);
        MySqlBinaryParameters.ParseExecute(payload, MySqlCapabilities.Protocol41, 2, types, ref bound, [new byte[] { 9, 8, 7 }, null], decoded);
        Assert.Equal([9, 8, 7], decoded[0].AsBytes);
        Assert.Equal(5, decoded[1].AsInt64);
    }

    [Fact]
    public void Execute_with_query_attributes_reads_the_count_and_names()
    {
        // MySqlConnector's form: PARAMETER_COUNT_AVAILABLE, count 2 (1 placeholder + 1 attribute), names after each type.
        byte[] payload =
        [
            0x17, 1, 0, 0, 0, 0x08, 1, 0, 0, 0,
            2, 0, 1,
            (byte)MySqlColumnType.Long, 0, 0,
            (byte)MySqlColumnType.VarString, 0, 3, (byte)'t', (byte)'a', (byte)'g',
            7, 0, 0, 0,
            1, (byte)'x',
        ];
        var types = new ushort[1];
        var decoded = new ParameterValue[1];
        var attributes = new List<MySqlQueryAttribute>();
        bool bound = false;
        MySqlBinaryParameters.ParseExecute(payload, WithAttributes, 1, types, ref bound, [], decoded, attributes);
        Assert.Equal(7, decoded[0].AsInt64);
        Assert.Equal(new MySqlQueryAttribute("tag", ParameterValue.FromText("x")).Name, attributes.Single().Name);
        Assert.Equal("x", attributes.Single().Value.AsString);

        // No placeholders and no attributes: count 0 and nothing else.
        bool none = false;
        MySqlBinaryParameters.ParseExecute([0x17, 1, 0, 0, 0, 0x08, 1, 0, 0, 0, 0], WithAttributes, 0, [], ref none, [], []);

        // Fewer values than placeholders is malformed.
        Assert.Throws<MySqlProtocolException>(() => MySqlBinaryParameters.ParseExecute([0x17, 1, 0, 0, 0, 0x08, 1, 0, 0, 0, 0], WithAttributes, 1, new ushort[1], ref none, [], new ParameterValue[1]));
    }

    [Fact]
    public void Execute_rejects_unknown_types_and_bad_date_lengths()
    {
        bool bound = false;
        var ex = Assert.Throws<MySqlProtocolException>(() => MySqlBinaryParameters.ParseExecute(
            ExecutePayload(1, 1, true, [0x00F0], 0, [[1]]), MySqlCapabilities.Protocol41, 1, new ushort[1], ref bound, [], new ParameterValue[1]));
        Assert.Equal(MySqlErrorCode.WrongArguments, ex.ErrorCode);
        Assert.Throws<MySqlProtocolException>(() => MySqlBinaryParameters.ParseExecute(
            ExecutePayload(1, 1, true, [T(MySqlColumnType.Date)], 0, [[5, 1, 2, 3, 4, 5]]), MySqlCapabilities.Protocol41, 1, new ushort[1], ref bound, [], new ParameterValue[1]));
        Assert.Throws<MySqlProtocolException>(() => MySqlBinaryParameters.ParseExecute(
            ExecutePayload(1, 1, true, [T(MySqlColumnType.Long)], 0, [[1, 2]]), MySqlCapabilities.Protocol41, 1, new ushort[1], ref bound, [], new ParameterValue[1]));
    }

    [Fact]
    public void Out_of_calendar_dates_travel_as_text()
    {
        bool bound = false;
        var decoded = new ParameterValue[1];
        MySqlBinaryParameters.ParseExecute(ExecutePayload(1, 1, true, [T(MySqlColumnType.Date)], 0, [[4, 0xE8, 0x07, 2, 30]]),
            MySqlCapabilities.Protocol41, 1, new ushort[1], ref bound, [], decoded);
        Assert.Equal(ParameterKind.Text, decoded[0].Kind);
        Assert.StartsWith("2024-02-30", decoded[0].AsString, StringComparison.Ordinal);
    }

    private static ushort T(MySqlColumnType type, bool unsigned = false) => (ushort)((byte)type | (unsigned ? MySqlBinaryParameters.UnsignedFlag : 0));

    private static byte[] Le(long value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Le(int value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>COM_STMT_EXECUTE without query attributes.</summary>
    private static byte[] ExecutePayload(uint id, int count, bool newTypes, ushort[] types, long nullMask, byte[][] values)
    {
        var bytes = new List<byte> { 0x17 };
        bytes.AddRange(BitConverter.GetBytes(id));
        bytes.Add(0);
        bytes.AddRange(BitConverter.GetBytes(1));
        for (int i = 0; i < (count + 7) / 8; i++)
        {
            bytes.Add((byte)(nullMask >> (8 * i)));
        }

        bytes.Add(newTypes ? (byte)1 : (byte)0);
        if (newTypes)
        {
            foreach (ushort type in types)
            {
                bytes.AddRange(BitConverter.GetBytes(type));
            }
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (((nullMask >> i) & 1) == 0)
            {
                bytes.AddRange(values[i]);
            }
        }

        return [.. bytes];
    }
}
