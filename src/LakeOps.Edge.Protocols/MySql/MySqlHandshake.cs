using System.Text;

namespace LakeOps.Edge.Protocols.MySql;

/// <summary>Protocol::HandshakeV10, the server's first packet.</summary>
public sealed record MySqlHandshakeV10
{
    public const byte ProtocolVersion = 10;

    public required string ServerVersion { get; init; }

    public required uint ConnectionId { get; init; }

    /// <summary>The 20-byte scramble (auth-plugin-data) the client answers with its password proof.</summary>
    public required byte[] Scramble { get; init; }

    public required MySqlCapabilities Capabilities { get; init; }

    /// <summary>The server's default collation id.</summary>
    public byte CharacterSet { get; init; } = (byte)MySqlCharacterSet.Utf8Mb4General;

    public MySqlServerStatus Status { get; init; } = MySqlServerStatus.AutoCommit;

    public required string AuthPluginName { get; init; }

    /// <summary>MariaDB extended capabilities (sent only when <see cref="MySqlCapabilities.LongPassword"/> is clear).</summary>
    public MariaDbCapabilities MariaDbCapabilities { get; init; }

    public void Write(MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Scramble.Length < 8)
        {
            throw new InvalidOperationException("the scramble must be at least 8 bytes");
        }

        int size = 1 + Encoding.UTF8.GetByteCount(ServerVersion) + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
            + Math.Max(13, Scramble.Length - 8 + 1) + Encoding.UTF8.GetByteCount(AuthPluginName) + 1;
        MySqlPayloadWriter payload = writer.BeginPacket(size);
        payload.WriteByte(ProtocolVersion);
        payload.WriteNullTerminatedString(ServerVersion);
        payload.WriteUInt32(ConnectionId);
        payload.WriteBytes(Scramble.AsSpan(0, 8));
        payload.WriteByte(0);
        payload.WriteUInt16((ushort)Capabilities);
        payload.WriteByte(CharacterSet);
        payload.WriteUInt16((ushort)Status);
        payload.WriteUInt16((ushort)((uint)Capabilities >> 16));
        payload.WriteByte((Capabilities & MySqlCapabilities.PluginAuth) != 0 ? (byte)(Scramble.Length + 1) : (byte)0);
        payload.WriteZeros(6);
        payload.WriteUInt32((Capabilities & MySqlCapabilities.LongPassword) == 0 ? (uint)MariaDbCapabilities : 0);

        // Part 2 of the scramble is NUL-terminated and at least 13 bytes with the terminator.
        ReadOnlySpan<byte> part2 = Scramble.AsSpan(8);
        payload.WriteBytes(part2);
        payload.WriteZeros(Math.Max(13, part2.Length + 1) - part2.Length);
        payload.WriteNullTerminatedString(AuthPluginName);
        writer.EndPacket(payload);
    }

    /// <summary>Parses a HandshakeV10 payload (used by clients and tests).</summary>
    public static MySqlHandshakeV10 Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "HandshakeV10");
        byte protocol = reader.ReadByte("protocol_version");
        if (protocol != ProtocolVersion)
        {
            MySqlThrow.Malformed("HandshakeV10", $"protocol version {protocol} is not 10");
        }

        string version = reader.ReadNullTerminatedString("server_version");
        uint connectionId = reader.ReadUInt32("thread_id");
        byte[] part1 = reader.ReadBytes(8, "auth_plugin_data_part_1").ToArray();
        reader.Skip(1, "filler");
        uint capabilities = reader.ReadUInt16("capability_flags_1");
        byte charset = 0;
        var status = MySqlServerStatus.None;
        int dataLength = 0;
        uint mariaDb = 0;
        byte[] scramble = part1;
        string plugin = "mysql_native_password";
        if (!reader.IsAtEnd)
        {
            charset = reader.ReadByte("character_set");
            status = (MySqlServerStatus)reader.ReadUInt16("status_flags");
            capabilities |= (uint)reader.ReadUInt16("capability_flags_2") << 16;
            dataLength = reader.ReadByte("auth_plugin_data_len");
            reader.Skip(6, "reserved");
            mariaDb = reader.ReadUInt32("reserved");
            var caps = (MySqlCapabilities)capabilities;
            if ((caps & MySqlCapabilities.SecureConnection) != 0)
            {
                int part2Length = Math.Max(13, dataLength - 8);
                ReadOnlySpan<byte> part2 = reader.ReadBytes(Math.Min(part2Length, reader.Remaining), "auth_plugin_data_part_2");

                // The scramble proper is 20 bytes; part 2 carries a trailing NUL.
                int used = part2.IndexOf((byte)0) is int nul and >= 0 ? nul : part2.Length;
                scramble = [.. part1, .. part2[..used]];
            }

            if ((caps & MySqlCapabilities.PluginAuth) != 0 && !reader.IsAtEnd)
            {
                ReadOnlySpan<byte> rest = reader.ReadRest();
                int nul = rest.IndexOf((byte)0);
                plugin = Encoding.UTF8.GetString(nul >= 0 ? rest[..nul] : rest);
            }
        }

        var capabilityFlags = (MySqlCapabilities)capabilities;
        return new MySqlHandshakeV10
        {
            ServerVersion = version,
            ConnectionId = connectionId,
            Scramble = scramble,
            Capabilities = capabilityFlags,
            CharacterSet = charset,
            Status = status,
            AuthPluginName = plugin,
            MariaDbCapabilities = (capabilityFlags & MySqlCapabilities.LongPassword) == 0 ? (MariaDbCapabilities)mariaDb : MariaDbCapabilities.None,
        };
    }
}

/// <summary>
/// Protocol::HandshakeResponse41 (and the 32-byte SSLRequest that precedes it when the client upgrades to TLS).
/// </summary>
public sealed record MySqlHandshakeResponse
{
    /// <summary>Size of the SSLRequest packet: capabilities, max packet, charset, 23-byte filler.</summary>
    public const int SslRequestLength = 32;

    public required MySqlCapabilities Capabilities { get; init; }

    public uint MaxPacketSize { get; init; }

    public byte CharacterSet { get; init; }

    /// <summary>MariaDB extended capabilities from the last 4 filler bytes (zero from MySQL clients).</summary>
    public MariaDbCapabilities MariaDbCapabilities { get; init; }

    /// <summary>True for the SSLRequest: the client sends its full response after the TLS handshake.</summary>
    public bool IsSslRequest { get; init; }

    public string User { get; init; } = "";

    public byte[] AuthResponse { get; init; } = [];

    /// <summary>Initial database (CLIENT_CONNECT_WITH_DB), or null.</summary>
    public string? Database { get; init; }

    /// <summary>The auth plugin the client used for <see cref="AuthResponse"/> (CLIENT_PLUGIN_AUTH), or null.</summary>
    public string? AuthPluginName { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> ConnectAttributes { get; init; } = [];

    public byte? ZstdCompressionLevel { get; init; }

    /// <summary>
    /// Parses the client's response. Pre-4.1 clients (without CLIENT_PROTOCOL_41) are rejected. Optional trailing
    /// fields that are missing although their capability is set (some clients do that) are treated as absent.
    /// </summary>
    public static MySqlHandshakeResponse Parse(ReadOnlySpan<byte> payload)
    {
        const string Name = "HandshakeResponse41";
        var reader = new MySqlPayloadReader(payload, Name);
        if (payload.Length < SslRequestLength)
        {
            MySqlThrow.Malformed(Name, "shorter than 32 bytes (pre-4.1 clients are not supported)");
        }

        var capabilities = (MySqlCapabilities)reader.ReadUInt32("client_flag");
        if ((capabilities & MySqlCapabilities.Protocol41) == 0)
        {
            MySqlThrow.Malformed(Name, "the client does not support protocol 4.1");
        }

        uint maxPacket = reader.ReadUInt32("max_packet_size");
        byte charset = reader.ReadByte("character_set");
        reader.Skip(19, "filler");
        var mariaDb = (MariaDbCapabilities)reader.ReadUInt32("filler");
        if ((capabilities & MySqlCapabilities.LongPassword) != 0)
        {
            mariaDb = MariaDbCapabilities.None;
        }

        if (reader.IsAtEnd)
        {
            if ((capabilities & MySqlCapabilities.Ssl) == 0)
            {
                MySqlThrow.Malformed(Name, "no user name (and not an SSL request)");
            }

            return new MySqlHandshakeResponse { Capabilities = capabilities, MaxPacketSize = maxPacket, CharacterSet = charset, MariaDbCapabilities = mariaDb, IsSslRequest = true };
        }

        string user = reader.ReadNullTerminatedString("username");
        byte[] auth;
        if ((capabilities & MySqlCapabilities.PluginAuthLenencClientData) != 0)
        {
            auth = reader.ReadLengthEncodedBytes("auth_response").ToArray();
        }
        else if ((capabilities & MySqlCapabilities.SecureConnection) != 0)
        {
            int length = reader.ReadByte("auth_response_length");
            auth = reader.ReadBytes(length, "auth_response").ToArray();
        }
        else
        {
            auth = reader.ReadNullTerminatedBytes("auth_response").ToArray();
        }

        string? database = null;
        if ((capabilities & MySqlCapabilities.ConnectWithDb) != 0 && !reader.IsAtEnd)
        {
            database = reader.ReadNullTerminatedString("database");
        }

        string? plugin = null;
        if ((capabilities & MySqlCapabilities.PluginAuth) != 0 && !reader.IsAtEnd)
        {
            plugin = reader.ReadNullTerminatedString("client_plugin_name");
        }

        List<KeyValuePair<string, string>>? attributes = null;
        if ((capabilities & MySqlCapabilities.ConnectAttrs) != 0 && !reader.IsAtEnd)
        {
            ReadOnlySpan<byte> block = reader.ReadLengthEncodedBytes("connection attributes");
            var attrs = new MySqlPayloadReader(block, Name);
            attributes = [];
            while (!attrs.IsAtEnd)
            {
                string key = attrs.ReadLengthEncodedString("attribute key");
                string value = attrs.ReadLengthEncodedString("attribute value");
                attributes.Add(new KeyValuePair<string, string>(key, value));
            }
        }

        byte? zstd = null;
        if ((capabilities & MySqlCapabilities.ZstdCompressionAlgorithm) != 0 && !reader.IsAtEnd)
        {
            zstd = reader.ReadByte("zstd_compression_level");
        }

        return new MySqlHandshakeResponse
        {
            Capabilities = capabilities,
            MaxPacketSize = maxPacket,
            CharacterSet = charset,
            MariaDbCapabilities = mariaDb,
            User = user,
            AuthResponse = auth,
            Database = database,
            AuthPluginName = plugin,
            ConnectAttributes = (IReadOnlyList<KeyValuePair<string, string>>?)attributes ?? [],
            ZstdCompressionLevel = zstd,
        };
    }

    /// <summary>Writes this response (or, with <see cref="IsSslRequest"/>, the 32-byte SSLRequest). For clients and tests.</summary>
    public void Write(MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var capabilities = Capabilities;
        int size = SslRequestLength;
        if (!IsSslRequest)
        {
            size += Encoding.UTF8.GetByteCount(User) + 1 + 9 + AuthResponse.Length
                + (Database is null ? 0 : Encoding.UTF8.GetByteCount(Database) + 1)
                + (AuthPluginName is null ? 0 : Encoding.UTF8.GetByteCount(AuthPluginName) + 1) + 9 + 1;
            foreach (KeyValuePair<string, string> attribute in ConnectAttributes)
            {
                size += MySqlPayloadWriter.LengthEncodedStringSize(attribute.Key) + MySqlPayloadWriter.LengthEncodedStringSize(attribute.Value);
            }
        }

        MySqlPayloadWriter payload = writer.BeginPacket(size);
        payload.WriteUInt32((uint)capabilities);
        payload.WriteUInt32(MaxPacketSize);
        payload.WriteByte(CharacterSet);
        payload.WriteZeros(19);
        payload.WriteUInt32((capabilities & MySqlCapabilities.LongPassword) == 0 ? (uint)MariaDbCapabilities : 0);
        if (!IsSslRequest)
        {
            payload.WriteNullTerminatedString(User);
            if ((capabilities & MySqlCapabilities.PluginAuthLenencClientData) != 0)
            {
                payload.WriteLengthEncodedBytes(AuthResponse);
            }
            else
            {
                payload.WriteByte(checked((byte)AuthResponse.Length));
                payload.WriteBytes(AuthResponse);
            }

            if ((capabilities & MySqlCapabilities.ConnectWithDb) != 0)
            {
                payload.WriteNullTerminatedString(Database ?? "");
            }

            if ((capabilities & MySqlCapabilities.PluginAuth) != 0)
            {
                payload.WriteNullTerminatedString(AuthPluginName ?? "");
            }

            if ((capabilities & MySqlCapabilities.ConnectAttrs) != 0)
            {
                int length = 0;
                foreach (KeyValuePair<string, string> attribute in ConnectAttributes)
                {
                    length += MySqlPayloadWriter.LengthEncodedStringSize(attribute.Key) + MySqlPayloadWriter.LengthEncodedStringSize(attribute.Value);
                }

                payload.WriteLengthEncodedInteger((ulong)length);
                foreach (KeyValuePair<string, string> attribute in ConnectAttributes)
                {
                    payload.WriteLengthEncodedString(attribute.Key);
                    payload.WriteLengthEncodedString(attribute.Value);
                }
            }

            if ((capabilities & MySqlCapabilities.ZstdCompressionAlgorithm) != 0)
            {
                payload.WriteByte(ZstdCompressionLevel ?? 3);
            }
        }

        writer.EndPacket(payload);
    }
}

/// <summary>Authentication exchange packets after the handshake response.</summary>
public static class MySqlAuthPackets
{
    /// <summary>Header of AuthSwitchRequest.</summary>
    public const byte AuthSwitchHeader = 0xFE;

    /// <summary>Header of AuthMoreData.</summary>
    public const byte AuthMoreDataHeader = 0x01;

    /// <summary>caching_sha2_password: the fast path succeeded (an OK packet follows).</summary>
    public const byte FastAuthSuccess = 0x03;

    /// <summary>caching_sha2_password: full authentication needed (cleartext over TLS, or RSA).</summary>
    public const byte PerformFullAuthentication = 0x04;

    /// <summary>caching_sha2_password: the client asks for the server's RSA public key.</summary>
    public const byte RequestPublicKey = 0x02;

    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2Password = "caching_sha2_password";
    public const string ClearPassword = "mysql_clear_password";

    /// <summary>AuthSwitchRequest: 0xFE, plugin name, plugin data (the scramble plus a NUL, as servers send it).</summary>
    public static void WriteAuthSwitchRequest(MySqlPacketWriter writer, string pluginName, ReadOnlySpan<byte> scramble)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(pluginName);
        MySqlPayloadWriter payload = writer.BeginPacket(1 + Encoding.UTF8.GetByteCount(pluginName) + 1 + scramble.Length + 1);
        payload.WriteByte(AuthSwitchHeader);
        payload.WriteNullTerminatedString(pluginName);
        payload.WriteNullTerminated(scramble);
        writer.EndPacket(payload);
    }

    /// <summary>Parses AuthSwitchRequest into plugin name and data (a trailing NUL after a 20-byte scramble is dropped).</summary>
    public static (string PluginName, byte[] Data) ParseAuthSwitchRequest(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "AuthSwitchRequest");
        if (reader.ReadByte("header") != AuthSwitchHeader)
        {
            MySqlThrow.Malformed("AuthSwitchRequest", "header is not 0xFE");
        }

        string plugin = reader.ReadNullTerminatedString("plugin_name");
        ReadOnlySpan<byte> data = reader.ReadRest();
        if (data.Length > 0 && data[^1] == 0)
        {
            data = data[..^1];
        }

        return (plugin, data.ToArray());
    }

    /// <summary>AuthMoreData: 0x01 then plugin data (e.g. 0x03/0x04 or a PEM public key).</summary>
    public static void WriteAuthMoreData(MySqlPacketWriter writer, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(writer);
        MySqlPayloadWriter payload = writer.BeginPacket(1 + data.Length);
        payload.WriteByte(AuthMoreDataHeader);
        payload.WriteBytes(data);
        writer.EndPacket(payload);
    }
}
