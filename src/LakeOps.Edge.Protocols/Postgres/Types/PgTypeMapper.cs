using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Which PostgreSQL type an Arrow column or parameter is presented as (see <see cref="ArrowConventions"/>):
/// bool; int8/uint8/int16 int2; int32/uint16 int4; int64/uint32 int8; uint64 and decimals numeric;
/// float16/32 float4; float64 float8; utf8 text (json/uuid by extension metadata); binary bytea;
/// FixedSizeBinary(16)+arrow.uuid uuid; date32/64 date; time32/64 time; timestamp timestamp or
/// timestamptz (when it has a zone); interval and duration interval; lists of those the PostgreSQL array
/// type (nested lists: the same array type, multi-dimensional); dictionary and run-end encoded the value
/// type; struct, map, union, lists of those and Arrow null: text.
/// </summary>
public static class PgTypeMapper
{
    /// <summary>Field metadata naming the PostgreSQL type OID to send; "26" on a UInt32 column sends oid (emulated catalog rows).</summary>
    public const string PgTypeOidKey = "lakeops:pg_type_oid";

    /// <summary>The PostgreSQL type of a result column, and its atttypmod (numeric precision/scale, else -1).</summary>
    public static PgTypeInfo MapField(Field field, out int typeModifier)
    {
        ArgumentNullException.ThrowIfNull(field);
        try
        {
            ValueEncoder encoder = ValueEncoderFactory.Create(field);
            typeModifier = encoder.TypeModifier;
            return encoder.Type;
        }
        catch (PgEncodingException)
        {
            // An Arrow type with no PostgreSQL form at all: describe it as text. Encoding such a column
            // fails in PgRowEncoder.Create with the reason.
            typeModifier = -1;
            return PgTypeCatalog.Text;
        }
    }

    /// <summary>
    /// The OID for ParameterDescription. When the engine cannot say what type a parameter has
    /// (<paramref name="type"/> is null), text: PostgreSQL would resolve an unknown parameter from context,
    /// and text is what any value can be written as and what every engine can cast from, so drivers that
    /// follow ParameterDescription send a text value the engine converts.
    /// </summary>
    public static int ParameterOidFor(IArrowType? type) =>
        type is null ? PgTypes.Text : MapField(new Field("parameter", type, nullable: true), out _).Oid;
}
