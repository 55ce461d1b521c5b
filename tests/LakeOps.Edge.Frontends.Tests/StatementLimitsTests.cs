namespace LakeOps.Edge.Frontends.Tests;

public sealed class StatementLimitsTests
{
    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(0, 500, 500)]
    [InlineData(500, 0, 500)]
    [InlineData(300, 500, 300)]
    [InlineData(500, 300, 300)]
    [InlineData(-1, 200, 200)]
    [InlineData(200, -1, 200)]
    [InlineData(-5, -1, 0)]
    public void The_tightest_positive_limit_applies_and_zero_means_none(int first, int second, int expected) =>
        Assert.Equal(
            TimeSpan.FromMilliseconds(expected),
            StatementLimits.Tightest(TimeSpan.FromMilliseconds(first), TimeSpan.FromMilliseconds(second)));
}
