using Apache.Arrow;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Encodes the values of one Arrow array (a result column, or the child of a list/struct) as one
/// PostgreSQL type. Chosen once per column from the Arrow type (see <see cref="ValueEncoderFactory"/>),
/// bound to each batch's array, then called per value with no type tests and no allocation.
/// <para>
/// Every writer gets a destination that is at least the matching Max*Length for that index, so writers
/// never check space: the row encoder sums the bounds, asks the output for one span and writes into it.
/// </para>
/// </summary>
internal abstract class ValueEncoder
{
    protected ValueEncoder(PgTypeInfo type, int typeModifier = -1)
    {
        Type = type;
        TypeModifier = typeModifier;
    }

    /// <summary>The PostgreSQL type the values are sent as.</summary>
    public PgTypeInfo Type { get; }

    /// <summary>atttypmod for RowDescription (numeric precision/scale), else -1.</summary>
    public int TypeModifier { get; }

    /// <summary>
    /// True when the values are a PostgreSQL scalar (or PostgreSQL array) rather than nested data rendered
    /// as JSON text; a list of these becomes a PostgreSQL array, a list of anything else becomes JSON.
    /// </summary>
    public virtual bool IsPgValue => true;

    /// <summary>Binds to a batch's array; extension arrays are bound through their storage.</summary>
    public void Bind(IArrowArray array) => BindCore(array is ExtensionArray extension ? extension.Storage : array);

    protected abstract void BindCore(IArrowArray array);

    public abstract bool IsNull(int index);

    public abstract int MaxTextLength(int index);

    public abstract int WriteText(int index, Span<byte> destination);

    public abstract int MaxBinaryLength(int index);

    public abstract int WriteBinary(int index, Span<byte> destination);

    /// <summary>Bound for <see cref="WriteJson"/>; by default the text form as a JSON string.</summary>
    public virtual int MaxJsonLength(int index) => PgTextEscaping.MaxJsonStringLength(MaxTextLength(index));

    /// <summary>The value inside JSON (struct/map/nested list text): by default the text form as a JSON string.</summary>
    public virtual int WriteJson(int index, Span<byte> destination) =>
        PgTextEscaping.QuoteJsonInPlace(destination, WriteText(index, destination));
}

/// <summary>An encoder over one concrete Arrow array class, with nulls from its validity bitmap.</summary>
internal abstract class ValueEncoder<TArray> : ValueEncoder
    where TArray : class, IArrowArray
{
    protected ValueEncoder(PgTypeInfo type, int typeModifier = -1)
        : base(type, typeModifier)
    {
    }

    /// <summary>The bound array; valid after <see cref="ValueEncoder.Bind"/>.</summary>
    protected TArray Array { get; private set; } = null!;

    protected override void BindCore(IArrowArray array) =>
        Array = array as TArray ?? throw new ArgumentException(
            $"expected an Arrow {typeof(TArray).Name} for a {Type.Name} value, got {array.GetType().Name}", nameof(array));

    public override bool IsNull(int index) => Array.IsNull(index);
}

/// <summary>A type whose binary form (send function) is its UTF-8 text: text, json, and nested data as JSON.</summary>
internal abstract class TextLikeEncoder<TArray> : ValueEncoder<TArray>
    where TArray : class, IArrowArray
{
    protected TextLikeEncoder(PgTypeInfo type)
        : base(type)
    {
    }

    public override int MaxBinaryLength(int index) => MaxTextLength(index);

    public override int WriteBinary(int index, Span<byte> destination) => WriteText(index, destination);
}
