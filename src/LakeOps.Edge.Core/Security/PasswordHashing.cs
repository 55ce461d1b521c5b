namespace LakeOps.Edge.Core.Security;

/// <summary>What <c>lakeops-edge hash-password</c> prints: values for users.NAME.scram / users.NAME.md5.</summary>
public static class PasswordHashing
{
    /// <summary>A new SCRAM-SHA-256 verifier (random salt, 4096 iterations) in PostgreSQL's text format.</summary>
    public static string CreateScramVerifier(string password) => ScramVerifier.Create(password).ToString();

    /// <summary>"md5" + hex(md5(password + user)); the hash is bound to the user name.</summary>
    public static string CreateMd5(string user, string password) => Md5Password.Hash(user, password);
}
