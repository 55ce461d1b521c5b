using System.Text;

namespace LakeOps.Edge.Sql;

/// <summary>Parsing of SET and SHOW, so the gateway can own session parameters.</summary>
public static partial class StatementClassifier
{
    /// <summary>
    /// Parses <c>SET [SESSION | LOCAL] name {= | TO} value [, ...]</c> and the special forms
    /// <c>SET TIME ZONE v</c> (name "timezone"), <c>SET NAMES v</c> ("client_encoding"),
    /// <c>SET SCHEMA v</c> ("search_path"), <c>SET ROLE v</c> ("role"), <c>SET SESSION AUTHORIZATION v</c>
    /// ("session_authorization") and <c>SET XML OPTION v</c> ("xmloption").
    /// Names are lower-cased unless quoted. Values follow PostgreSQL: quoted strings are unquoted,
    /// unquoted words are lower-cased, list items are joined with ", ", <c>DEFAULT</c> (and
    /// <c>LOCAL</c> for the time zone) gives <c>null</c>. False for SET TRANSACTION, SET CONSTRAINTS,
    /// SET SESSION CHARACTERISTICS and anything that does not parse.
    /// </summary>
    public static bool TryParseSet(string sql, out string name, out string? value, out bool isLocal)
    {
        ArgumentNullException.ThrowIfNull(sql);
        name = "";
        value = null;
        isLocal = false;
        var lexer = new SqlLexer(sql);
        if (!lexer.NextSignificant().Is(sql, "SET"))
        {
            return false;
        }

        SqlToken token = lexer.NextSignificant();
        if (token.Is(sql, "LOCAL"))
        {
            isLocal = true;
            token = lexer.NextSignificant();
        }
        else if (token.Is(sql, "SESSION"))
        {
            if (NextIs(ref lexer, "AUTHORIZATION"))
            {
                name = "session_authorization";
                return TryParseValues(ref lexer, name, out value);
            }

            if (NextIs(ref lexer, "CHARACTERISTICS"))
            {
                return false;
            }

            token = lexer.NextSignificant();
        }

        if (token.Kind == SqlTokenKind.Word)
        {
            ReadOnlySpan<char> word = token.Text(sql);
            if (word.Equals("TIME", StringComparison.OrdinalIgnoreCase) && NextIs(ref lexer, "ZONE"))
            {
                name = "timezone";
                return TryParseTimeZone(ref lexer, out value);
            }

            if (word.Equals("TRANSACTION", StringComparison.OrdinalIgnoreCase) || word.Equals("CONSTRAINTS", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            string? special = word.Equals("NAMES", StringComparison.OrdinalIgnoreCase) ? "client_encoding"
                : word.Equals("SCHEMA", StringComparison.OrdinalIgnoreCase) ? "search_path"
                : word.Equals("ROLE", StringComparison.OrdinalIgnoreCase) ? "role"
                : word.Equals("XML", StringComparison.OrdinalIgnoreCase) && NextIs(ref lexer, "OPTION") ? "xmloption"
                : null;
            if (special is not null && !IsAssignment(lexer.PeekSignificant(), sql))
            {
                name = special;
                return TryParseValues(ref lexer, name, out value);
            }
        }

        if (!TryParseName(ref lexer, token, out name))
        {
            return false;
        }

        SqlToken assign = lexer.NextSignificant();
        if (!IsAssignment(assign, sql))
        {
            return false;
        }

        return TryParseValues(ref lexer, name, out value);
    }

    /// <summary>
    /// Parses <c>SHOW name</c>: the lower-cased name (quoted names keep their case), "timezone" for
    /// <c>SHOW TIME ZONE</c>, "transaction_isolation" for <c>SHOW TRANSACTION ISOLATION LEVEL</c>,
    /// "session_authorization" for <c>SHOW SESSION AUTHORIZATION</c> and "all" for <c>SHOW ALL</c>.
    /// </summary>
    public static bool TryParseShow(string sql, out string name)
    {
        ArgumentNullException.ThrowIfNull(sql);
        name = "";
        var lexer = new SqlLexer(sql);
        if (!lexer.NextSignificant().Is(sql, "SHOW"))
        {
            return false;
        }

        SqlToken token = lexer.NextSignificant();
        if (token.Is(sql, "TIME") && NextIs(ref lexer, "ZONE"))
        {
            name = "timezone";
        }
        else if (token.Is(sql, "TRANSACTION") && NextIs(ref lexer, "ISOLATION") && NextIs(ref lexer, "LEVEL"))
        {
            name = "transaction_isolation";
        }
        else if (token.Is(sql, "SESSION") && NextIs(ref lexer, "AUTHORIZATION"))
        {
            name = "session_authorization";
        }
        else if (!TryParseName(ref lexer, token, out name))
        {
            return false;
        }

        return IsStatementEnd(lexer.NextSignificant());
    }

    private static bool IsAssignment(SqlToken token, ReadOnlySpan<char> sql) =>
        (token.Kind == SqlTokenKind.Operator && token.Length == 1 && sql[token.Start] == '=') || token.Is(sql, "TO");

    private static bool IsStatementEnd(SqlToken token) => token.Kind is SqlTokenKind.End or SqlTokenKind.Semicolon;

    /// <summary>A possibly dotted parameter name ("work_mem", "myapp.user", "\"Quoted\"").</summary>
    private static bool TryParseName(ref SqlLexer lexer, SqlToken token, out string name)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        name = "";
        var builder = new StringBuilder();
        while (true)
        {
            switch (token.Kind)
            {
                case SqlTokenKind.Word:
                    builder.Append(Lower(token.Text(sql)));
                    break;
                case SqlTokenKind.QuotedIdentifier when sql[token.Start] == '"':
                    builder.Append(Unquote(token.Text(sql), '"'));
                    break;
                default:
                    return false;
            }

            SqlLexer probe = lexer;
            if (probe.NextSignificant().Kind != SqlTokenKind.Dot)
            {
                break;
            }

            lexer = probe;
            builder.Append('.');
            token = lexer.NextSignificant();
        }

        name = builder.ToString();
        return name.Length > 0;
    }

    private static bool TryParseTimeZone(ref SqlLexer lexer, out string? value)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        value = null;
        SqlToken token = lexer.PeekSignificant();
        if (token.Is(sql, "LOCAL") || token.Is(sql, "DEFAULT"))
        {
            lexer.NextSignificant();
            return IsStatementEnd(lexer.NextSignificant());
        }

        // SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE: keep the text for the engine/session to judge.
        if (token.Is(sql, "INTERVAL"))
        {
            int start = token.Start;
            int end = start;
            SqlToken part;
            while (!IsStatementEnd(part = lexer.NextSignificant()))
            {
                end = part.End;
            }

            value = sql[start..end].ToString();
            return true;
        }

        return TryParseValues(ref lexer, "timezone", out value);
    }

    /// <summary>A comma-separated list of values up to the end of the statement.</summary>
    private static bool TryParseValues(ref SqlLexer lexer, string name, out string? value)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        value = null;
        var builder = new StringBuilder();
        int items = 0;
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            string sign = "";
            if (token.Kind == SqlTokenKind.Operator && token.Length == 1 && sql[token.Start] is '-' or '+')
            {
                sign = sql[token.Start] == '-' ? "-" : "";
                token = lexer.NextSignificant();
                if (token.Kind != SqlTokenKind.Number)
                {
                    return false;
                }
            }

            string item;
            switch (token.Kind)
            {
                case SqlTokenKind.String when sql[token.Start] == '\'':
                    item = Unquote(token.Text(sql), '\'');
                    break;
                case SqlTokenKind.EscapeString:
                    item = UnescapeE(token.Text(sql)[1..]);
                    break;
                case SqlTokenKind.DollarString:
                    item = DollarBody(token.Text(sql));
                    break;
                case SqlTokenKind.Number:
                    item = sign + token.Text(sql).ToString();
                    break;
                case SqlTokenKind.Word:
                    if (items == 0 && token.Is(sql, "DEFAULT") && IsStatementEnd(lexer.PeekSignificant()))
                    {
                        lexer.NextSignificant();
                        return true;
                    }

                    item = Lower(token.Text(sql));
                    break;
                case SqlTokenKind.QuotedIdentifier when sql[token.Start] == '"':
                    string unquoted = Unquote(token.Text(sql), '"');
                    // search_path keeps the quotes a name needs, as PostgreSQL shows it.
                    item = name == "search_path" && !IsPlainLowerIdentifier(unquoted) ? token.Text(sql).ToString() : unquoted;
                    break;
                default:
                    return false;
            }

            if (items++ > 0)
            {
                builder.Append(", ");
            }

            builder.Append(item);
            SqlToken after = lexer.NextSignificant();
            if (IsStatementEnd(after))
            {
                value = builder.ToString();
                return true;
            }

            if (after.Kind != SqlTokenKind.Comma)
            {
                return false;
            }
        }
    }

    private static bool IsPlainLowerIdentifier(string text)
    {
        if (text.Length == 0 || !(char.IsAsciiLetterLower(text[0]) || text[0] == '_'))
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '$'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Removes the surrounding quotes and un-doubles inner ones.</summary>
    internal static string Unquote(ReadOnlySpan<char> text, char quote)
    {
        if (text.Length < 2 || text[0] != quote)
        {
            return text.ToString();
        }

        ReadOnlySpan<char> body = text[^1] == quote ? text[1..^1] : text[1..];
        return body.Contains(quote) ? body.ToString().Replace(new string(quote, 2), new string(quote, 1), StringComparison.Ordinal) : body.ToString();
    }

    /// <summary>The value of an E'...' string (the span starts at the quote).</summary>
    internal static string UnescapeE(ReadOnlySpan<char> quoted)
    {
        ReadOnlySpan<char> body = quoted.Length >= 2 && quoted[^1] == '\'' ? quoted[1..^1] : quoted[1..];
        var builder = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '\'' && i + 1 < body.Length && body[i + 1] == '\'')
            {
                builder.Append('\'');
                i++;
            }
            else if (c == '\\' && i + 1 < body.Length)
            {
                char e = body[++i];
                builder.Append(e switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\b',
                    'f' => '\f',
                    _ => e,
                });
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string DollarBody(ReadOnlySpan<char> text)
    {
        int open = text[1..].IndexOf('$') + 2;
        int bodyEnd = text.Length - open;
        return bodyEnd >= open ? text[open..bodyEnd].ToString() : "";
    }
}
