namespace LakeOps.Edge.Protocols.MySql;

/// <summary>Column and parameter types (enum_field_types, MYSQL_TYPE_*).</summary>
public enum MySqlColumnType : byte
{
    Decimal = 0,
    Tiny = 1,
    Short = 2,
    Long = 3,
    Float = 4,
    Double = 5,
    Null = 6,
    Timestamp = 7,
    LongLong = 8,
    Int24 = 9,
    Date = 10,
    Time = 11,
    DateTime = 12,
    Year = 13,
    NewDate = 14,
    VarChar = 15,
    Bit = 16,
    Timestamp2 = 17,
    DateTime2 = 18,
    Time2 = 19,
    TypedArray = 20,
    Vector = 242,
    Invalid = 243,
    Bool = 244,
    Json = 245,
    NewDecimal = 246,
    Enum = 247,
    Set = 248,
    TinyBlob = 249,
    MediumBlob = 250,
    LongBlob = 251,
    Blob = 252,
    VarString = 253,
    String = 254,
    Geometry = 255,
}

/// <summary>Column definition flags (*_FLAG).</summary>
[Flags]
#pragma warning disable CA1711 // "Flags" is the protocol's own name for these values.
public enum MySqlColumnFlags : ushort
#pragma warning restore CA1711
{
    None = 0,
    NotNull = 1,
    PrimaryKey = 1 << 1,
    UniqueKey = 1 << 2,
    MultipleKey = 1 << 3,
    Blob = 1 << 4,
    Unsigned = 1 << 5,
    ZeroFill = 1 << 6,
    Binary = 1 << 7,
    Enum = 1 << 8,
    AutoIncrement = 1 << 9,
    Timestamp = 1 << 10,
    Set = 1 << 11,
    NoDefaultValue = 1 << 12,
    OnUpdateNow = 1 << 13,
    PartKey = 1 << 14,
    Num = 1 << 15,
}

/// <summary>Server status flags (SERVER_*) in OK and EOF packets.</summary>
[Flags]
#pragma warning disable CA1711
public enum MySqlServerStatus : ushort
#pragma warning restore CA1711
{
    None = 0,
    InTransaction = 1,
    AutoCommit = 1 << 1,
    MoreResultsExist = 1 << 3,
    NoGoodIndexUsed = 1 << 4,
    NoIndexUsed = 1 << 5,
    CursorExists = 1 << 6,
    LastRowSent = 1 << 7,
    DatabaseDropped = 1 << 8,
    NoBackslashEscapes = 1 << 9,
    MetadataChanged = 1 << 10,
    QueryWasSlow = 1 << 11,
    PsOutParams = 1 << 12,
    InTransactionReadOnly = 1 << 13,
    SessionStateChanged = 1 << 14,
}

/// <summary>Character set / collation ids sent in column definitions and the handshake.</summary>
public static class MySqlCharacterSet
{
    /// <summary>utf8mb3_general_ci.</summary>
    public const ushort Utf8General = 33;

    /// <summary>binary: numbers, dates and byte strings.</summary>
    public const ushort Binary = 63;

    /// <summary>utf8mb4_general_ci (MySQL 5.5+/MariaDB default for utf8mb4).</summary>
    public const ushort Utf8Mb4General = 45;

    /// <summary>utf8mb4_0900_ai_ci (MySQL 8 default).</summary>
    public const ushort Utf8Mb4 = 255;
}
