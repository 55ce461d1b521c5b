namespace LakeOps.Edge.Sql.Tests;

public class SqlFingerprintTests
{
    [Theory]
    [InlineData("select 1", "SELECT  2 -- x")]
    [InlineData("select * from t where a = 'x'", "SELECT *\n  FROM T\n WHERE A = $$y$$;")]
    [InlineData("select * from t where a = $1", "select * from t where a = 42")]
    [InlineData("select * from t where a in (1, 2, 3)", "select * from t where a in (4)")]
    [InlineData("select \"a\" from t", "select A from t")]
    [InlineData("select /* hint */ e'x' ", "select 'y'")]
    public void Same_shape_gives_same_fingerprint(string a, string b)
    {
        Assert.Equal(SqlFingerprint.Compute(a), SqlFingerprint.Compute(b));
    }

    [Theory]
    [InlineData("select a", "select b")]
    [InlineData("select \"A\" from t", "select a from t")]
    [InlineData("select ab", "select a b")]
    [InlineData("select * from t where a = 1", "select * from t where a > 1")]
    [InlineData("select f(1, a)", "select f(a)")]
    [InlineData("select 1 from t", "select 1 from u")]
    public void Different_shape_gives_different_fingerprint(string a, string b)
    {
        Assert.NotEqual(SqlFingerprint.Compute(a), SqlFingerprint.Compute(b));
    }

    [Fact]
    public void Fingerprint_is_stable_across_runs()
    {
        // FNV-1a over the normalised tokens: a fixed function of the text, never seeded per process.
        ulong expected = Fnv("select");
        Assert.NotEqual(0UL, SqlFingerprint.Compute("select 1"));
        Assert.Equal(SqlFingerprint.Compute("SELECT 1"), SqlFingerprint.Compute("select 99"));
        Assert.Equal(expected, SqlFingerprint.Compute("SELECT"));
    }

    [Fact]
    public void Compute_does_not_allocate()
    {
        const string sql = "SELECT a, b FROM t WHERE c IN (1, 2, 3) AND d = 'x' -- comment";
        Assert.Equal(0, Allocations.Of(() => SqlFingerprint.Compute(sql)));
    }

    /// <summary>Reference FNV-1a 64 over UTF-16 code units plus the token separator, for a one-word statement.</summary>
    private static ulong Fnv(string word)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in word + "\u001F")
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }

        return hash;
    }
}
