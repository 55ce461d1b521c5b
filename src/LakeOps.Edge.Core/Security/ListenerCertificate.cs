using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Core.Security;

/// <summary>
/// Loads a listener's TLS certificate: a PEM certificate with a PEM key, or a PKCS#12 file without a password.
/// One loader for the config check (<c>validate</c> and reload) and the listeners, so a file that passes the
/// check is a file the listener can serve.
/// </summary>
public static class ListenerCertificate
{
    /// <summary>Throws <see cref="System.Security.Cryptography.CryptographicException"/> or <see cref="IOException"/> when the files do not hold a usable certificate.</summary>
    public static X509Certificate2 Load(TlsConfig tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        if (tls.KeyPath is not null)
        {
            return X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        }

        // Without a key file: one PEM file with the certificate and its key, or a PKCS#12 bundle.
        return IsPem(tls.CertificatePath)
            ? X509Certificate2.CreateFromPemFile(tls.CertificatePath)
            : X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, password: null);
    }

    private static bool IsPem(string path)
    {
        Span<byte> start = stackalloc byte[64];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return start[..read].TrimStart(" \t\r\n"u8).StartsWith("-----BEGIN"u8);
    }
}
