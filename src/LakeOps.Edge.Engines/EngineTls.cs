using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Engines;

/// <summary>How Edge checks an engine's TLS certificate (clusters.*.tls), shared by every network engine.</summary>
internal static class EngineTls
{
    public static RemoteCertificateValidationCallback CertificateValidator(RemoteEngineOptions remote)
    {
        if (remote.Tls != EngineTlsMode.VerifyFull)
        {
            // prefer / require encrypt but, like libpq's sslmode of the same names, do not check the certificate.
            return static (_, _, _, _) => true;
        }

        if (remote.CaFile is null)
        {
            return static (_, _, _, errors) => errors == SslPolicyErrors.None;
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(remote.CaFile);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(leaf);
        };
    }
}
