namespace LakeOps.Edge.Engines.MySql;

public enum MySqlSqlTokenKind : byte
{
    End,

    /// <summary>An unquoted identifier or keyword.</summary>
    Word,

    /// <summary>A `back-quoted` identifier.</summary>
    QuotedIdentifier,

    /// <summary>A '...' or "..." literal.</summary>
    String,
    Number,

    /// <summary>@name, @'name', @`name`.</summary>
    UserVariable,

    /// <summary>@@name, @@session.name, @@global.name.</summary>
    SystemVariable,
    Semicolon,

    /// <summary>The := assignment.</summary>
    Assign,

    /// <summary>Any other single character (operators, parentheses, commas).</summary>
    Symbol,
}

/// <summary>A token: its kind and where it is in the text.</summary>
public readonly record struct MySqlSqlToken(MySqlSqlTokenKind Kind, int Start, int Length);

/// <summary>
/// A small MySQL lexer over UTF-8 bytes, enough to find statement boundaries and leading keywords
/// without allocating: strings with backslash escapes and doubled quotes, `identifiers`, comments
/// (-- , #, /* */). Version comments (<c>/*!40101 ... */</c>, <c>/*M!100100 ... */</c>) are code to
/// MySQL, so their content is read as tokens.
/// </summary>
public ref struct MySqlSqlTokenizer
{
    private readonly ReadOnlySpan<byte> _sql;
    private int _position;
    private bool _inVersionComment;

    public MySqlSqlTokenizer(ReadOnlySpan<byte> sql) => _sql = sql;

    public readonly int Position => _position;

    public readonly ReadOnlySpan<byte> Sql => _sql;

    public readonly ReadOnlySpan<byte> TextOf(MySqlSqlToken token) => _sql.Slice(token.Start, token.Length);

    public MySqlSqlToken Next()
    {
        SkipTrivia();
        int start = _position;
        if (start >= _sql.Length)
        {
            return new MySqlSqlToken(MySqlSqlTokenKind.End, start, 0);
        }

        byte c = _sql[start];
        switch (c)
        {
            case (byte)';':
                _position++;
                return new MySqlSqlToken(MySqlSqlTokenKind.Semicolon, start, 1);
            case (byte)'\'':
            case (byte)'"':
                SkipQuoted(c);
                return new MySqlSqlToken(MySqlSqlTokenKind.String, start, _position - start);
            case (byte)'`':
                SkipQuoted(c);
                return new MySqlSqlToken(MySqlSqlTokenKind.QuotedIdentifier, start, _position - start);
            case (byte)'@':
                return ReadVariable(start);
            case (byte)':' when Peek(1) == '=':
                _position += 2;
                return new MySqlSqlToken(MySqlSqlTokenKind.Assign, start, 2);
        }

        if (IsWordByte(c))
        {
            bool digitsOnly = true;
            while (_position < _sql.Length && IsWordByte(_sql[_position]))
            {
                digitsOnly &= _sql[_position] is >= (byte)'0' and <= (byte)'9';
                _position++;
            }

            return new MySqlSqlToken(digitsOnly ? MySqlSqlTokenKind.Number : MySqlSqlTokenKind.Word, start, _position - start);
        }

        _position++;
        return new MySqlSqlToken(MySqlSqlTokenKind.Symbol, start, 1);
    }

    private MySqlSqlToken ReadVariable(int start)
    {
        _position++;
        bool system = Peek(0) == '@';
        if (system)
        {
            _position++;
        }

        byte c = Peek(0);
        if (!system && c is (byte)'\'' or (byte)'"' or (byte)'`')
        {
            SkipQuoted(c);
        }
        else
        {
            // Word bytes and '.', so @@session.sql_mode is one token.
            while (_position < _sql.Length && (IsWordByte(_sql[_position]) || _sql[_position] == '.'))
            {
                _position++;
            }
        }

        return new MySqlSqlToken(system ? MySqlSqlTokenKind.SystemVariable : MySqlSqlTokenKind.UserVariable, start, _position - start);
    }

    private void SkipQuoted(byte quote)
    {
        _position++;
        while (_position < _sql.Length)
        {
            byte c = _sql[_position++];
            if (c == '\\' && quote != '`')
            {
                _position++;
            }
            else if (c == quote)
            {
                if (Peek(0) == quote)
                {
                    _position++;
                }
                else
                {
                    return;
                }
            }
        }

        _position = _sql.Length;
    }

    private void SkipTrivia()
    {
        while (_position < _sql.Length)
        {
            byte c = _sql[_position];
            if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v')
            {
                _position++;
            }
            else if (c == '#' || (c == '-' && Peek(1) == '-' && (_position + 2 >= _sql.Length || _sql[_position + 2] <= ' ')))
            {
                int newline = _sql[_position..].IndexOf((byte)'\n');
                _position = newline < 0 ? _sql.Length : _position + newline + 1;
            }
            else if (c == '/' && Peek(1) == '*')
            {
                if (Peek(2) == '!' || (Peek(2) == 'M' && Peek(3) == '!'))
                {
                    // A version comment: skip the marker and version number, read the content as code.
                    _position += Peek(2) == '!' ? 3 : 4;
                    while (_position < _sql.Length && _sql[_position] is >= (byte)'0' and <= (byte)'9')
                    {
                        _position++;
                    }

                    _inVersionComment = true;
                    continue;
                }

                int end = _sql[(_position + 2)..].IndexOf("*/"u8);
                _position = end < 0 ? _sql.Length : _position + 2 + end + 2;
            }
            else if (c == '*' && _inVersionComment && Peek(1) == '/')
            {
                _position += 2;
                _inVersionComment = false;
            }
            else
            {
                return;
            }
        }
    }

    private readonly byte Peek(int offset) => _position + offset < _sql.Length ? _sql[_position + offset] : (byte)0;

    private static bool IsWordByte(byte c) =>
        c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'$' or >= 0x80;
}
