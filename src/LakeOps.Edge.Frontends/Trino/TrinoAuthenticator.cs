using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// Who sends a Trino request. <c>trust</c> (loopback listeners only, enforced by the config): the
/// X-Trino-User header. <c>password</c>: HTTP Basic, the password checked against the user's scram, md5
/// or mysql_native verifier; or Bearer, the token's SHA-256 compared with a user's bearer_token_sha256.
/// A SCRAM check costs thousands of PBKDF2 rounds, so a successful one is remembered (as a salted hash of
/// the password, per user and verifier) and later requests with the same password are checked against that.
/// </summary>
internal sealed class TrinoAuthenticator
{
    private readonly ConcurrentDictionary<string, (string Verifier, byte[] Hash)> _verified = new(StringComparer.Ordinal);
    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(32);

    /// <summary>The authenticated user, or an error text for a 401.</summary>
    public (string? User, string? Error) Authenticate(AuthMethod method, EdgeConfig config, string? authorization, string? headerUser)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (method == AuthMethod.Trust)
        {
            return string.IsNullOrEmpty(headerUser) ? (null, "X-Trino-User must be set") : (headerUser, null);
        }

        if (string.IsNullOrEmpty(authorization))
        {
            return (null, "authentication required (Basic or Bearer)");
        }

        string? user = null;
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            user = CheckBasic(config, authorization["Basic ".Length..].Trim());
        }
        else if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            user = CheckBearer(config, authorization["Bearer ".Length..].Trim());
        }

        if (user is null)
        {
            return (null, "invalid credentials");
        }

        if (!string.IsNullOrEmpty(headerUser) && headerUser != user)
        {
            return (null, $"user '{user}' may not act as '{headerUser}'");
        }

        return (user, null);
    }

    private string? CheckBasic(EdgeConfig config, string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }

        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        string name = decoded[..colon];
        string password = decoded[(colon + 1)..];
        if (!config.Users.TryGetValue(name, out UserConfig? user))
        {
            return null;
        }

        string verifier = user.ScramVerifier ?? user.Md5Hash ?? user.MySqlNativeHash ?? "";
        byte[] hash = HashPassword(name, password);
        if (_verified.TryGetValue(name, out var known) && known.Verifier == verifier && CryptographicOperations.FixedTimeEquals(known.Hash, hash))
        {
            return name;
        }

        bool ok = user.ScramVerifier is { } scram && ScramVerifier.TryParse(scram, out ScramVerifier? parsed) ? parsed!.VerifyPassword(password)
            : user.Md5Hash is { } md5 ? Md5Password.VerifyPassword(md5, name, password)
            : user.MySqlNativeHash is { } native && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(MySqlNativePassword.Hash(password)), Encoding.ASCII.GetBytes(native));
        if (!ok)
        {
            return null;
        }

        _verified[name] = (verifier, hash);
        return name;
    }

    private static string? CheckBearer(EdgeConfig config, string token)
    {
        if (token.Length == 0)
        {
            return null;
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), digest);
        string hex = Convert.ToHexStringLower(digest);
        foreach (UserConfig user in config.Users.Values)
        {
            if (user.BearerTokenSha256 is { } stored && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(hex)))
            {
                return user.Name;
            }
        }

        return null;
    }

    private byte[] HashPassword(string user, string password) =>
        HMACSHA256.HashData(_salt, Encoding.UTF8.GetBytes(user + "\0" + password));
}
