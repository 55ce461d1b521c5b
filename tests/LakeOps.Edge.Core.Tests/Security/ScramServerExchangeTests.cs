using System.Text;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Core.Tests.Security;

public class ScramServerExchangeTests
{
    private static readonly ScramVerifier Verifier = ScramVerifier.Create("correct password", 4096);

    [Fact]
    public void Rfc7677_test_vector()
    {
        // RFC 7677 section 3: user "user", password "pencil".
        ScramVerifier verifier = ScramVerifier.Create("pencil", 4096, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="));
        var exchange = new ScramServerExchange(verifier, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

        Assert.True(exchange.TryHandleClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"u8, out byte[] serverFirst, out string? error), error);
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", Ascii(serverFirst));

        Assert.True(
            exchange.TryHandleClientFinal(
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8,
                out byte[] serverFinal,
                out error),
            error);
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Ascii(serverFinal));
        Assert.Null(error);
        Assert.True(exchange.Succeeded);
    }

    [Theory]
    [InlineData("n,,")]
    [InlineData("y,,")]
    public void Full_exchange_with_an_independent_client_succeeds(string gs2Header)
    {
        var client = new ScramClient("correct password", "fyko+d2lbbFgONRv9qkxdawL", gs2Header);
        var exchange = new ScramServerExchange(Verifier);

        Assert.True(exchange.TryHandleClientFirst(Bytes(client.ClientFirst()), out byte[] serverFirst, out string? error), error);
        Dictionary<char, string> attributes = ScramClient.Attributes(Ascii(serverFirst));
        Assert.StartsWith("fyko+d2lbbFgONRv9qkxdawL", attributes['r'], StringComparison.Ordinal);
        Assert.Equal(24 + 24, attributes['r'].Length);
        Assert.Equal(Convert.ToBase64String(Verifier.Salt), attributes['s']);
        Assert.Equal("4096", attributes['i']);

        Assert.True(exchange.TryHandleClientFinal(Bytes(client.ClientFinal(Ascii(serverFirst))), out byte[] serverFinal, out error), error);
        Assert.Equal(client.ExpectedServerFinal(), Ascii(serverFinal));
        Assert.True(exchange.Succeeded);
    }

    [Fact]
    public void Against_a_postgres_verifier_the_right_password_succeeds()
    {
        // Verifier for password 'p' produced by PostgreSQL 15.18 (see ScramVerifierTests).
        Assert.True(ScramVerifier.TryParse(
            "SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=",
            out ScramVerifier? verifier));

        Assert.True(Run(new ScramServerExchange(verifier!), new ScramClient("p", "abc"), out _));
        Assert.False(Run(new ScramServerExchange(verifier!), new ScramClient("q", "abc"), out _));
    }

    [Fact]
    public void Server_nonces_are_random()
    {
        var a = new ScramServerExchange(Verifier);
        var b = new ScramServerExchange(Verifier);
        a.TryHandleClientFirst("n,,n=,r=same"u8, out byte[] firstA, out _);
        b.TryHandleClientFirst("n,,n=,r=same"u8, out byte[] firstB, out _);

        Assert.NotEqual(ScramClient.Attributes(Ascii(firstA))['r'], ScramClient.Attributes(Ascii(firstB))['r']);
    }

    [Fact]
    public void Wrong_password_fails_without_a_server_signature()
    {
        var exchange = new ScramServerExchange(Verifier);

        Assert.False(Run(exchange, new ScramClient("wrong password", "nonce"), out string? error));
        Assert.Equal("password authentication failed", error);
        Assert.False(exchange.Succeeded);
    }

    [Fact]
    public void Channel_binding_must_match_the_gs2_header()
    {
        var client = new ScramClient("correct password", "nonce", "y,,");
        var exchange = new ScramServerExchange(Verifier);
        exchange.TryHandleClientFirst(Bytes(client.ClientFirst()), out byte[] serverFirst, out _);

        Assert.False(exchange.TryHandleClientFinal(Bytes(client.ClientFinal(Ascii(serverFirst), channelBinding: "biws")), out byte[] serverFinal, out string? error));
        Assert.Empty(serverFinal);
        Assert.StartsWith("SCRAM channel binding check failed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_nonce_must_be_the_combined_nonce()
    {
        var client = new ScramClient("correct password", "nonce");
        var exchange = new ScramServerExchange(Verifier);
        exchange.TryHandleClientFirst(Bytes(client.ClientFirst()), out _, out _);

        Assert.False(exchange.TryHandleClientFinal(Bytes(client.ClientFinal($"r=nonceXYZ,s={Convert.ToBase64String(Verifier.Salt)},i=4096")), out _, out string? error));
        Assert.Equal("SCRAM nonce does not match the nonce of server-first-message", error);
    }

    [Fact]
    public void Unknown_users_run_the_whole_exchange_and_then_fail()
    {
        ScramServerExchange exchange = ScramServerExchange.ForUnknownUser("ghost");
        var client = new ScramClient("any password", "nonce");

        Assert.True(exchange.TryHandleClientFirst(Bytes(client.ClientFirst()), out byte[] serverFirst, out _));
        Dictionary<char, string> attributes = ScramClient.Attributes(Ascii(serverFirst));
        Assert.Equal(16, Convert.FromBase64String(attributes['s']).Length);
        Assert.Equal("4096", attributes['i']);
        Assert.False(exchange.TryHandleClientFinal(Bytes(client.ClientFinal(Ascii(serverFirst))), out _, out string? error));
        Assert.Equal("password authentication failed", error);

        // The mock salt is stable per user name (a real user's salt does not change between attempts either).
        Assert.Equal(attributes['s'], MockSalt("ghost"));
        Assert.NotEqual(attributes['s'], MockSalt("phantom"));
    }

    [Fact]
    public void Even_a_proof_made_from_the_mock_verifiers_keys_cannot_succeed()
    {
        // Whatever the client sends, an unknown user never authenticates.
        for (int i = 0; i < 3; i++)
        {
            Assert.False(Run(ScramServerExchange.ForUnknownUser(), new ScramClient(string.Empty, "n" + i), out _));
        }
    }

    [Theory]
    [InlineData("", "empty SCRAM client-first-message")]
    [InlineData("x,,n=,r=abc", "expected gs2 header")]
    [InlineData("p=tls-server-end-point,,n=,r=abc", "channel binding (p=) is not supported")]
    [InlineData("n", "expected ',' after the channel binding flag")]
    [InlineData("n,", "expected empty authorization identity")]
    [InlineData("n,a=admin,n=,r=abc", "authorization identity (a=) is not supported")]
    [InlineData("n,,m=ext,n=,r=abc", "mandatory extensions (m=) are not supported")]
    [InlineData("n,,r=abc", "expected 'n='")]
    [InlineData("n,,n=user", "missing nonce")]
    [InlineData("n,,n=user,x=abc", "expected 'r='")]
    [InlineData("n,,n=,r=", "nonce must be non-empty")]
    [InlineData("n,,n=,r=a b", "nonce must be non-empty printable")]
    [InlineData("n,,n=,r=\u00e9", "nonce must be non-empty printable")]
    public void Malformed_client_first_fails_with_a_reason(string message, string expected)
    {
        var exchange = new ScramServerExchange(Verifier);

        Assert.False(exchange.TryHandleClientFirst(Encoding.UTF8.GetBytes(message), out byte[] serverFirst, out string? error));
        Assert.Empty(serverFirst);
        Assert.Contains(expected, error, StringComparison.Ordinal);

        // A failed exchange stays failed.
        Assert.False(exchange.TryHandleClientFirst("n,,n=,r=abc"u8, out _, out error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("", "missing proof")]
    [InlineData("c=biws,r={nonce}", "missing proof")]
    [InlineData("r={nonce},p={proof}", "expected 'c='")]
    [InlineData("c=biws,p={proof}", "expected 'r='")]
    [InlineData("c=biws,x=1,p={proof}", "expected 'r='")]
    [InlineData("c=!!!!,r={nonce},p={proof}", "channel binding check failed")]
    [InlineData("c=cD10bHMtdW5pcXVlLCxzb21lLWNoYW5uZWwtYmluZGluZy1kYXRh,r={nonce},p={proof}", "channel binding check failed")]
    [InlineData("c=eSws,r={nonce},p={proof}", "channel binding check failed")]
    [InlineData("c=biws,r=other,p={proof}", "nonce does not match")]
    [InlineData("c=biws,r={nonce},p=", "not 32 bytes")]
    [InlineData("c=biws,r={nonce},p=AAAA", "not 32 bytes")]
    [InlineData("c=biws,r={nonce},p=****", "not 32 bytes")]
    [InlineData("c=biws,r={nonce},p={proof}AAAA", "not 32 bytes")]
    [InlineData("c=biws,r={nonce},p={proof}", "password authentication failed")]
    public void Malformed_client_final_fails_with_a_reason(string template, string expected)
    {
        var exchange = new ScramServerExchange(Verifier);
        Assert.True(exchange.TryHandleClientFirst("n,,n=,r=abc"u8, out byte[] serverFirst, out _));
        string nonce = ScramClient.Attributes(Ascii(serverFirst))['r'];
        string message = template.Replace("{nonce}", nonce, StringComparison.Ordinal).Replace("{proof}", Convert.ToBase64String(new byte[32]), StringComparison.Ordinal);

        Assert.False(exchange.TryHandleClientFinal(Encoding.ASCII.GetBytes(message), out byte[] serverFinal, out string? error));
        Assert.Empty(serverFinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(exchange.Succeeded);
    }

    [Fact]
    public void Messages_out_of_order_fail()
    {
        var exchange = new ScramServerExchange(Verifier);
        Assert.False(exchange.TryHandleClientFinal("c=biws,r=abc,p=AAAA"u8, out _, out string? error));
        Assert.Equal("unexpected SCRAM client-final-message", error);

        var done = new ScramServerExchange(Verifier);
        Assert.True(Run(done, new ScramClient("correct password", "n"), out _));
        Assert.False(done.TryHandleClientFirst("n,,n=,r=abc"u8, out _, out error));
        Assert.Equal("unexpected SCRAM client-first-message", error);
    }

    [Fact]
    public void Random_input_never_throws()
    {
        var random = new Random(20240601);
        byte[] alphabet = "ncpy,=ra biws/+AZ09$\0\xff"u8.ToArray();
        for (int i = 0; i < 2000; i++)
        {
            byte[] first = RandomBytes(random, alphabet);
            byte[] final = RandomBytes(random, alphabet);
            var exchange = new ScramServerExchange(Verifier);
            bool ok = exchange.TryHandleClientFirst(first, out _, out string? error);
            Assert.True(ok || error is not null);
            if (!ok)
            {
                first = "n,,n=,r=abc"u8.ToArray();
                exchange = new ScramServerExchange(Verifier);
                Assert.True(exchange.TryHandleClientFirst(first, out _, out _));
            }

            Assert.False(exchange.TryHandleClientFinal(final, out _, out error));
            Assert.NotNull(error);
        }
    }

    private static byte[] RandomBytes(Random random, byte[] alphabet)
    {
        byte[] bytes = new byte[random.Next(0, 40)];
        for (int j = 0; j < bytes.Length; j++)
        {
            bytes[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
        }

        return bytes;
    }

    private static string MockSalt(string user)
    {
        ScramServerExchange exchange = ScramServerExchange.ForUnknownUser(user);
        exchange.TryHandleClientFirst("n,,n=,r=abc"u8, out byte[] serverFirst, out _);
        return ScramClient.Attributes(Ascii(serverFirst))['s'];
    }

    private static bool Run(ScramServerExchange exchange, ScramClient client, out string? error)
    {
        Assert.True(exchange.TryHandleClientFirst(Bytes(client.ClientFirst()), out byte[] serverFirst, out error), error);
        bool ok = exchange.TryHandleClientFinal(Bytes(client.ClientFinal(Ascii(serverFirst))), out byte[] serverFinal, out error);
        if (ok)
        {
            Assert.Equal(client.ExpectedServerFinal(), Ascii(serverFinal));
        }
        else
        {
            Assert.Empty(serverFinal);
        }

        return ok;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Ascii(byte[] bytes) => Encoding.ASCII.GetString(bytes);
}
