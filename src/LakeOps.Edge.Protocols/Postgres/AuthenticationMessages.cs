namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>PasswordMessage ('p'): a cleartext or MD5-hashed password.</summary>
public static class PasswordMessage
{
    public static string ParsePassword(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "PasswordMessage");
        string password = reader.ReadCStringAsString();
        reader.End();
        return password;
    }
}

/// <summary>SASLInitialResponse ('p'): the chosen mechanism and the client-first message.</summary>
public sealed class SaslInitialResponse
{
    public SaslInitialResponse(string mechanism, byte[] data, bool hasData)
    {
        Mechanism = mechanism;
        Data = data;
        HasData = hasData;
    }

    public string Mechanism { get; }

    /// <summary>The initial response; empty when the client sent none (length -1).</summary>
    public byte[] Data { get; }

    /// <summary>False when the client sent length -1 (no initial response at all).</summary>
    public bool HasData { get; }

    public static SaslInitialResponse Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "SASLInitialResponse");
        string mechanism = reader.ReadCStringAsString();
        int length = reader.ReadInt32();
        byte[] data = [];
        bool hasData = length != -1;
        if (hasData)
        {
            data = reader.ReadBytes(length).ToArray(); // ReadBytes rejects other negative lengths
        }

        reader.End();
        return new SaslInitialResponse(mechanism, data, hasData);
    }
}

/// <summary>SASLResponse ('p'): the whole body is mechanism data (e.g. SCRAM client-final message).</summary>
public static class SaslResponse
{
    public static byte[] Parse(ReadOnlySpan<byte> body) => body.ToArray();
}

/// <summary>The Int32 code that follows 'R' and tells the authentication requests apart.</summary>
public enum AuthenticationKind
{
    Ok = 0,
    KerberosV5 = 2,
    CleartextPassword = 3,
    Md5Password = 5,
    Gss = 7,
    GssContinue = 8,
    Sspi = 9,
    Sasl = 10,
    SaslContinue = 11,
    SaslFinal = 12,
}

/// <summary>Authentication* ('R') as a client sees it.</summary>
public sealed class AuthenticationMessage
{
    public AuthenticationMessage(AuthenticationKind kind, byte[] payload, IReadOnlyList<string> saslMechanisms)
    {
        Kind = kind;
        Payload = payload;
        SaslMechanisms = saslMechanisms;
    }

    public AuthenticationKind Kind { get; }

    /// <summary>The 4-byte salt (Md5Password) or the mechanism data (SaslContinue, SaslFinal, GssContinue); else empty.</summary>
    public byte[] Payload { get; }

    /// <summary>Mechanisms offered by AuthenticationSASL; else empty.</summary>
    public IReadOnlyList<string> SaslMechanisms { get; }

    public static AuthenticationMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Authentication");
        int code = reader.ReadInt32();
        var kind = (AuthenticationKind)code;
        byte[] payload = [];
        IReadOnlyList<string> mechanisms = [];
        switch (kind)
        {
            case AuthenticationKind.Ok:
            case AuthenticationKind.KerberosV5:
            case AuthenticationKind.CleartextPassword:
            case AuthenticationKind.Gss:
            case AuthenticationKind.Sspi:
                break;
            case AuthenticationKind.Md5Password:
                payload = reader.ReadBytes(4).ToArray();
                break;
            case AuthenticationKind.Sasl:
                mechanisms = ReadMechanisms(ref reader);
                break;
            case AuthenticationKind.SaslContinue:
            case AuthenticationKind.SaslFinal:
            case AuthenticationKind.GssContinue:
                payload = reader.ReadRemaining().ToArray();
                break;
            default:
                PgThrow.Malformed("Authentication", "unknown authentication request code");
                break;
        }

        reader.End();
        return new AuthenticationMessage(kind, payload, mechanisms);
    }

    private static List<string> ReadMechanisms(ref PgReader reader)
    {
        var mechanisms = new List<string>();
        while (true)
        {
            string name = reader.ReadCStringAsString();
            if (name.Length == 0)
            {
                return mechanisms; // the list ends with an empty name
            }

            mechanisms.Add(name);
        }
    }
}
