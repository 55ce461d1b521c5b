using LakeOps.Edge.Protocols.MySql;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlResponsePacketTests
{
    private const MySqlCapabilities Modern = MySqlCapabilities.Protocol41 | MySqlCapabilities.DeprecateEof | MySqlCapabilities.Transactions;

    [Theory]
    [InlineData(MySqlCapabilities.Protocol41)]
    [InlineData(Modern)]
    [InlineData(Modern | MySqlCapabilities.SessionTrack)]
    public void Ok_packets_round_trip_over_every_split(MySqlCapabilities capabilities)
    {
        byte[] wire = Wire(w => MySqlOkPacket.Write(w, capabilities, 300, 70000,
            MySqlServerStatus.AutoCommit | MySqlServerStatus.InTransaction, 2, "Rows matched: 1"u8));
        EverySplit(wire, payload =>
        {
            Assert.True(MySqlPacketHeader.IsOk(payload));
            MySqlOkPacket ok = MySqlOkPacket.Parse(payload, capabilities);
            Assert.Equal(300UL, ok.AffectedRows);
            Assert.Equal(70000UL, ok.LastInsertId);
            Assert.Equal(MySqlServerStatus.AutoCommit | MySqlServerStatus.InTransaction, ok.Status);
            Assert.Equal(2, ok.Warnings);
            Assert.Equal("Rows matched: 1"u8.ToArray(), ok.Info.ToArray());
        });
    }

    [Fact]
    public void Ok_packet_bytes_match_the_protocol_layout()
    {
        byte[] payload = Payload(w => MySqlOkPacket.Write(w, Modern, 1, 0, MySqlServerStatus.AutoCommit, 0));
        Assert.Equal([0x00, 1, 0, 2, 0, 0, 0], payload);
    }

    [Fact]
    public void End_of_rows_is_an_eof_packet_or_an_ok_with_header_fe()
    {
        byte[] classic = Payload(w => MySqlEofPacket.WriteEndMarker(w, MySqlCapabilities.Protocol41, MySqlServerStatus.MoreResultsExist, afterColumns: false, warnings: 3));
        Assert.Equal([0xFE, 3, 0, 8, 0], classic);
        Assert.True(MySqlPacketHeader.IsEof(classic));
        Assert.True(MySqlPacketHeader.IsEndOfRows(classic, MySqlCapabilities.Protocol41));
        Assert.Equal(new MySqlEofPacket(3, MySqlServerStatus.MoreResultsExist), MySqlEofPacket.Parse(classic));

        byte[] modern = Payload(w => MySqlEofPacket.WriteEndMarker(w, Modern, MySqlServerStatus.AutoCommit, afterColumns: false));
        Assert.Equal(0xFE, modern[0]);
        Assert.True(MySqlPacketHeader.IsEndOfRows(modern, Modern));
        Assert.Equal(MySqlServerStatus.AutoCommit, MySqlOkPacket.Parse(modern, Modern).Status);

        // After column definitions CLIENT_DEPRECATE_EOF sends nothing at all.
        Assert.Empty(Wire(w => MySqlEofPacket.WriteEndMarker(w, Modern, MySqlServerStatus.AutoCommit, afterColumns: true)));

        // A text row starting with an 8-byte length is never taken for the end.
        byte[] row = new byte[20];
        row[0] = 0xFE;
        Assert.False(MySqlPacketHeader.IsEof(row));
    }

    [Fact]
    public void Err_packets_round_trip_and_cap_long_messages_on_a_character_boundary()
    {
        byte[] wire = Wire(w => MySqlErrPacket.Write(w, 1146, "42S02", "Table 'x.t' doesn't exist"));
        EverySplit(wire, payload =>
        {
            Assert.True(MySqlPacketHeader.IsErr(payload));
            Assert.Equal(new MySqlErrPacket(1146, "42S02", "Table 'x.t' doesn't exist"), MySqlErrPacket.Parse(payload));
        });

        string huge = new('é', MySqlErrPacket.MaxMessageBytes);
        MySqlErrPacket parsed = MySqlErrPacket.Parse(Payload(w => MySqlErrPacket.Write(w, 1105, "HY000", huge)));
        Assert.Equal(MySqlErrPacket.MaxMessageBytes / 2, parsed.Message.Length);
        Assert.All(parsed.Message, c => Assert.Equal('é', c));

        // A bad SQLSTATE never corrupts the packet.
        Assert.Equal("HY000", MySqlErrPacket.Parse(Payload(w => MySqlErrPacket.Write(w, 1, "toolong", "m"))).SqlState);
    }

    [Fact]
    public void Err_without_a_state_marker_parses_as_HY000()
    {
        byte[] payload = [0xFF, 0x10, 0x04, .. "Too many connections"u8];
        MySqlErrPacket err = MySqlErrPacket.Parse(payload);
        Assert.Equal(1040, err.ErrorCode);
        Assert.Equal("HY000", err.SqlState);
        Assert.Equal("Too many connections", err.Message);
    }

    [Fact]
    public void Column_definitions_round_trip_over_every_split()
    {
        var column = new MySqlColumnDefinition
        {
            Schema = "db",
            Table = "t",
            OriginalTable = "tab",
            Name = "naïve",
            OriginalName = "n",
            CharacterSet = 255,
            ColumnLength = 1020,
            Type = MySqlColumnType.VarString,
            Flags = MySqlColumnFlags.NotNull | MySqlColumnFlags.PrimaryKey,
            Decimals = 0x1F,
        };
        EverySplit(Wire(w => column.Write(w)), payload => Assert.Equal(column, MySqlColumnDefinition.Parse(payload)));
        Assert.Equal(column, MySqlColumnDefinition.Parse(column.Encode()));

        // COM_FIELD_LIST appends a (NULL) default value, which the parser tolerates.
        byte[] withDefault = column.Encode(withFieldListDefault: true);
        Assert.Equal(0xFB, withDefault[^1]);
        Assert.Equal(column, MySqlColumnDefinition.Parse(withDefault));
    }

    [Fact]
    public void Encoded_definitions_with_long_names_are_one_payload()
    {
        var column = new MySqlColumnDefinition { Name = new string('n', 70_000), Type = MySqlColumnType.Long };
        byte[] encoded = column.Encode();
        Assert.Equal(column, MySqlColumnDefinition.Parse(encoded));
        Assert.Equal(encoded, ReadAll(Wire(w => column.Write(w)))[0].Payload);
    }

    [Fact]
    public void Prepare_ok_round_trips()
    {
        var ok = new MySqlPrepareOk(7, 3, 2, 0);
        EverySplit(Wire(w => ok.Write(w)), payload => Assert.Equal(ok, MySqlPrepareOk.Parse(payload)));
    }

    [Fact]
    public void Error_codes_carry_their_sqlstates()
    {
        Assert.Equal("28000", MySqlErrorCode.SqlStateOf(MySqlErrorCode.AccessDenied));
        Assert.Equal("42000", MySqlErrorCode.SqlStateOf(MySqlErrorCode.ParseError));
        Assert.Equal("42S02", MySqlErrorCode.SqlStateOf(MySqlErrorCode.NoSuchTable));
        Assert.Equal("70100", MySqlErrorCode.SqlStateOf(MySqlErrorCode.QueryInterrupted));
        Assert.Equal("08004", MySqlErrorCode.SqlStateOf(MySqlErrorCode.TooManyConnections));
        Assert.Equal("HY000", MySqlErrorCode.SqlStateOf(MySqlErrorCode.QueryTimeout));
    }
}
