namespace LakeOps.Edge.Frontends.MySql;

internal enum MySqlTokenKind
{
    End,

    /// <summary>Keyword or unquoted identifier.</summary>
    Word,

    /// <summary>`quoted identifier` (Text is without the backticks).</summary>
    QuotedIdentifier,

    /// <summary>'string' or "string" (Text is the unescaped value).</summary>
    String,
    Number,

    /// <summary>@@[scope.]name (Text is the whole token).</summary>
    SystemVariable,

    /// <summary>@name.</summary>
    UserVariable,

    /// <summary>Any other single character (',', '(', ')', '=', ';', ...); ":=" is one token.</summary>
    Symbol,
}

internal readonly record struct MySqlToken(MySqlTokenKind Kind, int Start, int End, string Text)
{
    public bool Is(string word) => Kind == MySqlTokenKind.Word && Text.Equals(word, StringComparison.OrdinalIgnoreCase);

    public bool IsSymbol(char symbol) => Kind == MySqlTokenKind.Symbol && Text.Length == 1 && Text[0] == symbol;
}

/// <summary>
/// A small MySQL lexer for the statements the gateway answers itself and for splitting multi-statement
/// text bound for MySQL-dialect engines: MySQL string escapes (backslash and doubled quotes), backtick
/// identifiers, and the three comment styles (<c>-- </c>, <c>#</c>, <c>/* */</c>) are honoured.
/// Not a SQL parser: it only cuts tokens.
/// </summary>
internal struct MySqlLexer
{
    private readonly string _sql;
    private int _position;

    public MySqlLexer(string sql)
    {
        _sql = sql;
        _position = 0;
    }

    public readonly int Position => _position;

    /// <summary>An unterminated string, identifier or comment was found (the rest of the text was consumed).</summary>
    public bool Unterminated { get; private set; }

    public MySqlToken Next()
    {
        SkipTrivia();
        string s = _sql;
        if (_position >= s.Length)
        {
            return new MySqlToken(MySqlTokenKind.End, s.Length, s.Length, "");
        }

        int start = _position;
        char c = s[start];
        if (c is '\'' or '"')
        {
            return ReadString(c);
        }

        if (c == '`')
        {
            var text = new System.Text.StringBuilder();
            _position++;
            while (true)
            {
                if (_position >= s.Length)
                {
                    Unterminated = true;
                    break;
                }

                char d = s[_position++];
                if (d == '`')
                {
                    if (_position < s.Length && s[_position] == '`')
                    {
                        text.Append('`');
                        _position++;
                        continue;
                    }

                    break;
                }

                text.Append(d);
            }

            return new MySqlToken(MySqlTokenKind.QuotedIdentifier, start, _position, text.ToString());
        }

        if (c == '@')
        {
            bool system = start + 1 < s.Length && s[start + 1] == '@';
            _position += system ? 2 : 1;
            if (_position < s.Length && s[_position] is '`' or '\'' or '"')
            {
                MySqlToken quoted = Next();
                return new MySqlToken(system ? MySqlTokenKind.SystemVariable : MySqlTokenKind.UserVariable, start, _position, (system ? "@@" : "@") + quoted.Text);
            }

            while (_position < s.Length && (IsWordChar(s[_position]) || s[_position] == '.'))
            {
                _position++;
            }

            return new MySqlToken(system ? MySqlTokenKind.SystemVariable : MySqlTokenKind.UserVariable, start, _position, s[start.._position]);
        }

        if (char.IsAsciiDigit(c) || (c == '.' && start + 1 < s.Length && char.IsAsciiDigit(s[start + 1])))
        {
            while (_position < s.Length && (char.IsAsciiLetterOrDigit(s[_position]) || s[_position] == '.'))
            {
                _position++;
            }

            return new MySqlToken(MySqlTokenKind.Number, start, _position, s[start.._position]);
        }

        if (IsWordChar(c))
        {
            while (_position < s.Length && IsWordChar(s[_position]))
            {
                _position++;
            }

            return new MySqlToken(MySqlTokenKind.Word, start, _position, s[start.._position]);
        }

        if (c == ':' && start + 1 < s.Length && s[start + 1] == '=')
        {
            _position += 2;
            return new MySqlToken(MySqlTokenKind.Symbol, start, _position, ":=");
        }

        _position++;
        return new MySqlToken(MySqlTokenKind.Symbol, start, _position, c.ToString());
    }

    private MySqlToken ReadString(char quote)
    {
        string s = _sql;
        int start = _position++;
        var text = new System.Text.StringBuilder();
        while (true)
        {
            if (_position >= s.Length)
            {
                Unterminated = true;
                break;
            }

            char c = s[_position++];
            if (c == '\\' && _position < s.Length)
            {
                char e = s[_position++];
                text.Append(e switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'Z' => '\x1A',
                    'b' => '\b',
                    _ => e,
                });
                continue;
            }

            if (c == quote)
            {
                if (_position < s.Length && s[_position] == quote)
                {
                    text.Append(quote);
                    _position++;
                    continue;
                }

                break;
            }

            text.Append(c);
        }

        return new MySqlToken(MySqlTokenKind.String, start, _position, text.ToString());
    }

    private void SkipTrivia()
    {
        string s = _sql;
        while (_position < s.Length)
        {
            char c = s[_position];
            if (char.IsWhiteSpace(c))
            {
                _position++;
            }
            else if (c == '#' || (c == '-' && _position + 1 < s.Length && s[_position + 1] == '-'
                && (_position + 2 >= s.Length || char.IsWhiteSpace(s[_position + 2]) || char.IsControl(s[_position + 2]))))
            {
                int newline = s.IndexOf('\n', _position);
                _position = newline < 0 ? s.Length : newline + 1;
            }
            else if (c == '/' && _position + 1 < s.Length && s[_position + 1] == '*')
            {
                int end = s.IndexOf("*/", _position + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    Unterminated = true;
                    _position = s.Length;
                }
                else
                {
                    _position = end + 2;
                }
            }
            else
            {
                return;
            }
        }
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c >= 0x80;

    /// <summary>Splits MySQL text at top-level semicolons; empty pieces (only whitespace/comments) are dropped.</summary>
    public static List<string> Split(string sql)
    {
        var statements = new List<string>();
        var lexer = new MySqlLexer(sql);
        int start = 0;
        bool any = false;
        while (true)
        {
            MySqlToken token = lexer.Next();
            if (token.Kind == MySqlTokenKind.End || token.IsSymbol(';'))
            {
                if (any)
                {
                    statements.Add(sql[start..token.Start].Trim());
                }

                if (token.Kind == MySqlTokenKind.End)
                {
                    return statements;
                }

                start = token.End;
                any = false;
                continue;
            }

            // Leading comments stay with their statement, as MySQL keeps them (optimizer hints, tags).
            any = true;
        }
    }
}
