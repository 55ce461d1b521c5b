using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Protocols.Tests.Client;

public class ScramClientTests
{
    [Fact]
    public void Rfc7677_example_produces_the_published_proof_and_accepts_the_signature()
    {
        // RFC 7677 section 3: user "user", password "pencil".
        var client = new ScramClient("pencil", "rOprNGfwEbeRWgbNEkqO", "user");
        Assert.Equal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", Encoding.ASCII.GetString(client.CreateClientFirst()));
        byte[] final = client.HandleServerFirst("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"u8);
        Assert.Equal(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            Encoding.ASCII.GetString(final));
        client.VerifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8);
    }

    [Fact]
    public void Exchange_with_the_server_side_succeeds_for_the_right_password()
    {
        ScramVerifier verifier = ScramVerifier.Create("s3cret", iterations: 4096);
        var server = new ScramServerExchange(verifier);
        var client = new ScramClient("s3cret");
        Assert.True(server.TryHandleClientFirst(client.CreateClientFirst(), out byte[] serverFirst, out string? error), error);
        byte[] clientFinal = client.HandleServerFirst(serverFirst);
        Assert.True(server.TryHandleClientFinal(clientFinal, out byte[] serverFinal, out error), error);
        client.VerifyServerFinal(serverFinal);
        Assert.True(server.Succeeded);
    }

    [Fact]
    public void Exchange_with_a_wrong_password_is_refused_by_the_server()
    {
        var server = new ScramServerExchange(ScramVerifier.Create("right"));
        var client = new ScramClient("wrong");
        Assert.True(server.TryHandleClientFirst(client.CreateClientFirst(), out byte[] serverFirst, out _));
        Assert.False(server.TryHandleClientFinal(client.HandleServerFirst(serverFirst), out _, out string? error));
        Assert.Contains("password authentication failed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_that_does_not_know_the_password_is_detected()
    {
        // A server with a verifier for another password answers with a signature the client rejects.
        var honest = new ScramServerExchange(ScramVerifier.Create("pw"));
        var client = new ScramClient("pw");
        Assert.True(honest.TryHandleClientFirst(client.CreateClientFirst(), out byte[] serverFirst, out _));
        client.HandleServerFirst(serverFirst);
        var error = Assert.Throws<PgProtocolException>(() => client.VerifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8));
        Assert.Equal(SqlStates.InvalidAuthorizationSpecification, error.SqlState);
        Assert.Throws<PgProtocolException>(() => client.VerifyServerFinal("e=invalid-proof"u8));
        Assert.Throws<PgProtocolException>(() => client.VerifyServerFinal("v=not base64!"u8));
    }

    [Theory]
    [InlineData("r=someoneelse123456,s=QSXCR+Q6sek8bf92,i=4096")] // nonce does not extend ours
    [InlineData("r=fixednonce,s=QSXCR+Q6sek8bf92,i=4096")] // nonce not extended at all
    [InlineData("r=fixednonceXYZ,s=QSXCR+Q6sek8bf92,i=0")]
    [InlineData("r=fixednonceXYZ,s=QSXCR+Q6sek8bf92,i=-5")]
    [InlineData("r=fixednonceXYZ,s=QSXCR+Q6sek8bf92,i=99999999999")]
    [InlineData("r=fixednonceXYZ,s=***,i=4096")]
    [InlineData("r=fixednonceXYZ,i=4096")]
    [InlineData("m=ext,r=fixednonceXYZ,s=QSXCR+Q6sek8bf92,i=4096")]
    [InlineData("")]
    public void Malformed_server_first_messages_are_rejected(string serverFirst)
    {
        var client = new ScramClient("pw", "fixednonce");
        client.CreateClientFirst();
        var error = Assert.Throws<PgProtocolException>(() => client.HandleServerFirst(Encoding.ASCII.GetBytes(serverFirst)));
        Assert.Equal(SqlStates.InvalidAuthorizationSpecification, error.SqlState);
    }

    [Fact]
    public void Steps_out_of_order_throw()
    {
        var client = new ScramClient("pw");
        Assert.Throws<InvalidOperationException>(() => client.HandleServerFirst("r=x,s=QSXCR+Q6sek8bf92,i=1"u8));
        Assert.Throws<InvalidOperationException>(() => client.VerifyServerFinal("v=AAAA"u8));
    }

    [Fact]
    public void Md5_response_is_what_the_server_side_expects()
    {
        byte[] salt = [1, 2, 3, 4];
        string response = Md5Response.Compute("alice", "secret", salt);
        Assert.Matches("^md5[0-9a-f]{32}$", response);
        Assert.True(Md5Password.VerifyClientResponse(Md5Password.Hash("alice", "secret"), salt, response));
        Assert.False(Md5Password.VerifyClientResponse(Md5Password.Hash("alice", "other"), salt, response));
        Assert.NotEqual(response, Md5Response.Compute("alice", "secret", [4, 3, 2, 1]));
        Assert.Throws<ArgumentException>(() => Md5Response.Compute("alice", "secret", [1, 2, 3]));
    }
}
