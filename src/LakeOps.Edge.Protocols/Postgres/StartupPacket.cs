using System.Buffers.Binary;

namespace LakeOps.Edge.Protocols.Postgres;

public enum StartupPacketKind
{
    Startup,
    SslRequest,
    GssEncRequest,
    CancelRequest,
}

/// <summary>
/// The first packet of a connection (or of a cancel connection). It has no type byte: Int32 length,
/// Int32 protocol version or request code, then a kind-specific body.
/// </summary>
public sealed class StartupPacket
{
    public const int ProtocolMajor3 = 3;

    /// <summary>Version 3.0 as sent on the wire (major &lt;&lt; 16 | minor).</summary>
    public const int ProtocolVersion30 = 3 << 16;

    /// <summary>Request codes use the fake major version 1234.</summary>
    public const int RequestMajor = 1234;
    public const int CancelRequestCode = (1234 << 16) | 5678;
    public const int SslRequestCode = (1234 << 16) | 5679;
    public const int GssEncRequestCode = (1234 << 16) | 5680;

    /// <summary>Startup parameters named "_pq_.*" are protocol extension options, not settings.</summary>
    public const string ProtocolOptionPrefix = "_pq_.";

    private const string MessageName = "startup";

    private StartupPacket(StartupPacketKind kind, int major, int minor, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<string> protocolOptions, int cancelProcessId, int cancelSecretKey)
    {
        Kind = kind;
        ProtocolMajor = major;
        ProtocolMinor = minor;
        Parameters = parameters;
        ProtocolOptions = protocolOptions;
        CancelProcessId = cancelProcessId;
        CancelSecretKey = cancelSecretKey;
    }

    public StartupPacketKind Kind { get; }

    /// <summary>3 for a StartupMessage, 1234 for requests.</summary>
    public int ProtocolMajor { get; }

    /// <summary>For 3.x the client's minor version (the session answers NegotiateProtocolVersion when above 0).</summary>
    public int ProtocolMinor { get; }

    /// <summary>StartupMessage settings in wire order (user, database, options, application_name, ...), without "_pq_." options.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>Names of the "_pq_.*" protocol options the client asked for.</summary>
    public IReadOnlyList<string> ProtocolOptions { get; }

    public int CancelProcessId { get; }

    public int CancelSecretKey { get; }

    /// <summary>The value of a startup parameter (ordinal name match; the last one wins), or null.</summary>
    public string? GetParameter(string name)
    {
        for (int i = Parameters.Count - 1; i >= 0; i--)
        {
            if (string.Equals(Parameters[i].Key, name, StringComparison.Ordinal))
            {
                return Parameters[i].Value;
            }
        }

        return null;
    }

    /// <summary>Parses a whole startup-phase packet, length field included (as framed by <see cref="PgFrameScanner.TryReadStartupFrame(ReadOnlySpan{byte}, int, out int)"/>).</summary>
    public static StartupPacket Parse(ReadOnlySpan<byte> frame)
    {
        var reader = new PgReader(frame, MessageName);
        int length = reader.ReadInt32();
        if (length != frame.Length)
        {
            PgThrow.Malformed(MessageName, "length field does not match the packet size");
        }

        int code = reader.ReadInt32();
        int major = (int)((uint)code >> 16);
        int minor = code & 0xFFFF;

        if (major == ProtocolMajor3)
        {
            return ParseStartup(ref reader, minor);
        }

        switch (code)
        {
            case SslRequestCode:
                reader.End();
                return new StartupPacket(StartupPacketKind.SslRequest, major, minor, [], [], 0, 0);
            case GssEncRequestCode:
                reader.End();
                return new StartupPacket(StartupPacketKind.GssEncRequest, major, minor, [], [], 0, 0);
            case CancelRequestCode:
                int processId = reader.ReadInt32();
                int secretKey = reader.ReadInt32();
                reader.End();
                return new StartupPacket(StartupPacketKind.CancelRequest, major, minor, [], [], processId, secretKey);
            default:
                PgThrow.UnsupportedProtocol(major, minor);
                return null;
        }
    }

    /// <summary>Peeks the request code of a startup frame without parsing it (0 when too short).</summary>
    public static int PeekCode(ReadOnlySpan<byte> frame) =>
        frame.Length >= 8 ? BinaryPrimitives.ReadInt32BigEndian(frame[4..]) : 0;

    private static StartupPacket ParseStartup(ref PgReader reader, int minor)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        List<string>? options = null;
        while (true)
        {
            ReadOnlySpan<byte> name = reader.ReadCString();
            if (name.IsEmpty)
            {
                break; // the list ends with an empty name
            }

            string key = PgReader.DecodeUtf8(name, MessageName);
            string value = reader.ReadCStringAsString();
            if (key.StartsWith(ProtocolOptionPrefix, StringComparison.Ordinal))
            {
                (options ??= []).Add(key);
            }
            else
            {
                parameters.Add(new KeyValuePair<string, string>(key, value));
            }
        }

        reader.End();
        return new StartupPacket(StartupPacketKind.Startup, ProtocolMajor3, minor, parameters, (IReadOnlyList<string>?)options ?? [], 0, 0);
    }
}
