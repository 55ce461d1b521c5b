using System.Security.Cryptography;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Frontends.Tests.MySql;

public class CachingSha2PasswordTests
{
    private static readonly byte[] Scramble = "0123456789abcdefghij"u8.ToArray();

    [Fact]
    public void Fast_path_needs_a_cache_entry_for_the_same_credential()
    {
        using var sha2 = new CachingSha2Password();
        byte[] answer = CachingSha2Password.ComputeClientResponse("pw", Scramble);
        Assert.Equal(Sha2FastPathResult.NotCached, sha2.VerifyFastPath("alice", "v1", Scramble, answer));
        sha2.Remember("alice", "v1", "pw");
        Assert.Equal(Sha2FastPathResult.Success, sha2.VerifyFastPath("alice", "v1", Scramble, answer));
        Assert.Equal(Sha2FastPathResult.Mismatch, sha2.VerifyFastPath("alice", "v1", Scramble, CachingSha2Password.ComputeClientResponse("other", Scramble)));
        Assert.Equal(Sha2FastPathResult.Mismatch, sha2.VerifyFastPath("alice", "v1", "another-scramble-000"u8, answer));
        Assert.Equal(Sha2FastPathResult.Mismatch, sha2.VerifyFastPath("alice", "v1", Scramble, answer[..31]));

        // A changed credential (password rotated in the config) invalidates the entry.
        Assert.Equal(Sha2FastPathResult.NotCached, sha2.VerifyFastPath("alice", "v2", Scramble, answer));
        sha2.Forget("alice");
        Assert.Equal(Sha2FastPathResult.NotCached, sha2.VerifyFastPath("alice", "v1", Scramble, answer));
    }

    [Fact]
    public void Rsa_full_authentication_decrypts_what_a_client_encrypts()
    {
        using var sha2 = new CachingSha2Password();
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", sha2.PublicKeyPem, StringComparison.Ordinal);
        byte[] encrypted = CachingSha2Password.EncryptPassword("pässword", Scramble, sha2.PublicKeyPem);
        Assert.Equal("pässword", sha2.DecryptPassword(encrypted, Scramble));
        Assert.NotEqual("pässword", sha2.DecryptPassword(encrypted, "xxxxxxxxxxxxxxxxxxxx"u8));
        Assert.Null(sha2.DecryptPassword(RandomNumberGenerator.GetBytes(256), Scramble));

        using var other = new CachingSha2Password();
        Assert.Null(other.DecryptPassword(encrypted, Scramble));
    }

    [Fact]
    public void Cleartext_answers_must_be_nul_terminated_utf8()
    {
        Assert.Equal("pw", CachingSha2Password.ParseCleartext("pw\0"u8));
        Assert.Null(CachingSha2Password.ParseCleartext("pw"u8));
        Assert.Null(CachingSha2Password.ParseCleartext([0xFF, 0]));
        Assert.Empty(CachingSha2Password.ComputeClientResponse("", Scramble));
    }
}
