namespace LakeOps.Edge.Frontends;

/// <summary>Combines statement time limits where zero means "no limit": the tightest one applies.</summary>
internal static class StatementLimits
{
    public static TimeSpan Tightest(TimeSpan first, TimeSpan second) =>
        first <= TimeSpan.Zero ? Positive(second) : second <= TimeSpan.Zero || first < second ? first : second;

    private static TimeSpan Positive(TimeSpan limit) => limit > TimeSpan.Zero ? limit : TimeSpan.Zero;
}
