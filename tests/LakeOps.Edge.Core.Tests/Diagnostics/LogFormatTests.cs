using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Core.Tests.Diagnostics;

public sealed class LogFormatTests
{
    private static readonly DateTime Noon = new(2026, 11, 25, 12, 0, 1, 234, DateTimeKind.Utc);

    [Fact]
    public void A_terminal_or_file_line_starts_with_a_utc_timestamp() =>
        Assert.Equal(
            "2026-11-25T12:00:01.234Z warn [1012 ConfigReloadFailed] bad file",
            Log.Format(LogLevel.Warning, EventId.ConfigReloadFailed, "bad file", Noon, journal: false));

    [Theory]
    [InlineData(LogLevel.Debug, "<7>dbug")]
    [InlineData(LogLevel.Information, "<6>info")]
    [InlineData(LogLevel.Warning, "<4>warn")]
    [InlineData(LogLevel.Error, "<3>fail")]
    public void A_journal_line_starts_with_the_syslog_priority_and_has_no_timestamp(LogLevel level, string start) =>
        Assert.Equal(start + " [1003 Stopped] stopped", Log.Format(level, EventId.Stopped, "stopped", Noon, journal: true));

    [Theory]
    [InlineData("8:123456", "socket:[123456]", true)]
    [InlineData("0:99", "pipe:[99]", true)]
    [InlineData("8:123456", "socket:[654321]", false)]
    [InlineData("8:123456", "socket:[1234567]", false)]
    [InlineData("8:123456", "/var/log/edge.log", false)]
    [InlineData("8:123456", "/dev/pts/0", false)]
    [InlineData("8:", "socket:[]", false)]
    [InlineData("garbage", "socket:[123456]", false)]
    [InlineData("", "socket:[123456]", false)]
    [InlineData(null, "socket:[123456]", false)]
    [InlineData("8:123456", null, false)]
    public void The_journal_is_recognised_only_when_stderr_is_the_stream_JOURNAL_STREAM_names(string? journalStream, string? stderrTarget, bool expected) =>
        Assert.Equal(expected, Log.IsJournalStream(journalStream, stderrTarget));
}
