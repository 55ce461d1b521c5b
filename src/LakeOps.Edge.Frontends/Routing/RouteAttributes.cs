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
