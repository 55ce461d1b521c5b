namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>The <see cref="PgTypeInfo"/> instances the encoders use, looked up once.</summary>
internal static class PgTypeCatalog
{
    public static readonly PgTypeInfo Bool = Get(PgTypes.Bool);
    public static readonly PgTypeInfo Bytea = Get(PgTypes.Bytea);
    public static readonly PgTypeInfo Int2 = Get(PgTypes.Int2);
    public static readonly PgTypeInfo Int4 = Get(PgTypes.Int4);
    public static readonly PgTypeInfo Int8 = Get(PgTypes.Int8);
    public static readonly PgTypeInfo Oid = Get(PgTypes.Oid);
    public static readonly PgTypeInfo Text = Get(PgTypes.Text);
    public static readonly PgTypeInfo Json = Get(PgTypes.Json);
    public static readonly PgTypeInfo Float4 = Get(PgTypes.Float4);
    public static readonly PgTypeInfo Float8 = Get(PgTypes.Float8);
    public static readonly PgTypeInfo Date = Get(PgTypes.Date);
    public static readonly PgTypeInfo Time = Get(PgTypes.Time);
    public static readonly PgTypeInfo Timestamp = Get(PgTypes.Timestamp);
    public static readonly PgTypeInfo TimestampTz = Get(PgTypes.TimestampTz);
    public static readonly PgTypeInfo Interval = Get(PgTypes.Interval);
    public static readonly PgTypeInfo Numeric = Get(PgTypes.Numeric);
    public static readonly PgTypeInfo Uuid = Get(PgTypes.Uuid);

    public static PgTypeInfo Get(int oid) =>
        PgTypes.Find(oid) ?? throw new InvalidOperationException($"PostgreSQL type {oid} is missing from PgTypes.BuiltIns");

    /// <summary>The array type over a scalar type.</summary>
    public static PgTypeInfo ArrayOf(PgTypeInfo element) => Get(element.ArrayOid);
}
