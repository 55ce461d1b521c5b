using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Core.Tests.Security;

public class Md5PasswordTests
{
    // Produced by PostgreSQL 15.18: SET password_encryption = 'md5'; CREATE ROLE edge_helper_y LOGIN PASSWORD 'p';
    private const string PostgresHash = "md5eb1232232a2cc53d95e9d372a8928ef1";
    private const string PostgresUser = "edge_helper_y";

    [Fact]
    public void Hash_matches_postgres()
    {
        Assert.Equal(PostgresHash, Md5Password.Hash(PostgresUser, "p"));
        Assert.True(Md5Password.VerifyPassword(PostgresHash, PostgresUser, "p"));
        Assert.False(Md5Password.VerifyPassword(PostgresHash, PostgresUser, "P"));
        Assert.False(Md5Password.VerifyPassword(PostgresHash, "other", "p"));
    }

    [Fact]
    public void Client_response_is_checked_against_the_salt()
    {
        byte[] salt = [0x01, 0xFE, 0x7F, 0x80];
        string response = ClientResponse(PostgresUser, "p", salt);

        Assert.True(Md5Password.VerifyClientResponse(PostgresHash, salt, response));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, [0x01, 0xFE, 0x7F, 0x81], response));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt, ClientResponse(PostgresUser, "q", salt)));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt, response.ToUpperInvariant()));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt, response[..^1]));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt, response[..^1] + "é"));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt.AsSpan(0, 3), response));
        Assert.False(Md5Password.VerifyClientResponse(PostgresHash, salt, string.Empty));
    }

    [Theory]
    [InlineData("")]
    [InlineData("md5")]
    [InlineData("MD5eb1232232a2cc53d95e9d372a8928ef1")]
    [InlineData("md5EB1232232A2CC53D95E9D372A8928EF1")]
    [InlineData("md5eb1232232a2cc53d95e9d372a8928ef")]
    [InlineData("md5eb1232232a2cc53d95e9d372a8928ef1a")]
    [InlineData("md5eb1232232a2cc53d95e9d372a8928efg")]
    public void Malformed_stored_hashes_never_verify(string stored)
    {
        byte[] salt = [1, 2, 3, 4];
        Assert.False(Md5Password.VerifyPassword(stored, PostgresUser, "p"));
        Assert.False(Md5Password.VerifyClientResponse(stored, salt, ClientResponse(PostgresUser, "p", salt)));
    }

    [Fact]
    public void Long_passwords_hash()
    {
        string password = new('x', 1000);
        string hash = Md5Password.Hash("u", password);
        Assert.True(Md5Password.VerifyPassword(hash, "u", password));
        Assert.True(Md5Password.VerifyClientResponse(hash, [9, 9, 9, 9], ClientResponse("u", password, [9, 9, 9, 9])));
    }

    /// <summary>What libpq sends: "md5" + hex(md5(hex(md5(password + user)) + salt)), computed independently here.</summary>
    private static string ClientResponse(string user, string password, byte[] salt)
    {
#pragma warning disable CA5351 // The protocol under test is MD5.
        string inner = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(password + user)));
        byte[] outerInput = [.. Encoding.ASCII.GetBytes(inner), .. salt];
        return "md5" + Convert.ToHexStringLower(MD5.HashData(outerInput));
#pragma warning restore CA5351
    }
}
