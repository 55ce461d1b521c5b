namespace LakeOps.Edge.Sql;

/// <summary>What a <see cref="SqlToken"/> is.</summary>
public enum SqlTokenKind : byte
{
    /// <summary>No more input.</summary>
    End,

    Whitespace,

    /// <summary><c>-- ...</c> up to (not including) the end of the line.</summary>
    LineComment,

    /// <summary><c>/* ... */</c>, nesting as in PostgreSQL. Unterminated comments run to the end.</summary>
    BlockComment,

    /// <summary>An unquoted identifier or keyword (compare case-insensitively).</summary>
    Word,

    /// <summary><c>"..."</c> (also <c>U&amp;"..."</c>), <c>""</c> escapes a quote.</summary>
    QuotedIdentifier,

    /// <summary><c>'...'</c> with <c>''</c> escapes; also the prefixed forms <c>B'..'</c>, <c>X'..'</c>, <c>N'..'</c>, <c>U&amp;'..'</c>.</summary>
    String,

    /// <summary><c>E'...'</c>: backslash escapes as well as <c>''</c>.</summary>
    EscapeString,

    /// <summary><c>$$...$$</c> or <c>$tag$...$tag$</c>.</summary>
    DollarString,

    /// <summary>Integer or decimal literal, with optional exponent (also 0x/0o/0b and <c>_</c> separators).</summary>
    Number,

    /// <summary>A positional parameter <c>$1</c>.</summary>
    Parameter,

    /// <summary>An operator such as <c>=</c>, <c>&lt;&gt;</c>, <c>~</c>, <c>||</c>, <c>-&gt;&gt;</c>.</summary>
    Operator,

    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Comma,
    Semicolon,
    Dot,

    /// <summary>A single <c>:</c> (array slices, named parameters of other dialects).</summary>
    Colon,

    /// <summary><c>::</c>, the PostgreSQL cast operator.</summary>
    DoubleColon,

    /// <summary>Any other character.</summary>
    Other,
}

/// <summary>One token: its kind and where it lies in the text (so tokens can be stored without the text).</summary>
public readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length)
{
    public int End => Start + Length;

    /// <summary>Whitespace and comments: tokens that never change a statement's meaning.</summary>
    public bool IsTrivia => Kind is SqlTokenKind.Whitespace or SqlTokenKind.LineComment or SqlTokenKind.BlockComment;

    /// <summary>A literal value: string, escape string, dollar string or number.</summary>
    public bool IsLiteral => Kind is SqlTokenKind.String or SqlTokenKind.EscapeString or SqlTokenKind.DollarString or SqlTokenKind.Number;

    public ReadOnlySpan<char> Text(ReadOnlySpan<char> sql) => sql.Slice(Start, Length);

    /// <summary>True when this is the unquoted word <paramref name="keyword"/> (ASCII, case-insensitive).</summary>
    public bool Is(ReadOnlySpan<char> sql, string keyword) =>
        Kind == SqlTokenKind.Word && sql.Slice(Start, Length).Equals(keyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when this is a word or quoted identifier that names <paramref name="name"/> (case-insensitive).</summary>
    public bool IsName(ReadOnlySpan<char> sql, string name)
    {
        ReadOnlySpan<char> text = sql.Slice(Start, Length);
        return Kind switch
        {
            SqlTokenKind.Word => text.Equals(name, StringComparison.OrdinalIgnoreCase),
            SqlTokenKind.QuotedIdentifier => text.Length == name.Length + 2 && text[1..^1].Equals(name, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };
    }
}
