using System.Collections.Frozen;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>A built-in PostgreSQL type as clients see it in pg_type.</summary>
/// <param name="Oid">Type OID.</param>
/// <param name="Name">typname.</param>
/// <param name="Size">typlen: fixed size in bytes, -1 for varlena.</param>
/// <param name="ElementOid">For array types the element type OID, else 0.</param>
/// <param name="ArrayOid">The OID of the array type over this type, else 0.</param>
/// <param name="Category">typcategory (B boolean, N numeric, S string, D datetime, T timespan, U user, A array).</param>
public sealed record PgTypeInfo(int Oid, string Name, short Size, int ElementOid, int ArrayOid, char Category)
{
    public bool IsArray => ElementOid != 0;
}

/// <summary>
/// The PostgreSQL types the gateway encodes. Edge presents exactly these to clients (RowDescription,
/// ParameterDescription, and the emulated pg_type that drivers such as Npgsql load at startup).
/// </summary>
public static class PgTypes
{
    public const int Bool = 16;
    public const int Bytea = 17;
    public const int Char = 18;
    public const int Name = 19;
    public const int Int8 = 20;
    public const int Int2 = 21;
    public const int Int4 = 23;
    public const int Text = 25;
    public const int Oid = 26;
    public const int Json = 114;
    public const int Float4 = 700;
    public const int Float8 = 701;
    public const int Unknown = 705;
    public const int Varchar = 1043;
    public const int Date = 1082;
    public const int Time = 1083;
    public const int Timestamp = 1114;
    public const int TimestampTz = 1184;
    public const int Interval = 1186;
    public const int Numeric = 1700;
    public const int Uuid = 2950;
    public const int Jsonb = 3802;
    public const int Record = 2249;
    public const int Void = 2278;

    public const int BoolArray = 1000;
    public const int ByteaArray = 1001;
    public const int CharArray = 1002;
    public const int NameArray = 1003;
    public const int Int2Array = 1005;
    public const int Int4Array = 1007;
    public const int TextArray = 1009;
    public const int Int8Array = 1016;
    public const int Float4Array = 1021;
    public const int Float8Array = 1022;
    public const int OidArray = 1028;
    public const int VarcharArray = 1015;
    public const int TimestampArray = 1115;
    public const int DateArray = 1182;
    public const int TimeArray = 1183;
    public const int TimestampTzArray = 1185;
    public const int IntervalArray = 1187;
    public const int NumericArray = 1231;
    public const int UuidArray = 2951;
    public const int JsonArray = 199;
    public const int JsonbArray = 3807;

    /// <summary>Every type Edge can send, scalars first, then arrays.</summary>
    public static IReadOnlyList<PgTypeInfo> BuiltIns { get; } =
    [
        new(Bool, "bool", 1, 0, BoolArray, 'B'),
        new(Bytea, "bytea", -1, 0, ByteaArray, 'U'),
        new(Char, "char", 1, 0, CharArray, 'Z'),
        new(Name, "name", 64, 0, NameArray, 'S'),
        new(Int8, "int8", 8, 0, Int8Array, 'N'),
        new(Int2, "int2", 2, 0, Int2Array, 'N'),
        new(Int4, "int4", 4, 0, Int4Array, 'N'),
        new(Text, "text", -1, 0, TextArray, 'S'),
        new(Oid, "oid", 4, 0, OidArray, 'N'),
        new(Json, "json", -1, 0, JsonArray, 'U'),
        new(Float4, "float4", 4, 0, Float4Array, 'N'),
        new(Float8, "float8", 8, 0, Float8Array, 'N'),
        new(Unknown, "unknown", -2, 0, 0, 'X'),
        new(Varchar, "varchar", -1, 0, VarcharArray, 'S'),
        new(Date, "date", 4, 0, DateArray, 'D'),
        new(Time, "time", 8, 0, TimeArray, 'D'),
        new(Timestamp, "timestamp", 8, 0, TimestampArray, 'D'),
        new(TimestampTz, "timestamptz", 8, 0, TimestampTzArray, 'D'),
        new(Interval, "interval", 16, 0, IntervalArray, 'T'),
        new(Numeric, "numeric", -1, 0, NumericArray, 'N'),
        new(Uuid, "uuid", 16, 0, UuidArray, 'U'),
        new(Jsonb, "jsonb", -1, 0, JsonbArray, 'U'),
        new(Record, "record", -1, 0, 0, 'P'),
        new(Void, "void", 4, 0, 0, 'P'),
        new(BoolArray, "_bool", -1, Bool, 0, 'A'),
        new(ByteaArray, "_bytea", -1, Bytea, 0, 'A'),
        new(CharArray, "_char", -1, Char, 0, 'A'),
        new(NameArray, "_name", -1, Name, 0, 'A'),
        new(Int2Array, "_int2", -1, Int2, 0, 'A'),
        new(Int4Array, "_int4", -1, Int4, 0, 'A'),
        new(TextArray, "_text", -1, Text, 0, 'A'),
        new(Int8Array, "_int8", -1, Int8, 0, 'A'),
        new(Float4Array, "_float4", -1, Float4, 0, 'A'),
        new(Float8Array, "_float8", -1, Float8, 0, 'A'),
        new(OidArray, "_oid", -1, Oid, 0, 'A'),
        new(VarcharArray, "_varchar", -1, Varchar, 0, 'A'),
        new(TimestampArray, "_timestamp", -1, Timestamp, 0, 'A'),
        new(DateArray, "_date", -1, Date, 0, 'A'),
        new(TimeArray, "_time", -1, Time, 0, 'A'),
        new(TimestampTzArray, "_timestamptz", -1, TimestampTz, 0, 'A'),
        new(IntervalArray, "_interval", -1, Interval, 0, 'A'),
        new(NumericArray, "_numeric", -1, Numeric, 0, 'A'),
        new(UuidArray, "_uuid", -1, Uuid, 0, 'A'),
        new(JsonArray, "_json", -1, Json, 0, 'A'),
        new(JsonbArray, "_jsonb", -1, Jsonb, 0, 'A'),
    ];

    private static readonly FrozenDictionary<int, PgTypeInfo> ByOid = BuiltIns.ToFrozenDictionary(t => t.Oid);

    /// <summary>The type with this OID, or null when Edge does not know it.</summary>
    public static PgTypeInfo? Find(int oid) => ByOid.GetValueOrDefault(oid);
}
