using System.Text.RegularExpressions;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge.Core.Tests.Security;

public class ScramVerifierTests
{
    // Produced by PostgreSQL 15.18: SET password_encryption = 'scram-sha-256'; CREATE ROLE ... PASSWORD '...';
    // SELECT rolpassword FROM pg_authid. Real data from another implementation, not output of this code.
    private const string PostgresVerifierForP =
        "SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=";

    private const string PostgresVerifierForStaple =
        "SCRAM-SHA-256$4096:04s/8gmxCeuDKfDxFJvYeQ==$IWB1gy5WhvJqTmwq1M/7ytVEgXCR8zJNpO1ehh7kXzk=:feWHtYxO1tslAhfPS5T/xLgJ/7epoem3np8ViPHVsQ0=";

    [Theory]
    [InlineData(PostgresVerifierForP, "p")]
    [InlineData(PostgresVerifierForStaple, "correct horse battery staple!")]
    public void Accepts_verifiers_produced_by_postgres(string text, string password)
    {
        Assert.True(ScramVerifier.TryParse(text, out ScramVerifier? verifier));

        Assert.True(verifier!.VerifyPassword(password));
        Assert.False(verifier.VerifyPassword(password + "x"));
        Assert.False(verifier.VerifyPassword(password.ToUpperInvariant()));
        Assert.Equal(text, verifier.ToString());

        // Deriving with PostgreSQL's salt and iteration count reproduces PostgreSQL's keys.
        Assert.Equal(verifier, ScramVerifier.Create(password, verifier.Iterations, verifier.Salt));
    }

    [Fact]
    public void Create_formats_like_postgres_and_round_trips()
    {
        ScramVerifier created = ScramVerifier.Create("s3cret", 4096);

        string text = created.ToString();
        Assert.Matches(new Regex(@"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$"), text);
        Assert.True(ScramVerifier.TryParse(text, out ScramVerifier? parsed));
        Assert.Equal(created, parsed);
        Assert.Equal(created.GetHashCode(), parsed!.GetHashCode());
        Assert.True(parsed.VerifyPassword("s3cret"));
        Assert.False(parsed.VerifyPassword("s3cre"));
    }

    [Fact]
    public void Create_uses_a_fresh_random_salt_and_copies_a_given_one()
    {
        ScramVerifier a = ScramVerifier.Create("same");
        ScramVerifier b = ScramVerifier.Create("same");
        Assert.Equal(16, a.Salt.Length);
        Assert.NotEqual(a.Salt, b.Salt);
        Assert.NotEqual(a, b);

        byte[] salt = [1, 2, 3, 4];
        ScramVerifier withSalt = ScramVerifier.Create("same", 10, salt);
        salt[0] = 99;
        Assert.Equal(1, withSalt.Salt[0]);
        Assert.Equal(10, withSalt.Iterations);
        Assert.Equal(ScramVerifier.Create("same", 10, [1, 2, 3, 4]), withSalt);
    }

    [Fact]
    public void Long_and_non_ascii_passwords_verify()
    {
        string longPassword = new('ä', 300);
        ScramVerifier verifier = ScramVerifier.Create(longPassword, 16);
        Assert.True(verifier.VerifyPassword(longPassword));
        Assert.False(verifier.VerifyPassword(longPassword[..299]));

        ScramVerifier unicode = ScramVerifier.Create("pässwörd ✓", 16);
        Assert.True(unicode.VerifyPassword("pässwörd ✓"));
        Assert.False(unicode.VerifyPassword("passwörd ✓"));
    }

    [Fact]
    public void Create_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ScramVerifier.Create("p", 0));
        Assert.Throws<ArgumentException>(() => ScramVerifier.Create("p", 4096, []));
    }

    [Theory]
    [InlineData("")]
    [InlineData("md5abcdef")]
    [InlineData("SCRAM-SHA-256$")]
    [InlineData("SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==")]
    [InlineData("SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=")]
    [InlineData("SCRAM-SHA-256$x:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$-1:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$99999999999:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$4096:$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$4096:q5Wf*WfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$q5WfWfNQdyOBtccEEH/ARA==:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    [InlineData("SCRAM-SHA-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:q5WfWfNQdyOBtccEEH/ARA==")]
    [InlineData("scram-sha-256$4096:q5WfWfNQdyOBtccEEH/ARA==$gAZGOaoBeYkgRU4bxrIvXahG65SxLvPHUo8U4Y2+gGQ=:oqVxSLtWsEfhxzAsesNUjWU4x3e5V9GiyKIGtiQDJws=")]
    public void TryParse_rejects_malformed_text(string text)
    {
        Assert.False(ScramVerifier.TryParse(text, out ScramVerifier? verifier));
        Assert.Null(verifier);
    }

    [Fact]
    public void PasswordHashing_produces_config_values()
    {
        string scram = PasswordHashing.CreateScramVerifier("edge-secret");
        Assert.True(ScramVerifier.TryParse(scram, out ScramVerifier? verifier));
        Assert.Equal(ScramVerifier.DefaultIterations, verifier!.Iterations);
        Assert.True(verifier.VerifyPassword("edge-secret"));

        string md5 = PasswordHashing.CreateMd5("edge", "edge-secret");
        Assert.True(Md5Password.VerifyPassword(md5, "edge", "edge-secret"));
        Assert.False(Md5Password.VerifyPassword(md5, "other", "edge-secret"));
    }
}
