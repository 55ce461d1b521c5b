using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Core.Tests.Diagnostics;

public sealed class LogLevelsTests
{
    [Theory]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    public void Words_parse_and_format_both_ways(string word, LogLevel level)
    {
        Assert.True(LogLevels.TryParse(word, out LogLevel parsed));
        Assert.Equal(level, parsed);
        Assert.Equal(word, LogLevels.Name(level));
    }

    [Fact]
    public void Every_level_has_a_word_that_parses_back()
    {
        foreach (LogLevel level in Enum.GetValues<LogLevel>())
        {
            Assert.True(LogLevels.TryParse(LogLevels.Name(level), out LogLevel parsed));
            Assert.Equal(level, parsed);
        }
    }

    [Theory]
    [InlineData("Info")]
    [InlineData("warning")]
    [InlineData("")]
    [InlineData("loud")]
    public void Other_words_are_rejected(string word)
    {
        Assert.False(LogLevels.TryParse(word, out _));
    }

    [Fact]
    public void Expected_lists_the_words()
    {
        Assert.Equal("debug, info, warn, error", LogLevels.Expected);
    }
}
