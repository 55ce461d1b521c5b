using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LakeOps.Edge.Core.Security;

/// <summary>
/// The server side of one SCRAM-SHA-256 authentication (RFC 5802 / RFC 7677) the way PostgreSQL runs it:
/// the user name comes from the startup packet (libpq sends an empty <c>n=</c>), and channel binding is
/// not offered, so the client's gs2 header must be <c>n,,</c> or <c>y,,</c>.
/// </summary>
/// <remarks>
/// Call <see cref="TryHandleClientFirst"/> once, then <see cref="TryHandleClientFinal"/> once. Malformed
/// input yields false and an error text, never an exception. After any failure the exchange is dead.
/// </remarks>
public sealed class ScramServerExchange
{
    /// <summary>Random bytes the server adds to the client's nonce (PostgreSQL uses 18).</summary>
    private const int ServerNonceLength = 18;

    private const string AuthenticationFailed = "password authentication failed";

    /// <summary>Per-process secret that makes the mock salt of an unknown user stable but unguessable.</summary>
    private static readonly byte[] MockSecret = RandomNumberGenerator.GetBytes(32);

    private readonly ScramVerifier _verifier;
    private readonly bool _alwaysFail;
    private readonly string? _serverNonceSuffix;

    private State _state;
    private byte[]? _gs2Header;
    private byte[]? _clientFirstBare;
    private byte[]? _serverFirst;
    private byte[]? _nonce;

    public ScramServerExchange(ScramVerifier verifier)
        : this(verifier, alwaysFail: false, serverNonceSuffix: null)
    {
    }

    /// <summary>For reproducible test vectors: a fixed server nonce suffix instead of 18 random bytes.</summary>
    internal ScramServerExchange(ScramVerifier verifier, string serverNonceSuffix)
        : this(verifier, alwaysFail: false, serverNonceSuffix)
    {
    }

    private ScramServerExchange(ScramVerifier verifier, bool alwaysFail, string? serverNonceSuffix)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        _verifier = verifier;
        _alwaysFail = alwaysFail;
        _serverNonceSuffix = serverNonceSuffix;
    }

    private enum State
    {
        ExpectClientFirst,
        ExpectClientFinal,
        Succeeded,
        Failed,
    }

    /// <summary>True once the client's proof was accepted.</summary>
    public bool Succeeded => _state == State.Succeeded;

    /// <summary>
    /// An exchange for a user that does not exist (or has no SCRAM verifier). Like PostgreSQL it runs the whole
    /// exchange with a mock verifier and fails only at the proof, so the answer does not reveal whether the user
    /// exists. Pass the user name so the mock salt stays the same across attempts, as a real user's would.
    /// </summary>
    public static ScramServerExchange ForUnknownUser(string? userName = null)
    {
        byte[] salt = new byte[16];
        Span<byte> digest = stackalloc byte[32];
        HMACSHA256.HashData(MockSecret, Encoding.UTF8.GetBytes(userName ?? string.Empty), digest);
        digest[..salt.Length].CopyTo(salt);
        var mock = new ScramVerifier(
            ScramVerifier.DefaultIterations,
            salt,
            RandomNumberGenerator.GetBytes(ScramVerifier.KeyLength),
            RandomNumberGenerator.GetBytes(ScramVerifier.KeyLength));
        return new ScramServerExchange(mock, alwaysFail: true, serverNonceSuffix: null);
    }

    /// <summary>Handles client-first-message (the SASLInitialResponse data) and produces server-first-message.</summary>
    public bool TryHandleClientFirst(ReadOnlySpan<byte> clientFirstMessage, out byte[] serverFirstMessage, out string? error)
    {
        serverFirstMessage = [];
        if (_state != State.ExpectClientFirst)
        {
            return Fail("unexpected SCRAM client-first-message", out error);
        }

        if (!TryParseClientFirst(clientFirstMessage, out int gs2Length, out ReadOnlySpan<byte> clientNonce, out error))
        {
            _state = State.Failed;
            return false;
        }

        _gs2Header = clientFirstMessage[..gs2Length].ToArray();
        _clientFirstBare = clientFirstMessage[gs2Length..].ToArray();

        // nonce = client nonce + base64(18 random bytes); 18 bytes encode to 24 chars without padding.
        string suffix = _serverNonceSuffix ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(ServerNonceLength));
        byte[] nonce = new byte[clientNonce.Length + suffix.Length];
        clientNonce.CopyTo(nonce);
        Encoding.ASCII.GetBytes(suffix, nonce.AsSpan(clientNonce.Length));
        _nonce = nonce;

        string tail = string.Create(
            CultureInfo.InvariantCulture,
            $",s={Convert.ToBase64String(_verifier.Salt)},i={_verifier.Iterations}");
        byte[] serverFirst = new byte[2 + nonce.Length + tail.Length];
        "r="u8.CopyTo(serverFirst);
        nonce.CopyTo(serverFirst.AsSpan(2));
        Encoding.ASCII.GetBytes(tail, serverFirst.AsSpan(2 + nonce.Length));
        _serverFirst = serverFirst;

        _state = State.ExpectClientFinal;
        serverFirstMessage = serverFirst;
        return true;
    }

    /// <summary>
    /// Handles client-final-message (the SASLResponse data): checks channel binding, nonce and proof, and on
    /// success produces server-final-message <c>v=&lt;ServerSignature&gt;</c>.
    /// </summary>
    public bool TryHandleClientFinal(ReadOnlySpan<byte> clientFinalMessage, out byte[] serverFinalMessage, out string? error)
    {
        serverFinalMessage = [];
        if (_state != State.ExpectClientFinal)
        {
            return Fail("unexpected SCRAM client-final-message", out error);
        }

        if (!TryParseClientFinal(clientFinalMessage, out int withoutProofLength, out ReadOnlySpan<byte> channelBinding, out ReadOnlySpan<byte> nonce, out ReadOnlySpan<byte> proofText, out error))
        {
            _state = State.Failed;
            return false;
        }

        // c= must carry exactly the gs2 header of client-first (biws = "n,,", eSws = "y,,").
        Span<byte> decodedBinding = stackalloc byte[16];
        if (!TryDecodeBase64(channelBinding, decodedBinding, out int bindingLength)
            || !decodedBinding[..bindingLength].SequenceEqual(_gs2Header))
        {
            return Fail("SCRAM channel binding check failed: c= does not match the gs2 header of client-first-message", out error);
        }

        if (!nonce.SequenceEqual(_nonce))
        {
            return Fail("SCRAM nonce does not match the nonce of server-first-message", out error);
        }

        Span<byte> proof = stackalloc byte[ScramVerifier.KeyLength + 3];
        if (!TryDecodeBase64(proofText, proof, out int proofLength) || proofLength != ScramVerifier.KeyLength)
        {
            return Fail("SCRAM client proof is not 32 bytes of base64", out error);
        }

        // AuthMessage = client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof
        byte[] authMessage = ArrayPool<byte>.Shared.Rent(_clientFirstBare!.Length + _serverFirst!.Length + withoutProofLength + 2);
        try
        {
            int length = 0;
            Append(authMessage, ref length, _clientFirstBare);
            authMessage[length++] = (byte)',';
            Append(authMessage, ref length, _serverFirst);
            authMessage[length++] = (byte)',';
            Append(authMessage, ref length, clientFinalMessage[..withoutProofLength]);
            ReadOnlySpan<byte> auth = authMessage.AsSpan(0, length);

            // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the client knew the password if H(ClientKey) == StoredKey.
            Span<byte> clientKey = stackalloc byte[ScramVerifier.KeyLength];
            HMACSHA256.HashData(_verifier.StoredKey, auth, clientKey);
            for (int i = 0; i < clientKey.Length; i++)
            {
                clientKey[i] ^= proof[i];
            }

            Span<byte> computedStoredKey = stackalloc byte[ScramVerifier.KeyLength];
            SHA256.HashData(clientKey, computedStoredKey);
            bool proofMatches = CryptographicOperations.FixedTimeEquals(computedStoredKey, _verifier.StoredKey);
            if (!proofMatches || _alwaysFail)
            {
                return Fail(AuthenticationFailed, out error);
            }

            Span<byte> serverSignature = stackalloc byte[ScramVerifier.KeyLength];
            HMACSHA256.HashData(_verifier.ServerKey, auth, serverSignature);
            byte[] serverFinal = new byte[2 + Base64.GetMaxEncodedToUtf8Length(ScramVerifier.KeyLength)];
            "v="u8.CopyTo(serverFinal);
            Base64.EncodeToUtf8(serverSignature, serverFinal.AsSpan(2), out _, out _);
            serverFinalMessage = serverFinal;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(authMessage);
        }

        _state = State.Succeeded;
        error = null;
        return true;
    }

    /// <summary>gs2-header client-first-message-bare, where gs2-header = ("n" | "y") "," "," and bare = "n=" user "," "r=" nonce ["," ext].</summary>
    private static bool TryParseClientFirst(ReadOnlySpan<byte> message, out int gs2Length, out ReadOnlySpan<byte> clientNonce, out string? error)
    {
        gs2Length = 0;
        clientNonce = default;
        if (message.IsEmpty)
        {
            error = "empty SCRAM client-first-message";
            return false;
        }

        switch (message[0])
        {
            case (byte)'n' or (byte)'y':
                break;
            case (byte)'p':
                error = "SCRAM channel binding (p=) is not supported: this server offers SCRAM-SHA-256 without channel binding (SCRAM-SHA-256-PLUS); connect with channel_binding=prefer or disable";
                return false;
            default:
                error = "malformed SCRAM client-first-message: expected gs2 header 'n,,' or 'y,,'";
                return false;
        }

        if (message.Length < 2 || message[1] != (byte)',')
        {
            error = "malformed SCRAM client-first-message: expected ',' after the channel binding flag";
            return false;
        }

        if (message.Length < 3 || message[2] != (byte)',')
        {
            error = message[2..].StartsWith("a="u8)
                ? "SCRAM authorization identity (a=) is not supported"
                : "malformed SCRAM client-first-message: expected empty authorization identity";
            return false;
        }

        gs2Length = 3;
        ReadOnlySpan<byte> bare = message[3..];
        if (bare.StartsWith("m="u8))
        {
            error = "SCRAM mandatory extensions (m=) are not supported";
            return false;
        }

        // The user name is ignored: PostgreSQL takes it from the startup packet (libpq sends "n=").
        if (!bare.StartsWith("n="u8))
        {
            error = "malformed SCRAM client-first-message: expected 'n=' (user name attribute)";
            return false;
        }

        int comma = bare.IndexOf((byte)',');
        if (comma < 0)
        {
            error = "malformed SCRAM client-first-message: missing nonce attribute 'r='";
            return false;
        }

        ReadOnlySpan<byte> afterUser = bare[(comma + 1)..];
        if (!afterUser.StartsWith("r="u8))
        {
            error = "malformed SCRAM client-first-message: expected 'r=' (nonce) after the user name";
            return false;
        }

        ReadOnlySpan<byte> nonce = afterUser[2..];
        int end = nonce.IndexOf((byte)',');
        nonce = end < 0 ? nonce : nonce[..end];
        if (nonce.IsEmpty || !IsPrintable(nonce))
        {
            error = "malformed SCRAM client-first-message: the nonce must be non-empty printable ASCII without ','";
            return false;
        }

        clientNonce = nonce;
        error = null;
        return true;
    }

    /// <summary>client-final-message = "c=" cbind "," "r=" nonce ["," ext] "," "p=" proof.</summary>
    private static bool TryParseClientFinal(
        ReadOnlySpan<byte> message,
        out int withoutProofLength,
        out ReadOnlySpan<byte> channelBinding,
        out ReadOnlySpan<byte> nonce,
        out ReadOnlySpan<byte> proof,
        out string? error)
    {
        withoutProofLength = 0;
        channelBinding = default;
        nonce = default;
        proof = default;

        // The proof is always the last attribute.
        int proofAt = message.LastIndexOf(",p="u8);
        if (proofAt < 0)
        {
            error = "malformed SCRAM client-final-message: missing proof attribute 'p='";
            return false;
        }

        ReadOnlySpan<byte> withoutProof = message[..proofAt];
        proof = message[(proofAt + 3)..];
        if (!withoutProof.StartsWith("c="u8))
        {
            error = "malformed SCRAM client-final-message: expected 'c=' (channel binding) first";
            return false;
        }

        int comma = withoutProof.IndexOf((byte)',');
        if (comma < 0 || !withoutProof[(comma + 1)..].StartsWith("r="u8))
        {
            error = "malformed SCRAM client-final-message: expected 'r=' (nonce) after 'c='";
            return false;
        }

        channelBinding = withoutProof[2..comma];
        ReadOnlySpan<byte> rest = withoutProof[(comma + 3)..];
        int end = rest.IndexOf((byte)',');
        nonce = end < 0 ? rest : rest[..end];
        withoutProofLength = proofAt;
        error = null;
        return true;
    }

    private static bool TryDecodeBase64(ReadOnlySpan<byte> utf8, Span<byte> destination, out int written)
    {
        written = 0;
        if (Base64.GetMaxDecodedFromUtf8Length(utf8.Length) > destination.Length)
        {
            return false;
        }

        OperationStatus status = Base64.DecodeFromUtf8(utf8, destination, out int consumed, out written);
        return status == OperationStatus.Done && consumed == utf8.Length;
    }

    private static bool IsPrintable(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is < 0x21 or > 0x7E || b == (byte)',')
            {
                return false;
            }
        }

        return true;
    }

    private static void Append(byte[] destination, ref int length, ReadOnlySpan<byte> value)
    {
        value.CopyTo(destination.AsSpan(length));
        length += value.Length;
    }

    private bool Fail(string message, out string? error)
    {
        _state = State.Failed;
        error = message;
        return false;
    }
}
