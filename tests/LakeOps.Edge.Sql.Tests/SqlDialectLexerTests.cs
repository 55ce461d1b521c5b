namespace LakeOps.Edge.Sql.Tests;

/// <summary>The lexer's MySQL and Trino rules, next to PostgreSQL's, over tricky text.</summary>
public class SqlDialectLexerTests
{
    private static List<(SqlTokenKind Kind, string Text)> Lex(string sql, SqlSyntax syntax, bool significantOnly = true)
    {
        var tokens = new List<(SqlTokenKind, string)>();
        var lexer = new SqlLexer(sql, syntax);
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
    [InlineData("SELECT `a``b` FROM `db`.`t` # comment\n WHERE x = 'it\\'s' AND y = \"dq\\\"s\"", SqlSyntax.MySql)]
    [InlineData("select 1--1\n-- real comment\nselect 2", SqlSyntax.MySql)]
    [InlineData("/* a /* b */ select 1", SqlSyntax.MySql)]
    [InlineData("select \"Quoted\"\"Id\" from hive.\"s\".t -- c", SqlSyntax.Trino)]
    [InlineData("select $1, $$x$$, E'a\\'b' /* a /* b */ c */", SqlSyntax.Trino)]
    [InlineData("`unterminated", SqlSyntax.MySql)]
    [InlineData("#", SqlSyntax.MySql)]
    public void Tokens_cover_the_input_exactly(string sql, SqlSyntax syntax)
    {
        var builder = new System.Text.StringBuilder();
        foreach ((_, string text) in Lex(sql, syntax, significantOnly: false))
        {
            Assert.NotEmpty(text);
            builder.Append(text);
        }

        Assert.Equal(sql, builder.ToString());
    }

    [Fact]
    public void MySql_backticks_are_identifiers_and_double_quotes_are_strings()
    {
        Assert.Equal(
            [(SqlTokenKind.Word, "SELECT"), (SqlTokenKind.QuotedIdentifier, "`a``b`"), (SqlTokenKind.Comma, ","), (SqlTokenKind.String, "\"x\\\"y\"")],
            Lex("SELECT `a``b`, \"x\\\"y\"", SqlSyntax.MySql));
    }

    [Fact]
    public void MySql_strings_take_backslash_escapes()
    {
        Assert.Equal([(SqlTokenKind.String, "'a\\'b'"), (SqlTokenKind.Word, "c")], Lex("'a\\'b' c", SqlSyntax.MySql));
        // PostgreSQL standard strings do not: the string ends at the second quote.
        Assert.Equal((SqlTokenKind.String, "'a\\'"), Lex("'a\\'b' c", SqlSyntax.Postgres)[0]);
    }

    [Fact]
    public void MySql_hash_starts_a_comment_and_double_dash_needs_a_space()
    {
        Assert.Equal([(SqlTokenKind.Word, "a")], Lex("a # b c", SqlSyntax.MySql));
        Assert.Equal([(SqlTokenKind.Word, "a")], Lex("a -- b c", SqlSyntax.MySql));
        Assert.Equal([(SqlTokenKind.Word, "a")], Lex("a --", SqlSyntax.MySql));
        // "1--1" is 1 - (-1) in MySQL, a comment in PostgreSQL.
        Assert.Equal([(SqlTokenKind.Number, "1"), (SqlTokenKind.Operator, "-"), (SqlTokenKind.Operator, "-"), (SqlTokenKind.Number, "1")], Lex("1--1", SqlSyntax.MySql));
        Assert.Equal([(SqlTokenKind.Number, "1")], Lex("1--1", SqlSyntax.Postgres));
        // '#' is an operator in PostgreSQL.
        Assert.Equal((SqlTokenKind.Operator, "#"), Lex("a # b", SqlSyntax.Postgres)[1]);
    }

    [Fact]
    public void Block_comments_nest_only_in_postgres()
    {
        Assert.Equal([(SqlTokenKind.Word, "x")], Lex("/* a /* b */ c */ x", SqlSyntax.Postgres));
        Assert.Equal((SqlTokenKind.Word, "c"), Lex("/* a /* b */ c */ x", SqlSyntax.MySql)[0]);
        Assert.Equal((SqlTokenKind.Word, "c"), Lex("/* a /* b */ c */ x", SqlSyntax.Trino)[0]);
    }

    [Fact]
    public void Dollar_quotes_and_escape_strings_are_postgres_only()
    {
        Assert.Equal([(SqlTokenKind.DollarString, "$t$ it's $$ $t$")], Lex("$t$ it's $$ $t$", SqlSyntax.Postgres));
        Assert.Equal([(SqlTokenKind.EscapeString, "E'a\\'b'")], Lex("E'a\\'b'", SqlSyntax.Postgres));
        Assert.Equal((SqlTokenKind.Word, "E"), Lex("E'a''b'", SqlSyntax.Trino)[0]);
        Assert.Equal((SqlTokenKind.Other, "$"), Lex("$t$ x $t$", SqlSyntax.Trino)[0]);
    }

    [Fact]
    public void Trino_double_quotes_are_identifiers()
    {
        Assert.Equal(
            [(SqlTokenKind.Word, "hive"), (SqlTokenKind.Dot, "."), (SqlTokenKind.QuotedIdentifier, "\"My Schema\""), (SqlTokenKind.Dot, "."), (SqlTokenKind.Word, "t")],
            Lex("hive.\"My Schema\".t", SqlSyntax.Trino));
    }
}
