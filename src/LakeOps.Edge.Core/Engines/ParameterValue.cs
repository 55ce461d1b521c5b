namespace LakeOps.Edge.Core.Engines;

/// <summary>
/// A statement parameter in engine-neutral form. Front doors decode their wire format into this;
/// engines bind it natively. A small tagged union: one numeric slot, one reference slot.
/// </summary>
public readonly struct ParameterValue
{
    private readonly long _bits;
    private readonly object? _ref;

    private ParameterValue(ParameterKind kind, long bits, object? reference)
    {
        Kind = kind;
        _bits = bits;
        _ref = reference;
    }

    public ParameterKind Kind { get; }

    public bool IsNull => Kind == ParameterKind.Null;

    public static ParameterValue Null => default;

    public static ParameterValue FromBoolean(bool value) => new(ParameterKind.Boolean, value ? 1 : 0, null);

    public static ParameterValue FromInt16(short value) => new(ParameterKind.Int16, value, null);

    public static ParameterValue FromInt32(int value) => new(ParameterKind.Int32, value, null);

    public static ParameterValue FromInt64(long value) => new(ParameterKind.Int64, value, null);

    public static ParameterValue FromFloat32(float value) => new(ParameterKind.Float32, BitConverter.SingleToInt32Bits(value), null);

    public static ParameterValue FromFloat64(double value) => new(ParameterKind.Float64, BitConverter.DoubleToInt64Bits(value), null);

    /// <summary>A decimal in its canonical text form ("-12.340"), so no precision is lost.</summary>
    public static ParameterValue FromDecimalText(string value) => new(ParameterKind.Decimal, 0, value);

    /// <summary>Text of unknown type: the engine infers (casts) it to the parameter's type.</summary>
    public static ParameterValue FromText(string value) => new(ParameterKind.Text, 0, value);

    public static ParameterValue FromBytes(byte[] value) => new(ParameterKind.Bytes, 0, value);

    /// <summary>Days since 1970-01-01.</summary>
    public static ParameterValue FromDate(int daysSinceUnixEpoch) => new(ParameterKind.Date, daysSinceUnixEpoch, null);

    /// <summary>Microseconds since midnight.</summary>
    public static ParameterValue FromTime(long microseconds) => new(ParameterKind.Time, microseconds, null);

    /// <summary>Microseconds since 1970-01-01 00:00:00, no time zone.</summary>
    public static ParameterValue FromTimestamp(long microsecondsSinceUnixEpoch) => new(ParameterKind.Timestamp, microsecondsSinceUnixEpoch, null);

    /// <summary>Microseconds since 1970-01-01 00:00:00 UTC.</summary>
    public static ParameterValue FromTimestampTz(long microsecondsSinceUnixEpoch) => new(ParameterKind.TimestampTz, microsecondsSinceUnixEpoch, null);

    public static ParameterValue FromInterval(int months, int days, long microseconds) => new(ParameterKind.Interval, microseconds, new IntervalValue(months, days, microseconds));

    public static ParameterValue FromUuid(Guid value) => new(ParameterKind.Uuid, 0, value.ToString());

    public static ParameterValue FromJson(string value) => new(ParameterKind.Json, 0, value);

    /// <summary>An array parameter; elements are parameter values themselves.</summary>
    public static ParameterValue FromArray(ParameterValue[] elements) => new(ParameterKind.Array, 0, elements);

    public bool AsBoolean => _bits != 0;

    public long AsInt64 => _bits;

    public float AsFloat32 => BitConverter.Int32BitsToSingle((int)_bits);

    public double AsFloat64 => BitConverter.Int64BitsToDouble(_bits);

    /// <summary>Text for Decimal, Text, Uuid and Json kinds.</summary>
    public string AsString => (string)_ref!;

    public byte[] AsBytes => (byte[])_ref!;

    public IntervalValue AsInterval => (IntervalValue)_ref!;

    public ParameterValue[] AsArray => (ParameterValue[])_ref!;

    public override string ToString() => Kind switch
    {
        ParameterKind.Null => "NULL",
        ParameterKind.Boolean => AsBoolean ? "true" : "false",
        ParameterKind.Float32 => AsFloat32.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ParameterKind.Float64 => AsFloat64.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ParameterKind.Bytes => Convert.ToHexString(AsBytes),
        ParameterKind.Interval => AsInterval.ToString(),
        ParameterKind.Array => "[" + string.Join(", ", AsArray) + "]",
        ParameterKind.Decimal or ParameterKind.Text or ParameterKind.Uuid or ParameterKind.Json => AsString,
        _ => _bits.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public enum ParameterKind : byte
{
    Null,
    Boolean,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Array,
}

public sealed record IntervalValue(int Months, int Days, long Microseconds);
