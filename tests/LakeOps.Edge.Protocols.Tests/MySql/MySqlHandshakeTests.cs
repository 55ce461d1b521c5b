using LakeOps.Edge.Protocols.MySql;
using static LakeOps.Edge.Protocols.Tests.MySql.MySqlTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlHandshakeTests
{
    private static readonly byte[] Scramble = "abcdefghijklmnopqrst"u8.ToArray();

    private const MySqlCapabilities ClientFlags = MySqlCapabilities.LongPassword | MySqlCapabilities.Protocol41 | MySqlCapabilities.SecureConnection
        | MySqlCapabilities.PluginAuth | MySqlCapabilities.PluginAuthLenencClientData | MySqlCapabilities.ConnectAttrs
        | MySqlCapabilities.ConnectWithDb | MySqlCapabilities.DeprecateEof | MySqlCapabilities.MultiStatements;

    [Fact]
    public void Handshake_v10_round_trips_over_every_split()
    {
        var handshake = new MySqlHandshakeV10
        {
            ServerVersion = "8.0.36-LakeOps-Edge",
            ConnectionId = 4242,
            Scramble = Scramble,
            Capabilities = ClientFlags | MySqlCapabilities.Ssl,
            AuthPluginName = "caching_sha2_password",
        };
        byte[] wire = Wire(handshake.Write);
        EverySplit(wire, payload =>
        {
            MySqlHandshakeV10 parsed = MySqlHandshakeV10.Parse(payload);
            Assert.Equal(handshake.ServerVersion, parsed.ServerVersion);
            Assert.Equal(4242u, parsed.ConnectionId);
            Assert.Equal(Scramble, parsed.Scramble);
            Assert.Equal(handshake.Capabilities, parsed.Capabilities);
            Assert.Equal("caching_sha2_password", parsed.AuthPluginName);
            Assert.Equal(MySqlServerStatus.AutoCommit, parsed.Status);
        });

        // The layout clients rely on: version 10, NUL after the version, 8 + 13 scramble bytes (the last one NUL).
        byte[] body = ReadAll(wire)[0].Payload;
        Assert.Equal(10, body[0]);
        int afterVersion = Array.IndexOf(body, (byte)0, 1) + 1;
        Assert.Equal(Scramble[..8], body[(afterVersion + 4)..(afterVersion + 12)]);
        Assert.Equal(21, body[afterVersion + 4 + 8 + 1 + 2 + 1 + 2 + 2]);
    }

    [Fact]
    public void Handshake_response_with_everything_round_trips_over_every_split()
    {
        var response = new MySqlHandshakeResponse
        {
            Capabilities = ClientFlags,
            MaxPacketSize = 1 << 24,
            CharacterSet = 255,
            User = "edge",
            AuthResponse = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(),
            Database = "local",
            AuthPluginName = "caching_sha2_password",
            ConnectAttributes = [new("_client_name", "libmysql"), new("program_name", "mysql")],
        };
        EverySplit(Wire(response.Write), payload =>
        {
            MySqlHandshakeResponse parsed = MySqlHandshakeResponse.Parse(payload);
            Assert.False(parsed.IsSslRequest);
            Assert.Equal("edge", parsed.User);
            Assert.Equal(response.AuthResponse, parsed.AuthResponse);
            Assert.Equal("local", parsed.Database);
            Assert.Equal("caching_sha2_password", parsed.AuthPluginName);
            Assert.Equal(response.ConnectAttributes, parsed.ConnectAttributes);
            Assert.Equal(255, parsed.CharacterSet);
            Assert.Equal(ClientFlags, parsed.Capabilities);
        });
    }

    [Fact]
    public void Short_auth_length_and_absent_optional_fields_parse()
    {
        var caps = MySqlCapabilities.Protocol41 | MySqlCapabilities.SecureConnection;
        var response = new MySqlHandshakeResponse { Capabilities = caps, User = "u", AuthResponse = [1, 2, 3] };
        MySqlHandshakeResponse parsed = MySqlHandshakeResponse.Parse(ReadAll(Wire(response.Write))[0].Payload);
        Assert.Equal([1, 2, 3], parsed.AuthResponse);
        Assert.Null(parsed.Database);
        Assert.Null(parsed.AuthPluginName);
        Assert.Empty(parsed.ConnectAttributes);

        // CLIENT_CONNECT_WITH_DB set but the packet ends after the auth response: the database is absent.
        byte[] truncated = ReadAll(Wire(new MySqlHandshakeResponse { Capabilities = caps | MySqlCapabilities.ConnectWithDb, User = "u", AuthResponse = [] }.Write))[0].Payload;
        Assert.Equal("", MySqlHandshakeResponse.Parse(truncated).Database);
        Assert.Null(MySqlHandshakeResponse.Parse(truncated[..^1]).Database);
    }

    [Fact]
    public void Ssl_request_is_recognised_by_its_length()
    {
        var request = new MySqlHandshakeResponse { Capabilities = ClientFlags | MySqlCapabilities.Ssl, CharacterSet = 45, MaxPacketSize = 1000, IsSslRequest = true };
        byte[] wire = Wire(request.Write, firstSequence: 1);
        Assert.Equal(4 + MySqlHandshakeResponse.SslRequestLength, wire.Length);
        EverySplit(wire, payload =>
        {
            MySqlHandshakeResponse parsed = MySqlHandshakeResponse.Parse(payload);
            Assert.True(parsed.IsSslRequest);
            Assert.Equal(45, parsed.CharacterSet);
        });
    }

    [Fact]
    public void Pre_41_and_truncated_responses_are_protocol_errors()
    {
        byte[] old = new byte[40];
        Assert.Throws<MySqlProtocolException>(() => MySqlHandshakeResponse.Parse(old));
        Assert.Throws<MySqlProtocolException>(() => MySqlHandshakeResponse.Parse(new byte[10]));

        var response = new MySqlHandshakeResponse { Capabilities = ClientFlags, User = "edge", AuthResponse = new byte[20] };
        byte[] payload = ReadAll(Wire(response.Write))[0].Payload;
        for (int cut = MySqlHandshakeResponse.SslRequestLength + 1; cut < payload.Length - 1; cut++)
        {
            byte[] prefix = payload[..cut];
            try
            {
                MySqlHandshakeResponse.Parse(prefix);
            }
            catch (MySqlProtocolException)
            {
                // Either a clean protocol error or a parse of the optional fields' absence; never another exception.
            }
        }
    }

    [Fact]
    public void Auth_switch_and_more_data_round_trip()
    {
        byte[] wire = Wire(w => MySqlAuthPackets.WriteAuthSwitchRequest(w, "mysql_native_password", Scramble), firstSequence: 2);
        EverySplit(wire, payload =>
        {
            Assert.Equal(0xFE, payload[0]);
            Assert.Equal(0, payload[^1]);
            (string plugin, byte[] data) = MySqlAuthPackets.ParseAuthSwitchRequest(payload);
            Assert.Equal("mysql_native_password", plugin);
            Assert.Equal(Scramble, data);
        });

        byte[] more = Payload(w => MySqlAuthPackets.WriteAuthMoreData(w, [MySqlAuthPackets.PerformFullAuthentication]));
        Assert.Equal([0x01, 0x04], more);
    }
}
