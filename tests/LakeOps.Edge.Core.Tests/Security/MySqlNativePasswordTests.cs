using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Core.Tests.Security;

public class MySqlNativePasswordTests
{
    [Fact]
    public void Hash_is_star_and_hex_of_double_sha1()
    {
        string expected = "*" + Convert.ToHexString(SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes("pass word"))));

        Assert.Equal(expected, MySqlNativePassword.Hash("pass word"));
        Assert.True(MySqlNativePassword.IsWellFormed(expected));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("*ABC")]
    [InlineData("#0000000000000000000000000000000000000000")]
    [InlineData("*000000000000000000000000000000000000000g")]
    [InlineData("*000000000000000000000000000000000000000a")]
    public void Malformed_hashes_are_refused(string? hash) => Assert.False(MySqlNativePassword.IsWellFormed(hash));

    [Fact]
    public void Client_response_verifies_only_with_the_right_password_and_scramble()
    {
        byte[] scramble = RandomNumberGenerator.GetBytes(20);
        string stored = MySqlNativePassword.Hash("s3cret");
        byte[] response = MySqlNativePassword.ComputeClientResponse("s3cret", scramble);

        Assert.True(MySqlNativePassword.VerifyClientResponse(stored, scramble, response));
        Assert.False(MySqlNativePassword.VerifyClientResponse(MySqlNativePassword.Hash("other"), scramble, response));
        Assert.False(MySqlNativePassword.VerifyClientResponse(stored, RandomNumberGenerator.GetBytes(20), response));
        Assert.False(MySqlNativePassword.VerifyClientResponse(stored, scramble, response.AsSpan(1)));
    }

    [Fact]
    public void Empty_password_sends_an_empty_response() =>
        Assert.Empty(MySqlNativePassword.ComputeClientResponse(string.Empty, new byte[20]));
}
