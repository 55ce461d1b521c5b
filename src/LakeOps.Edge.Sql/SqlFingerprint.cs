namespace LakeOps.Edge.Sql;

/// <summary>
/// A stable 64-bit fingerprint of a statement's shape, for audit, routing and history: two statements
/// that differ only in literal values, parameter numbers, whitespace, comments, semicolons or the case
/// of unquoted words get the same fingerprint. Literals and parameters become "?", and a list of
/// literals ("IN (1, 2, 3)") counts as one. FNV-1a over the normalised tokens: the same on every
/// run and machine, and allocation-free.
/// </summary>
public static class SqlFingerprint
{
    public static ulong Compute(ReadOnlySpan<char> sql) => Compute(sql, SqlSyntax.Postgres);

    public static ulong Compute(ReadOnlySpan<char> sql, SqlSyntax syntax)
    {
        var builder = FingerprintBuilder.Create();
        var lexer = new SqlLexer(sql, syntax);
        while (true)
        {
            SqlToken token = lexer.Next();
            if (token.Kind == SqlTokenKind.End)
            {
                return builder.Finish();
            }

            builder.Add(token, sql);
        }
    }
}

/// <summary>
/// The fingerprint as a token sink, so one lexer pass can feed it alongside other analysis
/// (see <see cref="SqlAnalysis"/>). Feed every token (trivia is skipped here), then <see cref="Finish"/>.
/// </summary>
public struct FingerprintBuilder
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private const char TokenSeparator = '\u001F';

    private ulong _hash;
    private bool _previousWasValue;
    private bool _pendingComma;

    public static FingerprintBuilder Create() => new() { _hash = OffsetBasis };

    public void Add(SqlToken token, ReadOnlySpan<char> sql)
    {
        if (token.IsTrivia || token.Kind is SqlTokenKind.Semicolon or SqlTokenKind.End)
        {
            return;
        }

        ulong hash = _hash;
        bool isValue = token.IsLiteral || token.Kind == SqlTokenKind.Parameter;
        if (token.Kind == SqlTokenKind.Comma && _previousWasValue && !_pendingComma)
        {
            // Hold the comma: if another value follows, the list collapses into one "?".
            _pendingComma = true;
            return;
        }

        if (_pendingComma)
        {
            _pendingComma = false;
            if (isValue)
            {
                return;
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
            case SqlTokenKind.QuotedIdentifier when text.Length >= 2 && text[0] is '"' or '`':
                // "name" (`name`) and name are the same identifier; the quoted form keeps its case.
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

        _hash = Mix(hash, TokenSeparator);
        _previousWasValue = isValue;
    }

    public readonly ulong Finish() => _pendingComma ? Mix(_hash, ',') : _hash;

    private static ulong Mix(ulong hash, char c)
    {
        hash = (hash ^ (byte)c) * Prime;
        return (hash ^ (byte)(c >> 8)) * Prime;
    }
}
