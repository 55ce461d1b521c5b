using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Security;

/// <summary>
/// PostgreSQL's legacy md5 password scheme. The stored hash is <c>"md5" + hex(md5(password + user))</c>;
/// over the wire the client answers a 4-byte salt with <c>"md5" + hex(md5(hex(md5(password + user)) + salt))</c>.
/// </summary>
/// <remarks>MD5 is used only because the PostgreSQL protocol defines it; prefer SCRAM-SHA-256.</remarks>
public static class Md5Password
{
    /// <summary>"md5" + 32 lowercase hex digits.</summary>
    internal const int HashLength = 35;

    private const int DigestLength = 16;

    /// <summary>The value PostgreSQL stores for <paramref name="user"/> with <paramref name="password"/>.</summary>
    public static string Hash(string user, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> hash = stackalloc byte[HashLength];
        ComputeStoredHash(user, password, hash);
        return Encoding.ASCII.GetString(hash);
    }

    /// <summary>Checks the client's answer to an AuthenticationMD5Password challenge with <paramref name="salt4"/>.</summary>
    public static bool VerifyClientResponse(string storedHash, ReadOnlySpan<byte> salt4, string clientResponse)
    {
        if (!IsWellFormed(storedHash) || salt4.Length != 4 || clientResponse is null || clientResponse.Length != HashLength)
        {
            return false;
        }

        // md5(hex-part-of-stored-hash + salt)
        Span<byte> input = stackalloc byte[32 + 4];
        Encoding.ASCII.GetBytes(storedHash.AsSpan(3), input);
        salt4.CopyTo(input[32..]);
        Span<byte> digest = stackalloc byte[DigestLength];
#pragma warning disable CA5351 // The PostgreSQL md5 auth protocol is defined in terms of MD5.
        MD5.HashData(input, digest);
#pragma warning restore CA5351
        Span<byte> expected = stackalloc byte[HashLength];
        WriteMd5Text(digest, expected);

        Span<byte> actual = stackalloc byte[HashLength];
        if (!Ascii.IsValid(clientResponse))
        {
            return false;
        }

        Encoding.ASCII.GetBytes(clientResponse, actual);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>Checks a cleartext password (from cleartext auth) against a stored md5 hash, in constant time.</summary>
    public static bool VerifyPassword(string storedHash, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (!IsWellFormed(storedHash))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HashLength];
        ComputeStoredHash(user, password, expected);
        Span<byte> stored = stackalloc byte[HashLength];
        Encoding.ASCII.GetBytes(storedHash, stored);
        return CryptographicOperations.FixedTimeEquals(expected, stored);
    }

    /// <summary>"md5" followed by exactly 32 lowercase hex digits, as PostgreSQL writes it.</summary>
    internal static bool IsWellFormed(string? storedHash)
    {
        if (storedHash is null || storedHash.Length != HashLength || !storedHash.StartsWith("md5", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in storedHash.AsSpan(3))
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static void ComputeStoredHash(string user, string password, Span<byte> destination)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(password.Length + user.Length);
        byte[]? rented = null;
        Span<byte> input = maxBytes <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int length = Encoding.UTF8.GetBytes(password, input);
            length += Encoding.UTF8.GetBytes(user, input[length..]);
            Span<byte> digest = stackalloc byte[DigestLength];
#pragma warning disable CA5351 // The PostgreSQL md5 password format is defined in terms of MD5.
            MD5.HashData(input[..length], digest);
#pragma warning restore CA5351
            WriteMd5Text(digest, destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Writes "md5" + lowercase hex of the 16-byte digest (35 ASCII bytes).</summary>
    private static void WriteMd5Text(ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        "md5"u8.CopyTo(destination);
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        for (int i = 0; i < digest.Length; i++)
        {
            destination[3 + (2 * i)] = hex[digest[i] >> 4];
            destination[4 + (2 * i)] = hex[digest[i] & 0xF];
        }
    }
}
