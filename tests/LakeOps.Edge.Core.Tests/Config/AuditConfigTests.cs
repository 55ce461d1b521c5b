using LakeOps.Edge.Core.Config;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class AuditConfigTests
{
    [Fact]
    public void Audit_is_off_by_default()
    {
        AuditConfig audit = LoadValid(Minimal).Audit;

        Assert.False(audit.Enabled);
        Assert.Null(audit.Path);
        Assert.False(audit.IncludeSql);
        Assert.Equal(4096, audit.MaxSqlLength);
        Assert.Equal(65536, audit.BufferSize);
    }

    [Fact]
    public void Every_key_is_bound_and_the_path_is_relative_to_the_config_file()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "logs"));
        string yaml = With("""
            audit:
              enabled: true
              path: logs/audit.jsonl
              include_sql: true
              max_sql_length: 100
              buffer_size: 1024
            """);

        AuditConfig audit = LoadValid(yaml, sourcePath: Path.Combine(dir.Path, "edge.yaml")).Audit;

        Assert.True(audit.Enabled);
        Assert.Equal(Path.Combine(dir.Path, "logs", "audit.jsonl"), audit.Path);
        Assert.True(audit.IncludeSql);
        Assert.Equal(100, audit.MaxSqlLength);
        Assert.Equal(1024, audit.BufferSize);
    }

    [Fact]
    public void Enabled_needs_a_path()
    {
        ConfigError error = ErrorAt(LoadErrors(With("audit: { enabled: true }")), "audit");
        Assert.Contains("missing required key 'path'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disabled_log_may_keep_its_path()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "audit.jsonl");
        AuditConfig audit = LoadValid(With($"audit: {{ enabled: false, path: {path} }}")).Audit;
        Assert.False(audit.Enabled);
        Assert.Equal(path, audit.Path);
    }

    [Theory]
    [InlineData("audit: { enabled: maybe }", "audit.enabled")]
    [InlineData("audit: { enabled: true, path: /nonexistent-dir-for-edge-tests/audit.jsonl }", "audit.path")]
    [InlineData("audit: { enabled: true, path: /tmp }", "audit.path")]
    [InlineData("audit: { include_sql: sometimes }", "audit.include_sql")]
    [InlineData("audit: { max_sql_length: 0 }", "audit.max_sql_length")]
    [InlineData("audit: { buffer_size: 1 }", "audit.buffer_size")]
    [InlineData("audit: { buffer_size: lots }", "audit.buffer_size")]
    [InlineData("audit: { file: x.jsonl }", "audit.file")]
    [InlineData("audit: [on]", "audit")]
    public void Bad_values_are_reported_at_their_path(string section, string path)
    {
        ConfigError error = ErrorAt(LoadErrors(With(section)), path);
        Assert.True(error.Line > 0, $"no line for {error}");
    }

    [Fact]
    public void Every_error_of_the_section_is_reported_at_once()
    {
        IReadOnlyList<ConfigError> errors = LoadErrors(With("audit: { enabled: true, max_sql_length: -5, buffer_size: 0 }"));
        ErrorAt(errors, "audit");
        ErrorAt(errors, "audit.max_sql_length");
        ErrorAt(errors, "audit.buffer_size");
    }
}
