using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>
/// The client side of one SCRAM-SHA-256 authentication (RFC 5802 / RFC 7677) as PostgreSQL runs it: no
/// channel binding (gs2 header <c>n,,</c>) and an empty user name (the server takes it from the startup
/// packet). Call <see cref="CreateClientFirst"/>, <see cref="HandleServerFirst"/>, then
/// <see cref="VerifyServerFinal"/>; each throws <see cref="PgProtocolException"/> (28000) on bad server input.
/// </summary>
/// <remarks>SASLprep is applied trivially, as in <c>ScramVerifier</c>: the password's UTF-8 bytes are used as they are.</remarks>
public sealed class ScramClient
{
    public const string Mechanism = "SCRAM-SHA-256";

    private const int KeyLength = 32;

    /// <summary>A server asking for more iterations than this is refused (PostgreSQL uses 4096).</summary>
    private const int MaxIterations = 10_000_000;

    private readonly string _password;
    private readonly string _clientNonce;
    private readonly string _user;
    private byte[]? _clientFirstBare;
    private byte[]? _expectedServerSignature;

    public ScramClient(string password)
        : this(password, Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)))
    {
    }

    /// <summary>
    /// For reproducible test vectors: a fixed client nonce (printable ASCII without ',') and optionally a user
    /// name for <c>n=</c> (PostgreSQL ignores it; RFC examples use one).
    /// </summary>
    public ScramClient(string password, string clientNonce, string user = "")
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentException.ThrowIfNullOrEmpty(clientNonce);
        ArgumentNullException.ThrowIfNull(user);
        _password = password;
        _clientNonce = clientNonce;

        // RFC 5802 saslname: '=' and ',' are escaped.
        _user = user.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);
    }

    /// <summary>client-first-message: <c>n,,n=,r=&lt;nonce&gt;</c> (gs2 header, empty user, nonce).</summary>
    public byte[] CreateClientFirst()
    {
        _clientFirstBare = Encoding.UTF8.GetBytes("n=" + _user + ",r=" + _clientNonce);
        byte[] message = new byte[3 + _clientFirstBare.Length];
        "n,,"u8.CopyTo(message);
        _clientFirstBare.CopyTo(message, 3);
        return message;
    }

    /// <summary>Checks server-first-message (<c>r=nonce,s=salt,i=iterations</c>) and returns client-final-message.</summary>
    public byte[] HandleServerFirst(ReadOnlySpan<byte> serverFirst)
    {
        if (_clientFirstBare is null)
        {
            throw new InvalidOperationException("CreateClientFirst must be called first");
        }

        if (serverFirst.StartsWith("m="u8))
        {
            Fail("the server requires a SCRAM extension this client does not support");
        }

        ReadOnlySpan<byte> nonce = Attribute(serverFirst, (byte)'r');
        ReadOnlySpan<byte> saltText = Attribute(serverFirst, (byte)'s');
        ReadOnlySpan<byte> iterationText = Attribute(serverFirst, (byte)'i');
        if (nonce.IsEmpty || saltText.IsEmpty || iterationText.IsEmpty)
        {
            Fail("malformed SCRAM server-first-message: expected r=, s= and i= attributes");
        }

        // The combined nonce must extend ours; anything else is a replay or a broken server.
        if (nonce.Length <= _clientNonce.Length || !StartsWithAscii(nonce, _clientNonce))
        {
            Fail("SCRAM server nonce does not start with the client nonce");
        }

        if (!int.TryParse(iterationText, NumberStyles.None, CultureInfo.InvariantCulture, out int iterations)
            || iterations < 1 || iterations > MaxIterations)
        {
            Fail("SCRAM iteration count is not a positive integer in range");
        }

        byte[] salt = new byte[Base64.GetMaxDecodedFromUtf8Length(saltText.Length)];
        if (Base64.DecodeFromUtf8(saltText, salt, out int consumed, out int saltLength) != System.Buffers.OperationStatus.Done
            || consumed != saltText.Length || saltLength == 0)
        {
            Fail("SCRAM salt is not valid base64");
        }

        Span<byte> saltedPassword = stackalloc byte[KeyLength];
        Span<byte> clientKey = stackalloc byte[KeyLength];
        Span<byte> storedKey = stackalloc byte[KeyLength];
        Span<byte> serverKey = stackalloc byte[KeyLength];
        Span<byte> clientSignature = stackalloc byte[KeyLength];
        byte[] passwordBytes = Encoding.UTF8.GetBytes(_password);
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passwordBytes, salt.AsSpan(0, saltLength), saltedPassword, iterations, HashAlgorithmName.SHA256);
            HMACSHA256.HashData(saltedPassword, "Client Key"u8, clientKey);
            SHA256.HashData(clientKey, storedKey);
            HMACSHA256.HashData(saltedPassword, "Server Key"u8, serverKey);

            // client-final-without-proof = "c=biws,r=" nonce; AuthMessage = client-first-bare "," server-first "," that.
            byte[] withoutProof = new byte[9 + nonce.Length];
            "c=biws,r="u8.CopyTo(withoutProof);
            nonce.CopyTo(withoutProof.AsSpan(9));
            byte[] authMessage = new byte[_clientFirstBare.Length + 1 + serverFirst.Length + 1 + withoutProof.Length];
            int at = 0;
            _clientFirstBare.CopyTo(authMessage, at);
            at += _clientFirstBare.Length;
            authMessage[at++] = (byte)',';
            serverFirst.CopyTo(authMessage.AsSpan(at));
            at += serverFirst.Length;
            authMessage[at++] = (byte)',';
            withoutProof.CopyTo(authMessage, at);

            HMACSHA256.HashData(storedKey, authMessage, clientSignature);
            for (int i = 0; i < KeyLength; i++)
            {
                clientKey[i] ^= clientSignature[i]; // ClientProof = ClientKey XOR ClientSignature
            }

            _expectedServerSignature = HMACSHA256.HashData(serverKey, authMessage);

            int proofLength = Base64.GetMaxEncodedToUtf8Length(KeyLength);
            byte[] final = new byte[withoutProof.Length + 3 + proofLength];
            withoutProof.CopyTo(final, 0);
            ",p="u8.CopyTo(final.AsSpan(withoutProof.Length));
            Base64.EncodeToUtf8(clientKey, final.AsSpan(withoutProof.Length + 3), out _, out _);
            return final;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(saltedPassword);
            CryptographicOperations.ZeroMemory(clientKey);
        }
    }

    /// <summary>Checks server-final-message <c>v=signature</c>: proves the server knew the verifier too.</summary>
    public void VerifyServerFinal(ReadOnlySpan<byte> serverFinal)
    {
        if (_expectedServerSignature is null)
        {
            throw new InvalidOperationException("HandleServerFirst must be called first");
        }

        if (serverFinal.StartsWith("e="u8))
        {
            Fail("SCRAM authentication failed on the server: " + Encoding.ASCII.GetString(serverFinal[2..]));
        }

        ReadOnlySpan<byte> signatureText = Attribute(serverFinal, (byte)'v');
        Span<byte> signature = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(Math.Max(signatureText.Length, 4))];
        if (signatureText.IsEmpty
            || Base64.DecodeFromUtf8(signatureText, signature, out _, out int length) != System.Buffers.OperationStatus.Done
            || !CryptographicOperations.FixedTimeEquals(signature[..length], _expectedServerSignature))
        {
            Fail("SCRAM server signature does not match: the server does not know the password");
        }
    }

    /// <summary>The value of attribute <paramref name="name"/> ("x=value") in a comma-separated SCRAM message, or empty.</summary>
    private static ReadOnlySpan<byte> Attribute(ReadOnlySpan<byte> message, byte name)
    {
        while (!message.IsEmpty)
        {
            int comma = message.IndexOf((byte)',');
            ReadOnlySpan<byte> part = comma < 0 ? message : message[..comma];
            if (part.Length >= 2 && part[0] == name && part[1] == (byte)'=')
            {
                return part[2..];
            }

            message = comma < 0 ? default : message[(comma + 1)..];
        }

        return default;
    }

    private static bool StartsWithAscii(ReadOnlySpan<byte> value, string prefix)
    {
        for (int i = 0; i < prefix.Length; i++)
        {
            if (value[i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message) =>
        throw new PgProtocolException(message, SqlStates.InvalidAuthorizationSpecification);
}
