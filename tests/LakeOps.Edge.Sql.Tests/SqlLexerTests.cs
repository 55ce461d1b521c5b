namespace LakeOps.Edge.Sql.Tests;

public class SqlLexerTests
{
    private static List<(SqlTokenKind Kind, string Text)> Lex(string sql, bool significantOnly = true)
    {
        var tokens = new List<(SqlTokenKind, string)>();
        var lexer = new SqlLexer(sql);
        while (true)
        {
            SqlToken token = lexer.Next();
            if (token.Kind == SqlTokenKind.End)
            {
                return tokens;
            }

            if (!significantOnly || !token.IsTrivia)
            {
                tokens.Add((token.Kind, token.Text(sql).ToString()));
            }
        }
    }

    [Theory]
    [InlineData("select 1")]
    [InlineData("SELECT 'it''s' -- c\n, E'a\\'b', $$x$$, $t$ $$ $t$ /* a /* b */ c */ \"q\"\"x\" $1::int4;")]
    [InlineData("'unterminated")]
    [InlineData("/* unterminated /* nested */")]
    [InlineData("$tag$ unterminated")]
    [InlineData("E'\\")]
    [InlineData("\"unterminated")]
    [InlineData("a-- comment at end")]
    [InlineData("ünïcode_name = 'é'")]
    public void Tokens_cover_the_input_exactly(string sql)
    {
        var builder = new System.Text.StringBuilder();
        foreach ((_, string text) in Lex(sql, significantOnly: false))
        {
            Assert.NotEmpty(text);
            builder.Append(text);
        }

        Assert.Equal(sql, builder.ToString());
    }

    [Fact]
    public void Recognises_every_token_kind()
    {
        const string sql = "SELECT a1, \"Quoted\"\"Id\", 'str''ing', E'esc\\'aped', $$dollar ' ; $$, $fn$ body $$ $fn$, 12, 3.5e-2, .5, $1, x::int, y[1:2], z <> 1, w ~ 'p';";
        var expected = new List<(SqlTokenKind, string)>
        {
            (SqlTokenKind.Word, "SELECT"), (SqlTokenKind.Word, "a1"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.QuotedIdentifier, "\"Quoted\"\"Id\""), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.String, "'str''ing'"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.EscapeString, "E'esc\\'aped'"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.DollarString, "$$dollar ' ; $$"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.DollarString, "$fn$ body $$ $fn$"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Number, "12"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Number, "3.5e-2"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Number, ".5"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Parameter, "$1"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Word, "x"), (SqlTokenKind.DoubleColon, "::"), (SqlTokenKind.Word, "int"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Word, "y"), (SqlTokenKind.OpenBracket, "["), (SqlTokenKind.Number, "1"), (SqlTokenKind.Colon, ":"),
            (SqlTokenKind.Number, "2"), (SqlTokenKind.CloseBracket, "]"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Word, "z"), (SqlTokenKind.Operator, "<>"), (SqlTokenKind.Number, "1"), (SqlTokenKind.Comma, ","),
            (SqlTokenKind.Word, "w"), (SqlTokenKind.Operator, "~"), (SqlTokenKind.String, "'p'"),
            (SqlTokenKind.Semicolon, ";"),
        };
        Assert.Equal(expected, Lex(sql));
    }

    [Fact]
    public void Nested_block_comments_end_at_the_matching_close()
    {
        var tokens = Lex("/* a /* b */ still comment */ x", significantOnly: false);
        Assert.Equal((SqlTokenKind.BlockComment, "/* a /* b */ still comment */"), tokens[0]);
        Assert.Equal((SqlTokenKind.Word, "x"), tokens[^1]);
    }

    [Fact]
    public void Line_comment_stops_at_newline()
    {
        var tokens = Lex("-- one ; two\nselect", significantOnly: false);
        Assert.Equal((SqlTokenKind.LineComment, "-- one ; two"), tokens[0]);
        Assert.Equal((SqlTokenKind.Word, "select"), tokens[^1]);
    }

    [Theory]
    [InlineData("a=-1", new[] { "a", "=", "-", "1" })]
    [InlineData("a<>-1", new[] { "a", "<>", "-", "1" })]
    [InlineData("a @- b", new[] { "a", "@-", "b" })]
    [InlineData("j->>'k'", new[] { "j", "->>", "'k'" })]
    [InlineData("a!~b", new[] { "a", "!~", "b" })]
    [InlineData("a--b", new[] { "a" })]
    [InlineData("a+/*c*/b", new[] { "a", "+", "b" })]
    public void Operators_follow_PostgreSQL_rules(string sql, string[] expected)
    {
        Assert.Equal(expected, Lex(sql).Select(t => t.Text).ToArray());
    }

    [Theory]
    [InlineData("B'0101'", SqlTokenKind.String)]
    [InlineData("X'FF'", SqlTokenKind.String)]
    [InlineData("N'nat'", SqlTokenKind.String)]
    [InlineData("U&'d\\0061t'", SqlTokenKind.String)]
    [InlineData("U&\"d\\0061t\"", SqlTokenKind.QuotedIdentifier)]
    [InlineData("e'x\\ny'", SqlTokenKind.EscapeString)]
    [InlineData("$a_1$x$a_1$", SqlTokenKind.DollarString)]
    [InlineData("$12", SqlTokenKind.Parameter)]
    [InlineData("0x1F", SqlTokenKind.Number)]
    [InlineData("1_000", SqlTokenKind.Number)]
    public void Prefixed_literals_are_single_tokens(string sql, SqlTokenKind kind)
    {
        Assert.Equal([(kind, sql)], Lex(sql));
    }

    [Fact]
    public void Dollar_inside_identifier_is_part_of_it()
    {
        Assert.Equal([(SqlTokenKind.Word, "a$b"), (SqlTokenKind.Operator, "="), (SqlTokenKind.Number, "1")], Lex("a$b = 1"));
    }

    [Fact]
    public void Backslash_is_literal_in_standard_strings()
    {
        // standard_conforming_strings: 'a\' is a complete string.
        Assert.Equal([(SqlTokenKind.String, "'a\\'"), (SqlTokenKind.Comma, ","), (SqlTokenKind.String, "'b'")], Lex("'a\\', 'b'"));
    }

    [Fact]
    public void Peek_does_not_consume()
    {
        var lexer = new SqlLexer("  select  1");
        SqlToken peeked = lexer.PeekSignificant();
        SqlToken next = lexer.NextSignificant();
        Assert.Equal(peeked, next);
        Assert.True(next.Is("  select  1", "SELECT"));
    }
}
