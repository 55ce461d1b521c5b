using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LakeOps.Edge.Core.Tests.Config;

/// <summary>A real self-signed certificate and key as PEM files: the config check loads TLS files, so they must parse.</summary>
internal static class TestCertificate
{
    /// <summary>Writes <paramref name="certificatePath"/> and <paramref name="keyPath"/> (directories are created).</summary>
    public static void WritePem(string certificatePath, string keyPath, string commonName = "edge-test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        Directory.CreateDirectory(Path.GetDirectoryName(certificatePath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(keyPath)!);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }
}
