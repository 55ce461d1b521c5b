using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Security;

/// <summary>
/// MySQL's mysql_native_password scheme. The stored hash is <c>"*" + HEX(SHA1(SHA1(password)))</c>;
/// over the wire the client answers a 20-byte scramble with
/// <c>SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))</c>.
/// </summary>
/// <remarks>SHA-1 is used only because the MySQL protocol defines it; prefer caching_sha2_password.</remarks>
public static class MySqlNativePassword
{
    private const int DigestLength = 20;
    private const int HashLength = 1 + (2 * DigestLength);

    /// <summary>The value MySQL stores for <paramref name="password"/> (as in mysql.user.authentication_string).</summary>
    public static string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> stage1 = stackalloc byte[DigestLength];
        Span<byte> stage2 = stackalloc byte[DigestLength];
        SHA1.HashData(Encoding.UTF8.GetBytes(password), stage1);
        SHA1.HashData(stage1, stage2);
        return "*" + Convert.ToHexString(stage2);
    }

    /// <summary>"*" followed by 40 uppercase hex digits.</summary>
    public static bool IsWellFormed(string? hash)
    {
        if (hash is null || hash.Length != HashLength || hash[0] != '*')
        {
            return false;
        }

        foreach (char c in hash.AsSpan(1))
        {
            if (!char.IsAsciiHexDigitUpper(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What a client sends for <paramref name="password"/> and the server's <paramref name="scramble"/>; empty for an empty password.</summary>
    public static byte[] ComputeClientResponse(string password, ReadOnlySpan<byte> scramble)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0)
        {
            return [];
        }

        Span<byte> stage1 = stackalloc byte[DigestLength];
        Span<byte> stage2 = stackalloc byte[DigestLength];
        SHA1.HashData(Encoding.UTF8.GetBytes(password), stage1);
        SHA1.HashData(stage1, stage2);
        byte[] response = new byte[DigestLength];
        MixWithScramble(stage2, scramble, response);
        for (int i = 0; i < DigestLength; i++)
        {
            response[i] ^= stage1[i];
        }

        return response;
    }

    /// <summary>Checks a client's answer to <paramref name="scramble"/> against the stored hash, in constant time.</summary>
    public static bool VerifyClientResponse(string storedHash, ReadOnlySpan<byte> scramble, ReadOnlySpan<byte> clientResponse)
    {
        if (!IsWellFormed(storedHash) || clientResponse.Length != DigestLength)
        {
            return false;
        }

        Span<byte> stage2 = stackalloc byte[DigestLength];
        Convert.FromHexString(storedHash.AsSpan(1), stage2, out _, out _);
        Span<byte> candidate = stackalloc byte[DigestLength];
        MixWithScramble(stage2, scramble, candidate);
        for (int i = 0; i < DigestLength; i++)
        {
            candidate[i] ^= clientResponse[i];
        }

        // candidate is now the client's claimed SHA1(password); its SHA1 must be the stored stage 2.
        Span<byte> check = stackalloc byte[DigestLength];
        SHA1.HashData(candidate, check);
        return CryptographicOperations.FixedTimeEquals(check, stage2);
    }

    private static void MixWithScramble(ReadOnlySpan<byte> stage2, ReadOnlySpan<byte> scramble, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[scramble.Length + DigestLength];
        scramble.CopyTo(input);
        stage2.CopyTo(input[scramble.Length..]);
        SHA1.HashData(input, destination);
    }
}
