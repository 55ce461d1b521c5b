using System.Text;

namespace LakeOps.Edge.Sql.Translation;

/// <summary>
/// Replaces <c>current_setting('name')</c> with the value as a string literal when the gateway
/// owns that setting (application_name, DateStyle, ...), because the engine does not know it.
/// Settings the gateway does not own are left for the engine.
/// </summary>
public static class SessionSettingInliner
{
    /// <summary>Returns <paramref name="sql"/> itself when nothing is inlined.</summary>
    public static string Inline(string sql, Func<string, string?> gatewaySetting)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(gatewaySetting);
        if (!sql.Contains("current_setting", StringComparison.OrdinalIgnoreCase))
        {
            return sql;
        }

        StringBuilder? result = null;
        int copied = 0;
        var lexer = new SqlLexer(sql);
        SqlToken previous = default;
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }

            // current_setting ( 'name' [, missing_ok] ) — optionally pg_catalog-qualified.
            bool qualified = previous.Kind == SqlTokenKind.Dot;
            previous = token;
            if (token.Kind != SqlTokenKind.Word || !token.IsName(sql, "current_setting"))
            {
                continue;
            }

            int start = qualified ? StartOfQualifier(sql, token) : token.Start;
            if (start < 0)
            {
                continue;
            }

            var probe = lexer;
            if (probe.NextSignificant().Kind != SqlTokenKind.OpenParen)
            {
                continue;
            }

            SqlToken name = probe.NextSignificant();
            if (name.Kind != SqlTokenKind.String)
            {
                continue;
            }

            SqlToken next = probe.NextSignificant();
            if (next.Kind == SqlTokenKind.Comma)
            {
                probe.NextSignificant();
                next = probe.NextSignificant();
            }

            if (next.Kind != SqlTokenKind.CloseParen)
            {
                continue;
            }

            if (gatewaySetting(StatementClassifier.Unquote(name.Text(sql), '\'')) is not { } value)
            {
                continue;
            }

            result ??= new StringBuilder(sql.Length + 16);
            result.Append(sql, copied, start - copied).Append('\'').Append(value.Replace("'", "''", StringComparison.Ordinal)).Append('\'');
            copied = next.End;
            lexer = probe;
        }

        return result is null ? sql : result.Append(sql, copied, sql.Length - copied).ToString();
    }

    /// <summary>Start of "pg_catalog." before the token, or -1.</summary>
    private static int StartOfQualifier(string sql, SqlToken token)
    {
        const string Qualifier = "pg_catalog.";
        int start = token.Start - Qualifier.Length;
        return start >= 0 && sql.AsSpan(start, Qualifier.Length).Equals(Qualifier, StringComparison.OrdinalIgnoreCase) ? start : -1;
    }
}
