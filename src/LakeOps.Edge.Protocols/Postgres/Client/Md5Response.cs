using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>The client's answer to AuthenticationMD5Password: <c>"md5" + hex(md5(hex(md5(password + user)) + salt))</c>.</summary>
public static class Md5Response
{
    public static string Compute(string user, string password, ReadOnlySpan<byte> salt4)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (salt4.Length != 4)
        {
            throw new ArgumentException("the md5 salt is 4 bytes", nameof(salt4));
        }

        byte[] inner = Encoding.UTF8.GetBytes(password + user);
        Span<byte> digest = stackalloc byte[16];
#pragma warning disable CA5351 // The PostgreSQL md5 auth protocol is defined in terms of MD5.
        MD5.HashData(inner, digest);
        Span<byte> outer = stackalloc byte[32 + 4];
        WriteHex(digest, outer);
        salt4.CopyTo(outer[32..]);
        MD5.HashData(outer, digest);
#pragma warning restore CA5351
        CryptographicOperations.ZeroMemory(inner);
        Span<byte> text = stackalloc byte[35];
        "md5"u8.CopyTo(text);
        WriteHex(digest, text[3..]);
        return Encoding.ASCII.GetString(text);
    }

    private static void WriteHex(ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        for (int i = 0; i < digest.Length; i++)
        {
            destination[2 * i] = hex[digest[i] >> 4];
            destination[(2 * i) + 1] = hex[digest[i] & 0xF];
        }
    }
}
