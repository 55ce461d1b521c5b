using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Security;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

/// <summary>What a reload relies on from the config: server.log_level, the revision hash, the store's revision, TLS files that load.</summary>
public sealed class ReloadConfigTests
{
    [Theory]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    public void Log_level_is_bound(string text, LogLevel expected)
    {
        EdgeConfig config = LoadValid("server:\n  log_level: " + text + "\n" + Minimal);

        Assert.Equal(expected, config.Server.LogLevel);
    }

    [Fact]
    public void Log_level_is_optional_and_checked()
    {
        Assert.Null(LoadValid(Minimal).Server.LogLevel);

        ConfigError error = ErrorAt(LoadErrors("server:\n  log_level: loud\n" + Minimal), "server.log_level");
        Assert.Equal("unknown log level 'loud' (expected one of: debug, info, warn, error)", error.Message);
    }

    [Fact]
    public void Content_hash_names_the_text()
    {
        string changed = Minimal.Replace("15432", "15433", StringComparison.Ordinal);

        string hash = LoadValid(Minimal).ContentHash;

        Assert.Matches("^[0-9a-f]{12}$", hash);
        Assert.Equal(hash, LoadValid(Minimal).ContentHash);
        Assert.Equal(hash, ConfigLoader.ContentHash(Minimal));
        Assert.NotEqual(hash, LoadValid(changed).ContentHash);
    }

    [Fact]
    public void Store_counts_revisions()
    {
        var store = new ConfigStore(LoadValid(Minimal));
        EdgeConfig next = LoadValid(Minimal);

        Assert.Equal(1, store.Revision);
        Assert.Equal(2, store.Publish(next));
        Assert.Equal(2, store.Revision);
        Assert.Same(next, store.Current);
    }

    [Fact]
    public void Tls_files_that_do_not_hold_a_certificate_are_errors()
    {
        using var dir = new TempDirectory();
        string cert = dir.File("cert.pem", "not a certificate");
        string key = dir.File("key.pem", "not a key");
        string yaml = Minimal.Replace("    auth: trust", $"    auth: trust\n    tls:\n      certificate: {cert}\n      key: {key}", StringComparison.Ordinal);

        ConfigError error = ErrorAt(LoadErrors(yaml), "listeners.pg.tls.certificate");

        Assert.StartsWith("cannot load the certificate and key:", error.Message, StringComparison.Ordinal);
        TestCertificate.WritePem(cert, key);
        Assert.Equal(cert, LoadValid(yaml).Listeners[0].Tls!.CertificatePath);
    }

    [Fact]
    public void One_pem_file_may_hold_certificate_and_key()
    {
        using var dir = new TempDirectory();
        string cert = Path.Combine(dir.Path, "cert.pem");
        string key = Path.Combine(dir.Path, "key.pem");
        TestCertificate.WritePem(cert, key);
        string both = dir.File("both.pem", File.ReadAllText(cert) + "\n" + File.ReadAllText(key));
        string yaml = Minimal.Replace("    auth: trust", $"    auth: trust\n    tls:\n      certificate: {both}", StringComparison.Ordinal);

        TlsConfig tls = LoadValid(yaml).Listeners[0].Tls!;
        using var loaded = ListenerCertificate.Load(tls);

        Assert.Null(tls.KeyPath);
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal("CN=edge-test", loaded.Subject);
    }

    [Fact]
    public void Certificate_and_key_must_belong_together()
    {
        using var dir = new TempDirectory();
        string cert = Path.Combine(dir.Path, "a", "cert.pem");
        string otherKey = Path.Combine(dir.Path, "b", "key.pem");
        TestCertificate.WritePem(cert, Path.Combine(dir.Path, "a", "key.pem"));
        TestCertificate.WritePem(Path.Combine(dir.Path, "b", "cert.pem"), otherKey);
        string yaml = Minimal.Replace("    auth: trust", $"    auth: trust\n    tls:\n      certificate: {cert}\n      key: {otherKey}", StringComparison.Ordinal);

        Assert.StartsWith("cannot load the certificate and key:", ErrorAt(LoadErrors(yaml), "listeners.pg.tls.certificate").Message, StringComparison.Ordinal);
    }
}
