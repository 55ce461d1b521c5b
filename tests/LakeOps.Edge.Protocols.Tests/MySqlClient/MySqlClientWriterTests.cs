using System.Buffers;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Client;
using LakeOps.Edge.Protocols.Tests.Support;

namespace LakeOps.Edge.Protocols.Tests.MySqlClient;

/// <summary>Client-side command packets: framed as the server expects and readable by Edge's own server-side parsers.</summary>
public sealed class MySqlClientWriterTests
{
    private static byte[] Write(Action<MySqlPacketWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new MySqlPacketWriter(buffer) { SequenceId = 9 });
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The logical payloads in <paramref name="bytes"/>, scanned over every two-chunk split.</summary>
    private static List<byte[]> Packets(byte[] bytes)
    {
        List<byte[]>? expected = null;
        foreach (ReadOnlySequence<byte> split in SequenceSplits.Of(bytes))
        {
            var packets = new List<byte[]>();
            ReadOnlySequence<byte> rest = split;
            var scanner = new MySqlPacketScanner();
            while (!rest.IsEmpty)
            {
                Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(rest, int.MaxValue));
                MySqlFrame frame = scanner.Frame;
                Assert.Equal(0, frame.SequenceId); // every command starts a new exchange
                byte[] payload = new byte[frame.PayloadLength];
                MySqlPacketScanner.CopyPayload(rest, frame, payload);
                packets.Add(payload);
                rest = rest.Slice(frame.FrameLength);
            }

            if (expected is null)
            {
                expected = packets;
            }
            else
            {
                Assert.Equal(expected, packets);
            }
        }

        return expected!;
    }

    [Theory]
    [InlineData(MySqlCommand.Ping)]
    [InlineData(MySqlCommand.Quit)]
    [InlineData(MySqlCommand.ResetConnection)]
    public void Simple_commands_are_one_byte(MySqlCommand command)
    {
        byte[] bytes = Write(w => MySqlCommandWriter.WriteSimple(w, command));
        Assert.Equal(new byte[] { 1, 0, 0, 0, (byte)command }, bytes);
    }

    [Fact]
    public void Query_text_round_trips_through_the_server_side_parser()
    {
        const string sql = "SELECT 'ünïcødé ✓', 1";
        byte[] fromString = Write(w => MySqlCommandWriter.WriteText(w, MySqlCommand.Query, sql));
        byte[] fromBytes = Write(w => MySqlCommandWriter.WriteText(w, MySqlCommand.Query, Encoding.UTF8.GetBytes(sql)));
        Assert.Equal(fromString, fromBytes);
        byte[] payload = Assert.Single(Packets(fromString));
        Assert.Equal(sql, Encoding.UTF8.GetString(MySqlCommandPackets.ParseQuery(payload, MySqlCapabilities.Protocol41)));

        byte[] prepare = Assert.Single(Packets(Write(w => MySqlCommandWriter.WriteText(w, MySqlCommand.StmtPrepare, sql))));
        Assert.Equal(sql, Encoding.UTF8.GetString(MySqlCommandPackets.ParsePrepare(prepare)));
    }

    [Fact]
    public void Statement_commands_carry_the_id()
    {
        byte[] close = Assert.Single(Packets(Write(w => MySqlCommandWriter.WriteStatementCommand(w, MySqlCommand.StmtClose, 0xA1B2C3D4))));
        Assert.Equal(0xA1B2C3D4u, MySqlCommandPackets.ParseStatementId(close, MySqlCommand.StmtClose));
        byte[] reset = Assert.Single(Packets(Write(w => MySqlCommandWriter.WriteStatementCommand(w, MySqlCommand.StmtReset, 7))));
        Assert.Equal(7u, MySqlCommandPackets.ParseStatementId(reset, MySqlCommand.StmtReset));
    }

    [Fact]
    public void A_query_of_16_MiB_or_more_is_split_into_continuation_packets()
    {
        string sql = "SELECT '" + new string('x', MySqlPacketScanner.MaxPacketPayload) + "'";
        byte[] bytes = Write(w => MySqlCommandWriter.WriteText(w, MySqlCommand.Query, sql));
        var scanner = new MySqlPacketScanner();
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(MySqlPacketStatus.Complete, scanner.TryRead(sequence, int.MaxValue));
        Assert.Equal(2, scanner.Frame.PacketCount);
        Assert.Equal((0, 1), (scanner.Frame.SequenceId, scanner.Frame.LastSequenceId));
        Assert.Equal(1 + Encoding.UTF8.GetByteCount(sql), scanner.Frame.PayloadLength);
    }

    [Fact]
    public void Execute_parameters_round_trip_through_the_server_side_parser()
    {
        long micros = 1_700_000_000_123_456;
        ParameterValue[] values =
        [
            ParameterValue.Null, ParameterValue.FromBoolean(true), ParameterValue.FromInt16(-7), ParameterValue.FromInt32(int.MinValue),
            ParameterValue.FromInt64(long.MaxValue), ParameterValue.FromFloat32(1.25f), ParameterValue.FromFloat64(-3.5e300),
            ParameterValue.FromDecimalText("-12.340"), ParameterValue.FromText("zoë"), ParameterValue.FromBytes([0, 1, 255]),
            ParameterValue.FromDate(-719162), ParameterValue.FromDate(19000), ParameterValue.FromTime((23 * 3600 + 59 * 60 + 59) * 1_000_000L + 999_999),
            ParameterValue.FromTimestamp(micros), ParameterValue.FromTimestampTz(-1), ParameterValue.FromJson("{\"a\":1}"),
            ParameterValue.FromUuid(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")),
        ];
        byte[] payload = Assert.Single(Packets(Write(w => MySqlStatementExecuteWriter.Write(w, 42, values))));

        MySqlExecuteHeader header = MySqlCommandPackets.ParseExecuteHeader(payload);
        Assert.Equal((42u, (byte)0, 1u), (header.StatementId, header.Flags, header.IterationCount));
        ushort[] types = new ushort[values.Length];
        bool bound = false;
        var parsed = new ParameterValue[values.Length];
        MySqlBinaryParameters.ParseExecute(payload, MySqlCapabilities.Protocol41, values.Length, types, ref bound, [], parsed);
        Assert.True(bound);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal((byte)MySqlStatementExecuteWriter.TypeOf(values[i]), (byte)types[i]);
            string expected = values[i].Kind switch
            {
                ParameterKind.Boolean => "1",
                _ => values[i].ToString(),
            };
            Assert.Equal(expected, parsed[i].ToString());
        }
    }

    [Fact]
    public void Execute_without_parameters_is_just_the_header()
    {
        byte[] payload = Assert.Single(Packets(Write(w => MySqlStatementExecuteWriter.Write(w, 1, []))));
        Assert.Equal(10, payload.Length);
    }

    [Fact]
    public void Values_mysql_cannot_hold_are_refused()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MySqlPacketWriter(buffer);
        Assert.Throws<NotSupportedException>(() => MySqlStatementExecuteWriter.Write(writer, 1, [ParameterValue.FromArray([ParameterValue.FromInt32(1)])]));
        Assert.Throws<NotSupportedException>(() => MySqlStatementExecuteWriter.Write(writer, 1, [ParameterValue.FromInterval(1, 0, 0)]));
        Assert.Throws<NotSupportedException>(() => MySqlStatementExecuteWriter.Write(writer, 1, [ParameterValue.FromDate(int.MaxValue)]));
        Assert.Throws<NotSupportedException>(() => MySqlStatementExecuteWriter.Write(writer, 1, [ParameterValue.FromInt32(1), ParameterValue.FromTimestamp(long.MaxValue)]));

        // Nothing was half written: the connection's writer goes on.
        Assert.Equal(0, buffer.WrittenCount);
        MySqlCommandWriter.WriteSimple(writer, MySqlCommand.Ping);
        Assert.Equal(5, buffer.WrittenCount);
    }
}
