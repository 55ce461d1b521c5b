using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Security;

/// <summary>Outcome of a caching_sha2_password fast-path check.</summary>
public enum Sha2FastPathResult
{
    /// <summary>The scramble answer matches the cached hash: authenticated.</summary>
    Success,

    /// <summary>Nothing cached for this user (or the cached entry belongs to an older password): do full authentication.</summary>
    NotCached,

    /// <summary>A cached hash exists and the answer does not match: wrong password.</summary>
    Mismatch,
}

/// <summary>
/// Server side of MySQL's caching_sha2_password. The client answers a 20-byte scramble with
/// <c>SHA256(p) XOR SHA256(SHA256(SHA256(p)) + scramble)</c>; the server can check that only when it knows
/// <c>SHA256(SHA256(p))</c>, which it caches in memory after one full authentication: the password in
/// cleartext (over TLS) or RSA-OAEP encrypted with this process's key, checked against the user's SCRAM
/// verifier. Nothing is persisted: a restart empties the cache. Thread-safe.
/// </summary>
public sealed class CachingSha2Password : IDisposable
{
    private const int DigestLength = 32;

    private static readonly Lazy<CachingSha2Password> SharedInstance = new(() => new CachingSha2Password());

    private readonly ConcurrentDictionary<string, CacheEntry> _cache = new(StringComparer.Ordinal);
    private readonly RSA _rsa;

    // RSA objects are not documented as thread-safe; full authentications are rare, so they take turns.
    private readonly Lock _rsaGate = new();

    public CachingSha2Password()
    {
        _rsa = RSA.Create(2048);
        PublicKeyPem = _rsa.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    /// <summary>The process-wide instance (one RSA key and one cache per process).</summary>
    public static CachingSha2Password Shared => SharedInstance.Value;

    /// <summary>The RSA public key as PEM ("-----BEGIN PUBLIC KEY-----"), sent to clients that ask for it.</summary>
    public string PublicKeyPem { get; }

    /// <summary>Cached users (for tests and diagnostics).</summary>
    public int CachedCount => _cache.Count;

    /// <summary>
    /// Checks a fast-path answer. <paramref name="credentialKey"/> identifies the stored credential (e.g. the
    /// SCRAM verifier text): a cache entry made for another credential counts as not cached, so a password
    /// change in the config takes effect at once.
    /// </summary>
    public Sha2FastPathResult VerifyFastPath(string user, string credentialKey, ReadOnlySpan<byte> scramble, ReadOnlySpan<byte> response)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(credentialKey);
        if (!_cache.TryGetValue(user, out CacheEntry? entry) || !string.Equals(entry.CredentialKey, credentialKey, StringComparison.Ordinal))
        {
            return Sha2FastPathResult.NotCached;
        }

        if (response.Length != DigestLength)
        {
            return Sha2FastPathResult.Mismatch;
        }

        Span<byte> mix = stackalloc byte[DigestLength];
        Mix(entry.Stage2, scramble, mix);
        for (int i = 0; i < DigestLength; i++)
        {
            mix[i] ^= response[i];
        }

        // mix is now the client's claimed SHA256(password); its hash must be the cached stage 2.
        Span<byte> check = stackalloc byte[DigestLength];
        SHA256.HashData(mix, check);
        CryptographicOperations.ZeroMemory(mix);
        return CryptographicOperations.FixedTimeEquals(check, entry.Stage2) ? Sha2FastPathResult.Success : Sha2FastPathResult.Mismatch;
    }

    /// <summary>Caches SHA256(SHA256(password)) for <paramref name="user"/> after a successful full authentication.</summary>
    public void Remember(string user, string credentialKey, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(credentialKey);
        ArgumentNullException.ThrowIfNull(password);
        byte[] stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        byte[] stage2 = SHA256.HashData(stage1);
        CryptographicOperations.ZeroMemory(stage1);
        _cache[user] = new CacheEntry(credentialKey, stage2);
    }

    public void Forget(string user) => _cache.TryRemove(user, out _);

    /// <summary>
    /// Decrypts an RSA full-authentication answer: RSA-OAEP(SHA-1) of (password + NUL) XOR the scramble repeated.
    /// Null when it does not decrypt or is not NUL-terminated.
    /// </summary>
    public string? DecryptPassword(ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> scramble)
    {
        if (scramble.IsEmpty)
        {
            return null;
        }

        byte[] plain;
        try
        {
            lock (_rsaGate)
            {
                plain = _rsa.Decrypt(encrypted.ToArray(), RSAEncryptionPadding.OaepSHA1);
            }
        }
        catch (CryptographicException)
        {
            return null;
        }

        try
        {
            for (int i = 0; i < plain.Length; i++)
            {
                plain[i] ^= scramble[i % scramble.Length];
            }

            return ParseCleartext(plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>The cleartext full-authentication answer (password + NUL, over TLS); null when not NUL-terminated.</summary>
    public static string? ParseCleartext(ReadOnlySpan<byte> data)
    {
        int nul = data.IndexOf((byte)0);
        if (nul < 0)
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(data[..nul]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>What a client sends for <paramref name="password"/> on the fast path; empty for an empty password.</summary>
    public static byte[] ComputeClientResponse(string password, ReadOnlySpan<byte> scramble)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0)
        {
            return [];
        }

        byte[] stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        byte[] stage2 = SHA256.HashData(stage1);
        byte[] response = new byte[DigestLength];
        Mix(stage2, scramble, response);
        for (int i = 0; i < DigestLength; i++)
        {
            response[i] ^= stage1[i];
        }

        return response;
    }

    /// <summary>What a client sends for RSA full authentication with the server's PEM public key (for clients and tests).</summary>
    public static byte[] EncryptPassword(string password, ReadOnlySpan<byte> scramble, string publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(password);
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        byte[] plain = new byte[Encoding.UTF8.GetByteCount(password) + 1];
        Encoding.UTF8.GetBytes(password, plain);
        for (int i = 0; i < plain.Length; i++)
        {
            plain[i] ^= scramble[i % scramble.Length];
        }

        return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
    }

    public void Dispose() => _rsa.Dispose();

    // SHA256(stage2 + scramble).
    private static void Mix(ReadOnlySpan<byte> stage2, ReadOnlySpan<byte> scramble, Span<byte> destination)
    {
        if (scramble.Length > 256)
        {
            throw new ArgumentException("the scramble is longer than 256 bytes", nameof(scramble));
        }

        Span<byte> input = stackalloc byte[DigestLength + scramble.Length];
        stage2.CopyTo(input);
        scramble.CopyTo(input[DigestLength..]);
        SHA256.HashData(input, destination);
    }

    private sealed record CacheEntry(string CredentialKey, byte[] Stage2);
}
