namespace LakeOps.Edge.Sql;

/// <summary>
/// A stable 64-bit fingerprint of a statement's shape, for audit and history: two statements that
/// differ only in literal values, parameter numbers, whitespace, comments, semicolons or the case
/// of unquoted words get the same fingerprint. Literals and parameters become "?", and a list of
/// literals ("IN (1, 2, 3)") counts as one. FNV-1a over the normalised tokens: the same on every
/// run and machine, and allocation-free.
/// </summary>
public static class SqlFingerprint
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private const char TokenSeparator = '\u001F';

    public static ulong Compute(ReadOnlySpan<char> sql)
    {
        ulong hash = OffsetBasis;
        var lexer = new SqlLexer(sql);
        bool previousWasValue = false;
        bool pendingComma = false;
        while (true)
        {
            SqlToken token = lexer.Next();
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }

            if (token.IsTrivia || token.Kind == SqlTokenKind.Semicolon)
            {
                continue;
            }

            bool isValue = token.IsLiteral || token.Kind == SqlTokenKind.Parameter;
            if (token.Kind == SqlTokenKind.Comma && previousWasValue && !pendingComma)
            {
                // Hold the comma: if another value follows, the list collapses into one "?".
                pendingComma = true;
                continue;
            }

            if (pendingComma)
            {
                pendingComma = false;
                if (isValue)
                {
                    continue;
                }

                hash = Mix(hash, ',');
            }

            ReadOnlySpan<char> text = token.Text(sql);
            switch (token.Kind)
            {
                case SqlTokenKind.Word:
                    foreach (char c in text)
                    {
                        hash = Mix(hash, char.ToLowerInvariant(c));
                    }

                    break;
                case SqlTokenKind.QuotedIdentifier when text.Length >= 2 && text[0] == '"':
                    // "name" and name are the same identifier; the quoted form keeps its case.
                    foreach (char c in text[1..^1])
                    {
                        hash = Mix(hash, c);
                    }

                    break;
                default:
                    if (isValue)
                    {
                        hash = Mix(hash, '?');
                    }
                    else
                    {
                        foreach (char c in text)
                        {
                            hash = Mix(hash, c);
                        }
                    }

                    break;
            }

            hash = Mix(hash, TokenSeparator);
            previousWasValue = isValue;
        }

        if (pendingComma)
        {
            hash = Mix(hash, ',');
        }

        return hash;
    }

    private static ulong Mix(ulong hash, char c)
    {
        hash = (hash ^ (byte)c) * Prime;
        return (hash ^ (byte)(c >> 8)) * Prime;
    }
}
