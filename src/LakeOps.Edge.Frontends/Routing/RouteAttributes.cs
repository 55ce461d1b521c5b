using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>Pure helpers the sessions use to fill a <see cref="RouteRequest"/> and to spot EXPLAIN ROUTE.</summary>
internal static class RouteAttributes
{
    /// <summary>"a, b,,c" -> [a, b, c]; empty or null -> [].</summary>
    public static IReadOnlyList<string> SplitTags(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>
    /// The schema routing uses for a PostgreSQL search_path value (as SET or SHOW spell it, e.g.
    /// <c>sales, public</c> or <c>"$user", public</c>): its first element, unquoted; <c>"$user"</c> is
    /// skipped (whether the user's schema exists is the server's business). "public" when nothing is left.
    /// </summary>
    public static string FirstSchema(string? searchPath)
    {
        ReadOnlySpan<char> rest = (searchPath ?? "").AsSpan();
        while (true)
        {
            rest = rest.TrimStart();
            if (rest.IsEmpty)
            {
                return "public";
            }

            string element;
            if (rest[0] == '"')
            {
                // A quoted name: "" inside is one quote; keep its case.
                var name = new System.Text.StringBuilder();
                int i = 1;
                while (i < rest.Length && !(rest[i] == '"' && (i + 1 == rest.Length || rest[i + 1] != '"')))
                {
                    name.Append(rest[i]);
                    i += rest[i] == '"' ? 2 : 1;
                }

                element = name.ToString();
                rest = i < rest.Length ? rest[(i + 1)..] : [];
            }
            else
            {
                int comma = rest.IndexOf(',');
                element = (comma < 0 ? rest : rest[..comma]).Trim().ToString().ToLowerInvariant();
                rest = comma < 0 ? [] : rest[comma..];
            }

            rest = rest.TrimStart();
            if (!rest.IsEmpty && rest[0] == ',')
            {
                rest = rest[1..];
            }

            if (element.Length > 0 && element != "$user")
            {
                return element;
            }
        }
    }

    /// <summary>The user's roles from <c>users.NAME.roles</c> (none for unknown users).</summary>
    public static IReadOnlyList<string> RolesOf(EdgeConfig config, string user) =>
        config.Users.TryGetValue(user, out UserConfig? account) ? account.Roles : [];

    /// <summary>The <c>-c name=value</c> and <c>--name=value</c> settings of a PostgreSQL startup <c>options</c> parameter.</summary>
    public static List<KeyValuePair<string, string>> ParsePgOptions(string options) =>
        Postgres.Passthrough.SessionSettings.ParseOptions(options);

    /// <summary>
    /// True for <c>EXPLAIN ROUTE statement</c> (any case, any whitespace, leading comments allowed);
    /// <paramref name="statement"/> is the text after ROUTE.
    /// </summary>
    public static bool TryParseExplainRoute(string sql, out string statement)
    {
        statement = "";
        ReadOnlySpan<char> text = SkipSpaceAndComments(sql.AsSpan());
        if (!StartsWithWord(text, "EXPLAIN"))
        {
            return false;
        }

        text = SkipSpaceAndComments(text[7..]);
        if (!StartsWithWord(text, "ROUTE"))
        {
            return false;
        }

        ReadOnlySpan<char> rest = text[5..];
        if (rest.Length > 0 && !char.IsWhiteSpace(rest[0]) && rest[0] != '/' && rest[0] != '-')
        {
            return false;
        }

        statement = rest.Trim().TrimEnd(';').TrimEnd().ToString();
        return true;
    }

    /// <summary>
    /// MySQL <c>SET @edge_tags = 'a,b'</c> (or <c>:=</c>, double quotes, NULL): the tags value (null for NULL).
    /// Only this one assignment; anything else returns false.
    /// </summary>
    public static bool TryParseEdgeTagsSet(string sql, out string? value)
    {
        value = null;
        ReadOnlySpan<char> text = SkipSpaceAndComments(sql.AsSpan());
        if (!StartsWithWord(text, "SET"))
        {
            return false;
        }

        text = SkipSpaceAndComments(text[3..]);
        if (!text.StartsWith("@edge_tags", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        text = text["@edge_tags".Length..].TrimStart();
        if (text.StartsWith(":=", StringComparison.Ordinal))
        {
            text = text[2..];
        }
        else if (text.StartsWith("=", StringComparison.Ordinal))
        {
            text = text[1..];
        }
        else
        {
            return false;
        }

        text = text.Trim().TrimEnd(';').TrimEnd();
        if (text.Equals("NULL", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (text.Length < 2 || (text[0] != '\'' && text[0] != '"') || text[^1] != text[0])
        {
            return false;
        }

        ReadOnlySpan<char> inner = text[1..^1];
        char quote = text[0];
        if (inner.Contains(quote) || inner.Contains('\\'))
        {
            // Escapes are not worth supporting in a tag list.
            return false;
        }

        value = inner.ToString();
        return true;
    }

    /// <summary>
    /// A cheap filter for passthrough hot paths, on the statement's UTF-8 bytes: true when the text may be
    /// <c>EXPLAIN ROUTE ...</c> (the words EXPLAIN and ROUTE first, after whitespace and comments). Allocates
    /// nothing; <see cref="TryParseExplainRoute"/> decides.
    /// </summary>
    public static bool MayBeExplainRoute(ReadOnlySpan<byte> sql)
    {
        sql = SkipSpaceAndComments(sql);
        if (!StartsWithWord(sql, "EXPLAIN"u8))
        {
            return false;
        }

        return StartsWithWord(SkipSpaceAndComments(sql[7..]), "ROUTE"u8);
    }

    private static bool StartsWithWord(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word) =>
        text.Length >= word.Length && System.Text.Ascii.EqualsIgnoreCase(text[..word.Length], word)
        && (text.Length == word.Length || !(char.IsAsciiLetterOrDigit((char)text[word.Length]) || text[word.Length] == '_'));

    private static ReadOnlySpan<byte> SkipSpaceAndComments(ReadOnlySpan<byte> text)
    {
        while (true)
        {
            int start = text.IndexOfAnyExcept(" \t\r\n\f"u8);
            text = start < 0 ? [] : text[start..];
            if (text.StartsWith("--"u8) || text.StartsWith("#"u8))
            {
                int end = text.IndexOf((byte)'\n');
                text = end < 0 ? [] : text[(end + 1)..];
            }
            else if (text.StartsWith("/*"u8))
            {
                int end = text.IndexOf("*/"u8);
                text = end < 0 ? [] : text[(end + 2)..];
            }
            else
            {
                return text;
            }
        }
    }

    private static bool StartsWithWord(ReadOnlySpan<char> text, string word) =>
        text.StartsWith(word, StringComparison.OrdinalIgnoreCase)
        && (text.Length == word.Length || !(char.IsAsciiLetterOrDigit(text[word.Length]) || text[word.Length] == '_'));

    private static ReadOnlySpan<char> SkipSpaceAndComments(ReadOnlySpan<char> text)
    {
        while (true)
        {
            text = text.TrimStart();
            if (text.StartsWith("--", StringComparison.Ordinal))
            {
                int end = text.IndexOf('\n');
                text = end < 0 ? [] : text[(end + 1)..];
            }
            else if (text.StartsWith("/*", StringComparison.Ordinal))
            {
                int end = text.IndexOf("*/", StringComparison.Ordinal);
                text = end < 0 ? [] : text[(end + 2)..];
            }
            else
            {
                return text;
            }
        }
    }
}
