using System.Buffers;

namespace LakeOps.Edge.Sql;

/// <summary>
/// A lexer over a span, PostgreSQL rules by default; <see cref="SqlSyntax"/> selects the MySQL or
/// Trino differences (quotes, comments, escapes). It never allocates and never throws: unterminated
/// strings, comments and quoted identifiers simply run to the end of the input, and characters it
/// does not know become <see cref="SqlTokenKind.Other"/> tokens. Every character of the input
/// belongs to exactly one token, so concatenating all tokens gives back the input.
/// </summary>
public ref struct SqlLexer
{
    private readonly ReadOnlySpan<char> _sql;
    private readonly SqlSyntax _syntax;
    private int _position;

    private static readonly SearchValues<char> WhitespaceChars = SearchValues.Create(" \t\n\r\f\v");

    private static readonly SearchValues<char> AsciiIdentifierChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$");

    public SqlLexer(ReadOnlySpan<char> sql)
        : this(sql, SqlSyntax.Postgres)
    {
    }

    public SqlLexer(ReadOnlySpan<char> sql, SqlSyntax syntax)
    {
        _sql = sql;
        _syntax = syntax;
        _position = 0;
    }

    public readonly SqlSyntax Syntax => _syntax;

    /// <summary>Where the next token starts.</summary>
    public readonly int Position => _position;

    public readonly ReadOnlySpan<char> Sql => _sql;

    /// <summary>The next token, trivia included; <see cref="SqlTokenKind.End"/> at the end.</summary>
    public SqlToken Next()
    {
        int start = _position;
        ReadOnlySpan<char> s = _sql;
        if (start >= s.Length)
        {
            return new SqlToken(SqlTokenKind.End, s.Length, 0);
        }

        char c = s[start];
        char next = start + 1 < s.Length ? s[start + 1] : '\0';
        SqlTokenKind kind;
        int end;
        switch (c)
        {
            case ' ' or '\t' or '\n' or '\r' or '\f' or '\v':
                int spaces = s[(start + 1)..].IndexOfAnyExcept(WhitespaceChars);
                end = spaces < 0 ? s.Length : start + 1 + spaces;
                kind = SqlTokenKind.Whitespace;
                break;
            // MySQL: "--" starts a comment only when a space or control character (or the end) follows.
            case '-' when next == '-' && (_syntax != SqlSyntax.MySql || start + 2 >= s.Length || s[start + 2] <= ' '):
            case '#' when _syntax == SqlSyntax.MySql:
                int newline = s[start..].IndexOf('\n');
                end = newline < 0 ? s.Length : start + newline;
                kind = SqlTokenKind.LineComment;
                break;
            case '/' when next == '*':
                end = ScanBlockComment(s, start, nested: _syntax == SqlSyntax.Postgres);
                kind = SqlTokenKind.BlockComment;
                break;
            case '\'':
                end = ScanQuoted(s, start + 1, '\'', backslashEscapes: _syntax == SqlSyntax.MySql);
                kind = SqlTokenKind.String;
                break;
            case '"' when _syntax == SqlSyntax.MySql:
                end = ScanQuoted(s, start + 1, '"', backslashEscapes: true);
                kind = SqlTokenKind.String;
                break;
            case '"':
                end = ScanQuoted(s, start + 1, '"', backslashEscapes: false);
                kind = SqlTokenKind.QuotedIdentifier;
                break;
            case '`' when _syntax == SqlSyntax.MySql:
                end = ScanQuoted(s, start + 1, '`', backslashEscapes: false);
                kind = SqlTokenKind.QuotedIdentifier;
                break;
            case '$' when _syntax == SqlSyntax.Postgres:
                (kind, end) = ScanDollar(s, start);
                break;
            case '$':
                (kind, end) = (SqlTokenKind.Other, start + 1);
                break;
            case >= '0' and <= '9':
                end = ScanNumber(s, start);
                kind = SqlTokenKind.Number;
                break;
            case '.' when next is >= '0' and <= '9':
                end = ScanNumber(s, start);
                kind = SqlTokenKind.Number;
                break;
            case '(':
                (kind, end) = (SqlTokenKind.OpenParen, start + 1);
                break;
            case ')':
                (kind, end) = (SqlTokenKind.CloseParen, start + 1);
                break;
            case '[':
                (kind, end) = (SqlTokenKind.OpenBracket, start + 1);
                break;
            case ']':
                (kind, end) = (SqlTokenKind.CloseBracket, start + 1);
                break;
            case ',':
                (kind, end) = (SqlTokenKind.Comma, start + 1);
                break;
            case ';':
                (kind, end) = (SqlTokenKind.Semicolon, start + 1);
                break;
            case '.':
                (kind, end) = (SqlTokenKind.Dot, start + 1);
                break;
            case ':':
                (kind, end) = next == ':' ? (SqlTokenKind.DoubleColon, start + 2) : (SqlTokenKind.Colon, start + 1);
                break;
            default:
                if (IsOperatorChar(c))
                {
                    end = ScanOperator(s, start, _syntax);
                    kind = SqlTokenKind.Operator;
                }
                else if (IsIdentifierStart(c))
                {
                    (kind, end) = ScanWordOrPrefixedString(s, start, c, next, _syntax);
                }
                else
                {
                    (kind, end) = (SqlTokenKind.Other, start + 1);
                }

                break;
        }

        _position = end;
        return new SqlToken(kind, start, end - start);
    }

    /// <summary>The next token that is not whitespace or a comment.</summary>
    public SqlToken NextSignificant()
    {
        SqlToken token;
        do
        {
            token = Next();
        }
        while (token.IsTrivia);

        return token;
    }

    /// <summary>Looks at the next significant token without consuming it.</summary>
    public readonly SqlToken PeekSignificant()
    {
        SqlLexer copy = this;
        return copy.NextSignificant();
    }

    public static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';

    /// <summary>Characters PostgreSQL allows in operator names.</summary>
    public static bool IsOperatorChar(char c) => c is '+' or '-' or '*' or '/' or '<' or '>' or '=' or '~' or '!' or '@' or '#' or '%' or '^' or '&' or '|' or '`' or '?';

    public static bool IsIdentifierStart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (c >= 0x80 && char.IsLetter(c));

    public static bool IsIdentifierPart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '$' || (c >= 0x80 && char.IsLetterOrDigit(c));

    private static (SqlTokenKind Kind, int End) ScanWordOrPrefixedString(ReadOnlySpan<char> s, int start, char c, char next, SqlSyntax syntax)
    {
        // Prefixed strings: E'..' (backslash escapes, PostgreSQL only), B'..' X'..' N'..', U&'..' and U&"..".
        if (next == '\'')
        {
            switch (c)
            {
                case 'e' or 'E' when syntax == SqlSyntax.Postgres:
                    return (SqlTokenKind.EscapeString, ScanQuoted(s, start + 2, '\'', backslashEscapes: true));
                case 'b' or 'B' or 'x' or 'X' or 'n' or 'N':
                    return (SqlTokenKind.String, ScanQuoted(s, start + 2, '\'', backslashEscapes: syntax == SqlSyntax.MySql));
            }
        }
        else if (syntax != SqlSyntax.MySql && c is 'u' or 'U' && next == '&' && start + 2 < s.Length && s[start + 2] is '\'' or '"')
        {
            char quote = s[start + 2];
            return (quote == '\'' ? SqlTokenKind.String : SqlTokenKind.QuotedIdentifier, ScanQuoted(s, start + 3, quote, backslashEscapes: false));
        }

        // Vectorised over ASCII identifier characters; letters beyond ASCII continue one by one.
        int end = start + 1;
        while (true)
        {
            int run = s[end..].IndexOfAnyExcept(AsciiIdentifierChars);
            end = run < 0 ? s.Length : end + run;
            if (end < s.Length && s[end] >= 0x80 && char.IsLetterOrDigit(s[end]))
            {
                end++;
                continue;
            }

            return (SqlTokenKind.Word, end);
        }
    }

    /// <summary>Scans past the closing quote; <paramref name="from"/> is just after the opening one.</summary>
    private static int ScanQuoted(ReadOnlySpan<char> s, int from, char quote, bool backslashEscapes)
    {
        int i = from;
        while (i < s.Length)
        {
            ReadOnlySpan<char> rest = s[i..];
            int hit = backslashEscapes ? rest.IndexOfAny(quote, '\\') : rest.IndexOf(quote);
            if (hit < 0)
            {
                return s.Length;
            }

            i += hit;
            if (s[i] == '\\')
            {
                i += 2;
                continue;
            }

            // A doubled quote is an escaped quote, not the end.
            if (i + 1 < s.Length && s[i + 1] == quote)
            {
                i += 2;
                continue;
            }

            return i + 1;
        }

        return s.Length;
    }

    private static int ScanBlockComment(ReadOnlySpan<char> s, int start, bool nested)
    {
        int depth = 1;
        int i = start + 2;
        while (i < s.Length - 1)
        {
            char c = s[i];
            if (c == '*' && s[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else if (nested && c == '/' && s[i + 1] == '*')
            {
                i += 2;
                depth++;
            }
            else
            {
                i++;
            }
        }

        return s.Length;
    }

    private static (SqlTokenKind Kind, int End) ScanDollar(ReadOnlySpan<char> s, int start)
    {
        int i = start + 1;
        if (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            return (SqlTokenKind.Parameter, i);
        }

        // $tag$: the tag is an identifier without '$' (empty for $$).
        if (i < s.Length && s[i] != '$')
        {
            if (!IsIdentifierStart(s[i]))
            {
                return (SqlTokenKind.Other, start + 1);
            }

            while (i < s.Length && IsIdentifierPart(s[i]) && s[i] != '$')
            {
                i++;
            }
        }

        if (i >= s.Length || s[i] != '$')
        {
            return (SqlTokenKind.Other, start + 1);
        }

        ReadOnlySpan<char> delimiter = s[start..(i + 1)];
        int bodyStart = i + 1;
        int close = s[bodyStart..].IndexOf(delimiter);
        return (SqlTokenKind.DollarString, close < 0 ? s.Length : bodyStart + close + delimiter.Length);
    }

    private static int ScanNumber(ReadOnlySpan<char> s, int start)
    {
        int i = start;
        if (s[i] == '0' && i + 1 < s.Length && s[i + 1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            i += 2;
            while (i < s.Length && (char.IsAsciiHexDigit(s[i]) || s[i] == '_'))
            {
                i++;
            }

            return i;
        }

        i = SkipDigits(s, i);
        // ".." is a range in some dialects, never part of a number.
        if (i < s.Length && s[i] == '.' && !(i + 1 < s.Length && s[i + 1] == '.'))
        {
            i = SkipDigits(s, i + 1);
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            int j = i + 1;
            if (j < s.Length && s[j] is '+' or '-')
            {
                j++;
            }

            if (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                i = SkipDigits(s, j);
            }
        }

        return i;
    }

    private static int SkipDigits(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '_'))
        {
            i++;
        }

        return i;
    }

    private static int ScanOperator(ReadOnlySpan<char> s, int start, SqlSyntax syntax)
    {
        int i = start;
        bool hasSpecial = false;
        while (i < s.Length && IsOperatorChar(s[i]))
        {
            // MySQL: '#' starts a comment and '`' a quoted identifier, even right after an operator.
            if (i > start && syntax == SqlSyntax.MySql && s[i] is '#' or '`')
            {
                break;
            }

            // A comment start ends the operator.
            if (i > start && i + 1 < s.Length && ((s[i] == '-' && s[i + 1] == '-') || (s[i] == '/' && s[i + 1] == '*')))
            {
                break;
            }

            hasSpecial |= s[i] is '~' or '!' or '@' or '#' or '%' or '^' or '&' or '|' or '`' or '?';
            i++;
        }

        // PostgreSQL: a multi-character operator cannot end in + or - unless it contains one of
        // ~ ! @ # % ^ & | ` ?, so "=-1" is "=" followed by "-1".
        if (!hasSpecial)
        {
            while (i - start > 1 && s[i - 1] is '+' or '-')
            {
                i--;
            }
        }

        return i;
    }
}
