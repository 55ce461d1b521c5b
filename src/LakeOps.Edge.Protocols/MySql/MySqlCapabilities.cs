namespace LakeOps.Edge.Protocols.MySql;

/// <summary>Capability flags exchanged in the handshake (the lower and upper 16 bits of the server's and client's flags).</summary>
[Flags]
#pragma warning disable CA1711 // "Flags" is the protocol's own name for these values.
public enum MySqlCapabilities : uint
#pragma warning restore CA1711
{
    None = 0,

    /// <summary>CLIENT_LONG_PASSWORD; MariaDB calls it CLIENT_MYSQL and clears it to announce extended capabilities.</summary>
    LongPassword = 1,
    FoundRows = 1 << 1,
    LongFlag = 1 << 2,
    ConnectWithDb = 1 << 3,
    NoSchema = 1 << 4,
    Compress = 1 << 5,
    Odbc = 1 << 6,
    LocalFiles = 1 << 7,
    IgnoreSpace = 1 << 8,
    Protocol41 = 1 << 9,
    Interactive = 1 << 10,
    Ssl = 1 << 11,
    IgnoreSigpipe = 1 << 12,
    Transactions = 1 << 13,
    Reserved = 1 << 14,

    /// <summary>CLIENT_SECURE_CONNECTION (CLIENT_RESERVED2): 4.1 authentication, length-prefixed auth response.</summary>
    SecureConnection = 1 << 15,
    MultiStatements = 1 << 16,
    MultiResults = 1 << 17,
    PsMultiResults = 1 << 18,
    PluginAuth = 1 << 19,
    ConnectAttrs = 1 << 20,
    PluginAuthLenencClientData = 1 << 21,
    CanHandleExpiredPasswords = 1 << 22,
    SessionTrack = 1 << 23,
    DeprecateEof = 1 << 24,
    OptionalResultsetMetadata = 1 << 25,
    ZstdCompressionAlgorithm = 1 << 26,
    QueryAttributes = 1 << 27,
    MultiFactorAuthentication = 1 << 28,
    CapabilityExtension = 1 << 29,
    SslVerifyServerCert = 1 << 30,
    RememberOptions = 1u << 31,
}

/// <summary>
/// MariaDB's extended capabilities, sent in the last 4 bytes of the handshake filler (server) and of the
/// HandshakeResponse41 filler (client) when the server cleared <see cref="MySqlCapabilities.LongPassword"/>.
/// </summary>
[Flags]
#pragma warning disable CA1711
public enum MariaDbCapabilities : uint
#pragma warning restore CA1711
{
    None = 0,
    Progress = 1,
    ComMulti = 1 << 1,
    StmtBulkOperations = 1 << 2,
    ExtendedTypeInfo = 1 << 3,
    CacheMetadata = 1 << 4,
}
