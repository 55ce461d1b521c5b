using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Security;

/// <summary>
/// A SCRAM-SHA-256 password verifier as PostgreSQL stores it in pg_authid.rolpassword:
/// <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;base64 salt&gt;$&lt;base64 StoredKey&gt;:&lt;base64 ServerKey&gt;</c>.
/// The password itself is never kept.
/// </summary>
/// <remarks>
/// SASLprep (RFC 4013) is applied only trivially: the password's UTF-8 bytes are used as they are.
/// For ASCII passwords that is exactly what PostgreSQL and its clients do; non-ASCII passwords that
/// NFKC normalisation would change may not match a verifier PostgreSQL produced.
/// </remarks>
public sealed record ScramVerifier(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey)
{
    public const int DefaultIterations = 4096;

    internal const string Prefix = "SCRAM-SHA-256$";

    /// <summary>SHA-256 output size: StoredKey, ServerKey, proofs and signatures are this long.</summary>
    internal const int KeyLength = 32;

    private const int DefaultSaltLength = 16;

    /// <summary>Derives a verifier for <paramref name="password"/>; a random 16-byte salt unless one is given.</summary>
    public static ScramVerifier Create(string password, int iterations = DefaultIterations, byte[]? salt = null)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        if (salt is not null && salt.Length == 0)
        {
            throw new ArgumentException("the salt must not be empty", nameof(salt));
        }

        byte[] saltCopy = salt is null ? RandomNumberGenerator.GetBytes(DefaultSaltLength) : salt.AsSpan().ToArray();
        byte[] storedKey = new byte[KeyLength];
        byte[] serverKey = new byte[KeyLength];
        DeriveKeys(password, saltCopy, iterations, storedKey, serverKey);
        return new ScramVerifier(iterations, saltCopy, storedKey, serverKey);
    }

    /// <summary>Parses PostgreSQL's verifier text; false for anything malformed.</summary>
    public static bool TryParse(string text, out ScramVerifier? verifier) => TryParse(text, out verifier, out _);

    /// <summary>Like <see cref="TryParse(string, out ScramVerifier?)"/>, with a reason when it fails.</summary>
    internal static bool TryParse(string? text, out ScramVerifier? verifier, out string? error)
    {
        verifier = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"a SCRAM verifier starts with '{Prefix}' (expected {Prefix}<iterations>:<salt>$<StoredKey>:<ServerKey>)";
            return false;
        }

        ReadOnlySpan<char> rest = text.AsSpan(Prefix.Length);
        int dollar = rest.IndexOf('$');
        if (dollar < 0)
        {
            error = $"expected {Prefix}<iterations>:<salt>$<StoredKey>:<ServerKey>";
            return false;
        }

        ReadOnlySpan<char> left = rest[..dollar];
        ReadOnlySpan<char> right = rest[(dollar + 1)..];
        int colonLeft = left.IndexOf(':');
        int colonRight = right.IndexOf(':');
        if (colonLeft < 0 || colonRight < 0)
        {
            error = $"expected {Prefix}<iterations>:<salt>$<StoredKey>:<ServerKey>";
            return false;
        }

        if (!int.TryParse(left[..colonLeft], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations) || iterations < 1)
        {
            error = $"iteration count '{left[..colonLeft]}' is not a positive integer";
            return false;
        }

        byte[]? salt = DecodeBase64(left[(colonLeft + 1)..]);
        if (salt is null || salt.Length == 0)
        {
            error = "the salt is not valid non-empty base64";
            return false;
        }

        byte[]? storedKey = DecodeBase64(right[..colonRight]);
        if (storedKey is null || storedKey.Length != KeyLength)
        {
            error = $"StoredKey must be {KeyLength} bytes of base64";
            return false;
        }

        byte[]? serverKey = DecodeBase64(right[(colonRight + 1)..]);
        if (serverKey is null || serverKey.Length != KeyLength)
        {
            error = $"ServerKey must be {KeyLength} bytes of base64";
            return false;
        }

        verifier = new ScramVerifier(iterations, salt, storedKey, serverKey);
        error = null;
        return true;
    }

    /// <summary>Checks a cleartext password (from cleartext auth) against this verifier, in constant time.</summary>
    public bool VerifyPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> storedKey = stackalloc byte[KeyLength];
        Span<byte> serverKey = stackalloc byte[KeyLength];
        DeriveKeys(password, Salt, Iterations, storedKey, serverKey);

        // Non-short-circuit '&' so both comparisons always run.
        return CryptographicOperations.FixedTimeEquals(storedKey, StoredKey)
            & CryptographicOperations.FixedTimeEquals(serverKey, ServerKey);
    }

    /// <summary>PostgreSQL's text form, suitable for users.NAME.scram in the config.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Prefix}{Iterations}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}:{Convert.ToBase64String(ServerKey)}");

    // Arrays compare by content: two verifiers are equal when they accept the same password the same way.
    public bool Equals(ScramVerifier? other) =>
        other is not null
        && Iterations == other.Iterations
        && Salt.AsSpan().SequenceEqual(other.Salt)
        && StoredKey.AsSpan().SequenceEqual(other.StoredKey)
        && ServerKey.AsSpan().SequenceEqual(other.ServerKey);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Iterations);
        hash.AddBytes(StoredKey);
        return hash.ToHashCode();
    }

    /// <summary>SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, i); StoredKey = H(HMAC(SP, "Client Key")); ServerKey = HMAC(SP, "Server Key").</summary>
    private static void DeriveKeys(string password, ReadOnlySpan<byte> salt, int iterations, Span<byte> storedKey, Span<byte> serverKey)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(password.Length);
        byte[]? rented = null;
        Span<byte> passwordBytes = maxBytes <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        Span<byte> saltedPassword = stackalloc byte[KeyLength];
        Span<byte> clientKey = stackalloc byte[KeyLength];
        try
        {
            int length = Encoding.UTF8.GetBytes(password, passwordBytes);
            Rfc2898DeriveBytes.Pbkdf2(passwordBytes[..length], salt, saltedPassword, iterations, HashAlgorithmName.SHA256);
            HMACSHA256.HashData(saltedPassword, "Client Key"u8, clientKey);
            SHA256.HashData(clientKey, storedKey);
            HMACSHA256.HashData(saltedPassword, "Server Key"u8, serverKey);
        }
        finally
        {
            // Secrets do not linger in pooled or stack memory.
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(saltedPassword);
            CryptographicOperations.ZeroMemory(clientKey);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static byte[]? DecodeBase64(ReadOnlySpan<char> text)
    {
        byte[] buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64Chars(text, buffer, out int written) ? buffer.AsSpan(0, written).ToArray() : null;
    }
}
