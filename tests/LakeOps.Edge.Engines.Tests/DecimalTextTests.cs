using System.Text;

namespace LakeOps.Edge.Engines.Tests;

/// <summary>The decimal text parser shared by the MySQL and Trino column builders.</summary>
public sealed class DecimalTextTests
{
    [Theory]
    [InlineData("123.45", 2, "12345")]
    [InlineData("-123.45", 2, "-12345")]
    [InlineData("+7", 3, "7000")]
    [InlineData("0.5", 1, "5")]
    [InlineData(".5", 2, "50")]
    [InlineData("12.3400", 2, "1234")]
    [InlineData("00000000000000000000000000000000000000000001", 0, "1")]
    [InlineData("99999999999999999999999999999999999999", 0, "99999999999999999999999999999999999999")]
    [InlineData("-9999999999999999999999999999.9999999999", 10, "-99999999999999999999999999999999999999")]
    public void ParsesToTheUnscaledValue(string text, int scale, string expected)
    {
        Assert.True(DecimalText.TryParse(Encoding.ASCII.GetBytes(text), scale, out Int128 unscaled));
        Assert.Equal(Int128.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), unscaled);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("-", 0)]
    [InlineData(".", 2)]
    [InlineData("1.2.3", 2)]
    [InlineData("12a", 0)]
    [InlineData("1e5", 0)]
    [InlineData("1.25", 1)]
    // 39 significant digits: more than Decimal128 (and Trino or MySQL) can hold, though Int128 could.
    [InlineData("100000000000000000000000000000000000000", 0)]
    [InlineData("-999999999999999999999999999999999999999", 0)]
    // 38 digits before the point plus padding to the scale also exceed 38.
    [InlineData("99999999999999999999999999999999999999", 1)]
    // Far past Int128.
    [InlineData("1000000000000000000000000000000000000000000000000000", 0)]
    public void RejectsTextThatIsNotADecimalOrExceeds38Digits(string text, int scale)
    {
        Assert.False(DecimalText.TryParse(Encoding.ASCII.GetBytes(text), scale, out _));
    }
}
