namespace LakeOps.Edge.Core.Engines;

/// <summary>
/// How engines describe values in Arrow so every front door maps them the same way.
/// <list type="bullet">
/// <item>bool, int8..int64, uint8..uint64, float16/32/64: the matching Arrow primitive types.</item>
/// <item>decimal: Decimal128 / Decimal256 with precision and scale.</item>
/// <item>text: Utf8 (or LargeUtf8); binary: Binary (or LargeBinary, FixedSizeBinary).</item>
/// <item>date: Date32; time of day: Time64(us) or Time32; timestamp without zone: Timestamp(unit, null);
///   timestamp with zone: Timestamp(unit, "UTC" or any zone), values are UTC instants.</item>
/// <item>interval: Interval(MonthDayNanosecond).</item>
/// <item>uuid: FixedSizeBinary(16) or Utf8 with field metadata <see cref="ExtensionNameKey"/> = <see cref="UuidExtension"/>.</item>
/// <item>json: Utf8 with field metadata <see cref="ExtensionNameKey"/> = <see cref="JsonExtension"/>.</item>
/// <item>arrays: List / LargeList / FixedSizeList of any of the above; struct and map are sent as text.</item>
/// </list>
/// </summary>
public static class ArrowConventions
{
    public const string ExtensionNameKey = "ARROW:extension:name";
    public const string UuidExtension = "arrow.uuid";
    public const string JsonExtension = "arrow.json";

    /// <summary>Optional field metadata naming the engine's own type, for display (e.g. "HUGEINT").</summary>
    public const string EngineTypeKey = "lakeops:engine_type";
}
