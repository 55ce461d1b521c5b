using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Tests.Security;

/// <summary>
/// The client side of SCRAM-SHA-256, written from RFC 5802 section 3 independently of the server code,
/// so tests can run full exchanges against verifiers the server never saw a password for.
/// </summary>
internal sealed class ScramClient(string password, string clientNonce, string gs2Header = "n,,")
{
    private string _clientFirstBare = string.Empty;
    private string _authMessage = string.Empty;
    private byte[] _saltedPassword = [];

    public string ClientFirst()
    {
        _clientFirstBare = "n=,r=" + clientNonce;
        return gs2Header + _clientFirstBare;
    }

    public string ClientFinal(string serverFirst, string? channelBinding = null, string? nonceOverride = null)
    {
        Dictionary<char, string> attributes = Attributes(serverFirst);
        string nonce = nonceOverride ?? attributes['r'];
        byte[] salt = Convert.FromBase64String(attributes['s']);
        int iterations = int.Parse(attributes['i'], System.Globalization.CultureInfo.InvariantCulture);

        string withoutProof = $"c={channelBinding ?? Convert.ToBase64String(Encoding.ASCII.GetBytes(gs2Header))},r={nonce}";
        _authMessage = _clientFirstBare + "," + serverFirst + "," + withoutProof;
        _saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        byte[] clientKey = HMACSHA256.HashData(_saltedPassword, Encoding.ASCII.GetBytes("Client Key"));
        byte[] storedKey = SHA256.HashData(clientKey);
        byte[] clientSignature = HMACSHA256.HashData(storedKey, Encoding.UTF8.GetBytes(_authMessage));
        byte[] proof = new byte[clientKey.Length];
        for (int i = 0; i < proof.Length; i++)
        {
            proof[i] = (byte)(clientKey[i] ^ clientSignature[i]);
        }

        return withoutProof + ",p=" + Convert.ToBase64String(proof);
    }

    /// <summary>The ServerSignature the client expects in server-final-message.</summary>
    public string ExpectedServerFinal()
    {
        byte[] serverKey = HMACSHA256.HashData(_saltedPassword, Encoding.ASCII.GetBytes("Server Key"));
        return "v=" + Convert.ToBase64String(HMACSHA256.HashData(serverKey, Encoding.UTF8.GetBytes(_authMessage)));
    }

    public static Dictionary<char, string> Attributes(string message)
    {
        var result = new Dictionary<char, string>();
        foreach (string part in message.Split(','))
        {
            result[part[0]] = part[2..];
        }

        return result;
    }
}
