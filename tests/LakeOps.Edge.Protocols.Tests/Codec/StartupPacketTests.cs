using System.Buffers.Binary;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using static LakeOps.Edge.Protocols.Tests.Codec.CodecTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Codec;

public class StartupPacketTests
{
    [Fact]
    public void Startup_matches_hand_computed_bytes()
    {
        byte[] expected = [0, 0, 0, 17, 0, 3, 0, 0, (byte)'u', (byte)'s', (byte)'e', (byte)'r', 0, (byte)'b', (byte)'o', (byte)'b', 0, 0];
        expected[3] = (byte)expected.Length;
        Assert.Equal(expected, Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "bob")])));
    }

    [Fact]
    public void Startup_round_trips_parameters_in_order_and_separates_protocol_options()
    {
        KeyValuePair<string, string>[] parameters =
        [
            new("user", "alice"),
            new("database", "lake"),
            new("_pq_.compression", "on"),
            new("application_name", "psql ✓"),
            new("options", "-c search_path=x"),
        ];
        byte[] frame = ScanSingleStartupFrame(Encode(w => PgFrontendWriter.WriteStartup(w, parameters)));
        StartupPacket packet = StartupPacket.Parse(frame);

        Assert.Equal(StartupPacketKind.Startup, packet.Kind);
        Assert.Equal(3, packet.ProtocolMajor);
        Assert.Equal(0, packet.ProtocolMinor);
        Assert.Equal(["user", "database", "application_name", "options"], packet.Parameters.Select(p => p.Key));
        Assert.Equal("psql ✓", packet.GetParameter("application_name"));
        Assert.Null(packet.GetParameter("User"));
        Assert.Equal(["_pq_.compression"], packet.ProtocolOptions);
        Assert.Equal(StartupPacket.ProtocolVersion30, StartupPacket.PeekCode(frame));
    }

    [Fact]
    public void Startup_without_parameters_parses()
    {
        StartupPacket packet = StartupPacket.Parse(ScanSingleStartupFrame(Encode(w => PgFrontendWriter.WriteStartup(w, []))));
        Assert.Empty(packet.Parameters);
        Assert.Empty(packet.ProtocolOptions);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    [InlineData(65535)]
    public void Newer_3x_minor_versions_parse_for_negotiation(int minor)
    {
        StartupPacket packet = StartupPacket.Parse(ScanSingleStartupFrame(Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "u")], 3, minor))));
        Assert.Equal(StartupPacketKind.Startup, packet.Kind);
        Assert.Equal(3, packet.ProtocolMajor);
        Assert.Equal(minor, packet.ProtocolMinor);
    }

    [Fact]
    public void Ssl_and_gss_requests_match_spec_codes_and_round_trip()
    {
        byte[] ssl = Encode(PgFrontendWriter.WriteSslRequest);
        Assert.Equal(new byte[] { 0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F }, ssl); // 80877103
        Assert.Equal(80877103, StartupPacket.SslRequestCode);
        StartupPacket sslPacket = StartupPacket.Parse(ScanSingleStartupFrame(ssl));
        Assert.Equal(StartupPacketKind.SslRequest, sslPacket.Kind);
        Assert.Equal(1234, sslPacket.ProtocolMajor);
        Assert.Equal(5679, sslPacket.ProtocolMinor);

        byte[] gss = Encode(PgFrontendWriter.WriteGssEncRequest);
        Assert.Equal(80877104, BinaryPrimitives.ReadInt32BigEndian(gss.AsSpan(4)));
        Assert.Equal(StartupPacketKind.GssEncRequest, StartupPacket.Parse(ScanSingleStartupFrame(gss)).Kind);
    }

    [Fact]
    public void Cancel_request_round_trips()
    {
        byte[] frame = ScanSingleStartupFrame(Encode(w => PgFrontendWriter.WriteCancelRequest(w, 4242, -123456789)));
        Assert.Equal(16, frame.Length);
        Assert.Equal(80877102, BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4)));
        StartupPacket packet = StartupPacket.Parse(frame);
        Assert.Equal(StartupPacketKind.CancelRequest, packet.Kind);
        Assert.Equal(4242, packet.CancelProcessId);
        Assert.Equal(-123456789, packet.CancelSecretKey);
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(4, 0)]
    [InlineData(0, 0)]
    [InlineData(1234, 5677)]
    [InlineData(1234, 5681)]
    public void Unknown_protocol_versions_are_feature_not_supported(int major, int minor)
    {
        byte[] frame = Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "u")], major, minor));
        var error = Assert.Throws<PgProtocolException>(() => StartupPacket.Parse(frame));
        Assert.Equal(SqlStates.FeatureNotSupported, error.SqlState);
        Assert.Contains($"{major}.{minor}", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> MalformedStartupPackets => new()
    {
        { "no terminator", Frame([0, 3, 0, 0, .. "user\0bob\0"u8]) },
        { "no terminator, no parameters", Frame([0, 3, 0, 0]) },
        { "name without value", Frame([0, 3, 0, 0, .. "user\0"u8]) },
        { "value without NUL", Frame([0, 3, 0, 0, .. "user\0bob"u8]) },
        { "bytes after terminator", Frame([0, 3, 0, 0, .. "user\0bob\0\0x"u8]) },
        { "ssl request with body", Frame([0x04, 0xD2, 0x16, 0x2F, 0]) },
        { "cancel request too short", Frame([0x04, 0xD2, 0x16, 0x2E, 0, 0, 0, 1]) },
        { "cancel request too long", Frame([0x04, 0xD2, 0x16, 0x2E, 0, 0, 0, 1, 0, 0, 0, 2, 0]) },
        { "length field mismatch", [0, 0, 0, 50, 0, 3, 0, 0, 0] },
        { "too short for a code", [0, 0, 0, 6, 0, 3] },
        { "invalid UTF-8 name", Frame([0, 3, 0, 0, 0xC3, 0x28, 0, (byte)'x', 0, 0]) },
    };

    [Theory]
    [MemberData(nameof(MalformedStartupPackets))]
    public void Malformed_startup_packets_throw_protocol_exception(string why, byte[] frame)
    {
        var error = Assert.Throws<PgProtocolException>(() => StartupPacket.Parse(frame));
        Assert.False(string.IsNullOrEmpty(error.Message), why);
    }

    private static byte[] Frame(byte[] body)
    {
        byte[] frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length);
        body.CopyTo(frame, 4);
        return frame;
    }
}
