using LakeOps.Edge.Protocols.Postgres;
using static LakeOps.Edge.Protocols.Tests.Codec.CodecTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Codec;

public class FrontendMessageTests
{
    [Fact]
    public void Sync_Flush_Terminate_match_the_spec_bytes()
    {
        Assert.Equal(new byte[] { (byte)'S', 0, 0, 0, 4 }, Encode(PgFrontendWriter.WriteSync));
        Assert.Equal(new byte[] { (byte)'H', 0, 0, 0, 4 }, Encode(PgFrontendWriter.WriteFlush));
        Assert.Equal(new byte[] { (byte)'X', 0, 0, 0, 4 }, Encode(PgFrontendWriter.WriteTerminate));
    }

    [Theory]
    [InlineData(PgMessageTypes.Sync)]
    [InlineData(PgMessageTypes.Flush)]
    [InlineData(PgMessageTypes.Terminate)]
    public void Empty_messages_round_trip_and_reject_a_body(byte type)
    {
        byte[] encoded = Encode(w =>
        {
            switch (type)
            {
                case PgMessageTypes.Sync: PgFrontendWriter.WriteSync(w); break;
                case PgMessageTypes.Flush: PgFrontendWriter.WriteFlush(w); break;
                default: PgFrontendWriter.WriteTerminate(w); break;
            }
        });
        byte[] body = ScanSingleFrame(encoded, type);
        EmptyMessage.Parse(type, body);
        var error = Assert.Throws<PgProtocolException>(() => EmptyMessage.Parse(type, [0]));
        Assert.Contains("expected an empty body", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_matches_hand_computed_bytes()
    {
        byte[] expected = [(byte)'Q', 0, 0, 0, 13, (byte)'S', (byte)'E', (byte)'L', (byte)'E', (byte)'C', (byte)'T', (byte)' ', (byte)'1', 0];
        Assert.Equal(expected, Encode(w => PgFrontendWriter.WriteQuery(w, "SELECT 1")));
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("")]
    [InlineData("SELECT 'grüße 🦆'; SELECT 2")]
    public void Query_round_trips(string sql)
    {
        byte[] body = ScanSingleFrame(Encode(w => PgFrontendWriter.WriteQuery(w, sql)), PgMessageTypes.Query);
        Assert.Equal(sql, QueryMessage.Parse(body));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(sql), QueryMessage.ParseUtf8(body).ToArray());
    }

    [Fact]
    public void Parse_round_trips()
    {
        byte[] body = ScanSingleFrame(Encode(w => PgFrontendWriter.WriteParse(w, "stmt_1", "SELECT $1, $2, $3", [23, 0, 25])), PgMessageTypes.Parse);
        ParseMessage parse = ParseMessage.Parse(body);
        Assert.Equal("stmt_1", parse.StatementName);
        Assert.Equal("SELECT $1, $2, $3", parse.Query);
        Assert.Equal([23, 0, 25], parse.ParameterTypeOids);

        ParseMessage unnamed = ParseMessage.Parse(ScanSingleFrame(Encode(w => PgFrontendWriter.WriteParse(w, "", "SELECT 1", [])), PgMessageTypes.Parse));
        Assert.Equal("", unnamed.StatementName);
        Assert.Empty(unnamed.ParameterTypeOids);
    }

    [Fact]
    public void Parse_accepts_more_than_32767_parameters_like_PostgreSQL()
    {
        int[] oids = Enumerable.Repeat(23, 40000).ToArray();
        ParseMessage parse = ParseMessage.Parse(Encode(w => PgFrontendWriter.WriteParse(w, "", "SELECT", oids))[5..]);
        Assert.Equal(40000, parse.ParameterTypeOids.Length);
    }

    public static TheoryData<short[], byte[]?[], short[]> BindCases => new()
    {
        { [], [], [] },
        { [], [[(byte)'4', (byte)'2'], null, []], [] },
        { [1], [[0, 0, 0, 42], [0, 0, 0, 0]], [1] },
        { [0, 1, 0], [[(byte)'x'], [0, 0, 0, 0, 0, 0, 0, 9], null], [0, 1] },
    };

    [Theory]
    [MemberData(nameof(BindCases))]
    public void Bind_round_trips(short[] parameterFormats, byte[]?[] values, short[] resultFormats)
    {
        byte[] body = ScanSingleFrame(Encode(w => PgFrontendWriter.WriteBind(w, "portal", "stmt", parameterFormats, values, resultFormats)), PgMessageTypes.Bind);
        BindMessage bind = BindMessage.Parse(body);
        Assert.Equal("portal", bind.PortalName);
        Assert.Equal("stmt", bind.StatementName);
        Assert.Equal(parameterFormats, bind.ParameterFormats);
        Assert.Equal(values.Length, bind.ParameterValues.Length);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(values[i], bind.ParameterValues[i]); // null stays null, empty stays empty
        }

        Assert.Equal(resultFormats, bind.ResultFormats);
    }

    [Fact]
    public void Bind_format_lookup_follows_zero_one_or_n_rule()
    {
        BindMessage none = BindMessage.Parse(Encode(w => PgFrontendWriter.WriteBind(w, "", "", [], [null, null], []))[5..]);
        Assert.Equal(0, none.GetParameterFormat(1));
        Assert.Equal(0, none.GetResultFormat(5));

        BindMessage one = BindMessage.Parse(Encode(w => PgFrontendWriter.WriteBind(w, "", "", [1], [null, null], [1]))[5..]);
        Assert.Equal(1, one.GetParameterFormat(1));
        Assert.Equal(1, one.GetResultFormat(7));

        BindMessage each = BindMessage.Parse(Encode(w => PgFrontendWriter.WriteBind(w, "", "", [0, 1], [null, null], [1, 0]))[5..]);
        Assert.Equal(0, each.GetParameterFormat(0));
        Assert.Equal(1, each.GetParameterFormat(1));
        Assert.Equal(0, each.GetResultFormat(1));
    }

    [Theory]
    [InlineData('S', "stmt")]
    [InlineData('P', "")]
    public void Describe_and_Close_round_trip(char kind, string name)
    {
        DescribeMessage describe = DescribeMessage.Parse(ScanSingleFrame(Encode(w => PgFrontendWriter.WriteDescribe(w, kind, name)), PgMessageTypes.DescribeMessage));
        Assert.Equal(kind, describe.Kind);
        Assert.Equal(name, describe.Name);

        CloseMessage close = CloseMessage.Parse(ScanSingleFrame(Encode(w => PgFrontendWriter.WriteClose(w, kind, name)), PgMessageTypes.Close));
        Assert.Equal(kind, close.Kind);
        Assert.Equal(name, close.Name);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("cursor_1", 100)]
    [InlineData("p", -1)]
    public void Execute_round_trips(string portal, int maxRows)
    {
        ExecuteMessage execute = ExecuteMessage.Parse(ScanSingleFrame(Encode(w => PgFrontendWriter.WriteExecute(w, portal, maxRows)), PgMessageTypes.Execute));
        Assert.Equal(portal, execute.PortalName);
        Assert.Equal(maxRows, execute.MaxRows);
    }

    [Fact]
    public void Password_round_trips()
    {
        byte[] body = ScanSingleFrame(Encode(w => PgFrontendWriter.WritePassword(w, "md5abc€")), PgMessageTypes.PasswordMessage);
        Assert.Equal("md5abc€", PasswordMessage.ParsePassword(body));
    }

    [Fact]
    public void Sasl_initial_response_round_trips_with_data_empty_data_and_no_data()
    {
        byte[] clientFirst = "n,,n=,r=fyko+d2lbbFgONRv9qkxdawL"u8.ToArray();
        SaslInitialResponse withData = SaslInitialResponse.Parse(ScanSingleFrame(
            Encode(w => PgFrontendWriter.WriteSaslInitialResponse(w, "SCRAM-SHA-256", clientFirst)), PgMessageTypes.SaslInitialResponse));
        Assert.Equal("SCRAM-SHA-256", withData.Mechanism);
        Assert.Equal(clientFirst, withData.Data);
        Assert.True(withData.HasData);

        SaslInitialResponse empty = SaslInitialResponse.Parse(Encode(w => PgFrontendWriter.WriteSaslInitialResponse(w, "X", []))[5..]);
        Assert.Empty(empty.Data);
        Assert.True(empty.HasData);

        byte[] noDataBody = ScanSingleFrame(Encode(w => PgFrontendWriter.WriteSaslInitialResponse(w, "SCRAM-SHA-256")), PgMessageTypes.SaslInitialResponse);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, noDataBody[^4..]); // Int32 -1
        SaslInitialResponse noData = SaslInitialResponse.Parse(noDataBody);
        Assert.Empty(noData.Data);
        Assert.False(noData.HasData);
    }

    [Fact]
    public void Sasl_response_round_trips()
    {
        byte[] data = "c=biws,r=abc,p=xyz"u8.ToArray();
        Assert.Equal(data, SaslResponse.Parse(ScanSingleFrame(Encode(w => PgFrontendWriter.WriteSaslResponse(w, data)), PgMessageTypes.SaslResponse)));
        Assert.Empty(SaslResponse.Parse([]));
    }

    [Fact]
    public void Writers_reject_NUL_in_strings_and_bad_targets()
    {
        Assert.Throws<ArgumentException>(() => Encode(w => PgFrontendWriter.WriteQuery(w, "SELECT\0 1")));
        Assert.Throws<ArgumentException>(() => Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "a\0b")])));
        Assert.Throws<ArgumentException>(() => Encode(w => PgFrontendWriter.WriteStartup(w, [new("", "x")])));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(w => PgFrontendWriter.WriteDescribe(w, 'X', "")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(w => PgFrontendWriter.WriteClose(w, 's', "")));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(w => PgFrontendWriter.WriteParse(w, "", "", new int[65536])));
    }

    [Fact]
    public void Message_type_names_are_readable()
    {
        Assert.Equal("Query ('Q')", PgMessageTypes.Describe(PgMessageTypes.Query));
        Assert.Equal("Describe ('D')", PgMessageTypes.Describe(PgMessageTypes.DescribeMessage));
        Assert.Equal("DataRow ('D')", PgMessageTypes.DescribeBackend(PgMessageTypes.DataRow));
        Assert.Equal("unknown message type 0x01", PgMessageTypes.Describe(1));
        Assert.Equal("unknown message type 'z'", PgMessageTypes.Describe((byte)'z'));
    }
}
