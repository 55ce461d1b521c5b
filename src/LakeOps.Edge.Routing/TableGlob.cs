namespace LakeOps.Edge.Routing;

/// <summary>
/// Table globs over qualified names, ASCII case-insensitive. <c>*</c> matches any run of characters
/// within one name part (never a '.'), <c>?</c> one such character. A glob matches a table when it
/// matches the whole qualified name or a trailing part of it that starts after a '.'
/// (<c>sales.*</c> matches <c>sales.orders</c> and <c>hive.sales.orders</c>); a bare table name is
/// also tried qualified with the request's current schema.
/// </summary>
public static class TableGlob
{
    public static bool IsMatch(string glob, string table, string schema)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(table);
        ReadOnlySpan<char> name = table;
        while (true)
        {
            if (Match(glob, name))
            {
                return true;
            }

            int dot = name.IndexOf('.');
            if (dot < 0)
            {
                break;
            }

            name = name[(dot + 1)..];
        }

        if (table.Contains('.', StringComparison.Ordinal) || string.IsNullOrEmpty(schema) || !glob.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        int length = schema.Length + 1 + table.Length;
        Span<char> qualified = length <= 256 ? stackalloc char[length] : new char[length];
        schema.AsSpan().CopyTo(qualified);
        qualified[schema.Length] = '.';
        table.AsSpan().CopyTo(qualified[(schema.Length + 1)..]);
        return Match(glob, qualified);
    }

    /// <summary>Whole-name glob match: the glob and the name must have the same number of '.'-separated parts, matched pairwise.</summary>
    public static bool Match(ReadOnlySpan<char> glob, ReadOnlySpan<char> text)
    {
        while (true)
        {
            int gDot = glob.IndexOf('.');
            int tDot = text.IndexOf('.');
            if ((gDot < 0) != (tDot < 0))
            {
                return false;
            }

            if (gDot < 0)
            {
                return MatchPart(glob, text);
            }

            if (!MatchPart(glob[..gDot], text[..tDot]))
            {
                return false;
            }

            glob = glob[(gDot + 1)..];
            text = text[(tDot + 1)..];
        }
    }

    /// <summary>One part, no dots: '*' any run, '?' one character; backtracks only to the last '*' (linear in practice).</summary>
    private static bool MatchPart(ReadOnlySpan<char> glob, ReadOnlySpan<char> text)
    {
        int g = 0, t = 0, starG = -1, starT = -1;
        while (t < text.Length)
        {
            if (g < glob.Length && glob[g] == '*')
            {
                starG = g++;
                starT = t;
                continue;
            }

            if (g < glob.Length && (glob[g] == '?' || Same(glob[g], text[t])))
            {
                g++;
                t++;
                continue;
            }

            if (starG >= 0)
            {
                g = starG + 1;
                t = ++starT;
                continue;
            }

            return false;
        }

        while (g < glob.Length && glob[g] == '*')
        {
            g++;
        }

        return g == glob.Length;
    }

    private static bool Same(char a, char b) => a == b || (char.IsAscii(a) && char.IsAscii(b) && (a | 0x20) == (b | 0x20) && char.IsAsciiLetter(a));
}
