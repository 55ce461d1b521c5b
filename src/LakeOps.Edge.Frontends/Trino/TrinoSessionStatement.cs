using System.Text;
using System.Text.RegularExpressions;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>The statements the Trino front door answers itself with session response headers.</summary>
internal enum TrinoSessionStatementKind
{
    None,
    Use,
    SetSession,
    ResetSession,
    Prepare,
    Execute,
    Deallocate,
    StartTransaction,
    Commit,
    Rollback,
}

/// <summary>
/// Recognises Trino's session statements (USE, SET/RESET SESSION, PREPARE/EXECUTE/DEALLOCATE PREPARE,
/// START TRANSACTION/COMMIT/ROLLBACK) and takes them apart. Pure; anything else is
/// <see cref="TrinoSessionStatementKind.None"/> and goes to the engine.
/// </summary>
internal sealed partial class TrinoSessionStatement
{
    public TrinoSessionStatementKind Kind { get; private init; }

    /// <summary>USE: the catalog (null when only a schema is named).</summary>
    public string? Catalog { get; private init; }

    /// <summary>USE: the schema.</summary>
    public string? Schema { get; private init; }

    /// <summary>SET/RESET SESSION property, PREPARE/EXECUTE/DEALLOCATE statement name.</summary>
    public string? Name { get; private init; }

    /// <summary>SET SESSION value (string literals unquoted), PREPARE statement text.</summary>
    public string? Value { get; private init; }

    /// <summary>EXECUTE ... USING: the parameter expressions as written.</summary>
    public IReadOnlyList<string> Parameters { get; private init; } = [];

    public static TrinoSessionStatement Parse(string sql)
    {
        string text = sql.Trim().TrimEnd(';').Trim();
        Match match;
        if ((match = UseRegex().Match(text)).Success)
        {
            string first = Unquote(match.Groups[1].Value);
            return match.Groups[2].Success
                ? new() { Kind = TrinoSessionStatementKind.Use, Catalog = first, Schema = Unquote(match.Groups[2].Value) }
                : new() { Kind = TrinoSessionStatementKind.Use, Schema = first };
        }

        if ((match = SetSessionRegex().Match(text)).Success)
        {
            return new() { Kind = TrinoSessionStatementKind.SetSession, Name = match.Groups[1].Value, Value = LiteralValue(match.Groups[2].Value.Trim()) };
        }

        if ((match = ResetSessionRegex().Match(text)).Success)
        {
            return new() { Kind = TrinoSessionStatementKind.ResetSession, Name = match.Groups[1].Value };
        }

        if ((match = PrepareRegex().Match(text)).Success)
        {
            return new() { Kind = TrinoSessionStatementKind.Prepare, Name = Unquote(match.Groups[1].Value), Value = match.Groups[2].Value.Trim() };
        }

        if ((match = ExecuteRegex().Match(text)).Success)
        {
            return new()
            {
                Kind = TrinoSessionStatementKind.Execute,
                Name = Unquote(match.Groups[1].Value),
                Parameters = match.Groups[2].Success ? SplitParameters(match.Groups[2].Value) : [],
            };
        }

        if ((match = DeallocateRegex().Match(text)).Success)
        {
            return new() { Kind = TrinoSessionStatementKind.Deallocate, Name = Unquote(match.Groups[1].Value) };
        }

        if (StartTransactionRegex().IsMatch(text))
        {
            return new() { Kind = TrinoSessionStatementKind.StartTransaction };
        }

        if (CommitRegex().IsMatch(text))
        {
            return new() { Kind = TrinoSessionStatementKind.Commit };
        }

        if (RollbackRegex().IsMatch(text))
        {
            return new() { Kind = TrinoSessionStatementKind.Rollback };
        }

        return None;
    }

    public static TrinoSessionStatement None { get; } = new() { Kind = TrinoSessionStatementKind.None };

    /// <summary>
    /// The prepared statement's text with each <c>?</c> outside string literals, quoted identifiers and
    /// comments replaced by the next parameter expression (Trino substitutes them the same way, as
    /// expressions). Null when the counts differ.
    /// </summary>
    public static string? Bind(string sql, IReadOnlyList<string> parameters)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        var result = new StringBuilder(sql.Length + 16);
        int next = 0;
        for (int i = 0; i < sql.Length; i++)
        {
            char c = sql[i];
            if (c is '\'' or '"')
            {
                int end = i + 1;
                while (end < sql.Length && !(sql[end] == c && (end + 1 >= sql.Length || sql[end + 1] != c)))
                {
                    end += sql[end] == c ? 2 : 1;
                }

                end = Math.Min(end, sql.Length - 1);
                result.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                int end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length - 1 : end;
                result.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length - 1 : end + 1;
                result.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '?')
            {
                if (next >= parameters.Count)
                {
                    return null;
                }

                result.Append(parameters[next++]);
            }
            else
            {
                result.Append(c);
            }
        }

        return next == parameters.Count ? result.ToString() : null;
    }

    /// <summary>Splits "1, 'a,b', f(2, 3)" at top-level commas outside string literals.</summary>
    internal static IReadOnlyList<string> SplitParameters(string text)
    {
        var parts = new List<string>();
        int depth = 0;
        int start = 0;
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && c == '(')
            {
                depth++;
            }
            else if (!quoted && c == ')')
            {
                depth--;
            }
            else if (!quoted && depth == 0 && c == ',')
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }

        string last = text[start..].Trim();
        if (last.Length > 0)
        {
            parts.Add(last);
        }

        return parts;
    }

    /// <summary>'it''s' -> it's; other literals (numbers, true) as written.</summary>
    private static string LiteralValue(string text) =>
        text.Length >= 2 && text[0] == '\'' && text[^1] == '\''
            ? text[1..^1].Replace("''", "'", StringComparison.Ordinal)
            : text;

    private static string Unquote(string identifier) =>
        identifier.Length >= 2 && identifier[0] == '"' && identifier[^1] == '"'
            ? identifier[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal)
            : identifier.ToLowerInvariant();

    private const string Identifier = "(\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$@-]*)";

    [GeneratedRegex("^USE\\s+" + Identifier + "(?:\\s*\\.\\s*" + Identifier + ")?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UseRegex();

    [GeneratedRegex("^SET\\s+SESSION\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)\\s*=\\s*(.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex SetSessionRegex();

    [GeneratedRegex("^RESET\\s+SESSION\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ResetSessionRegex();

    [GeneratedRegex("^PREPARE\\s+" + Identifier + "\\s+FROM\\s+(.+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex PrepareRegex();

    [GeneratedRegex("^EXECUTE\\s+" + Identifier + "(?:\\s+USING\\s+(.+))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex ExecuteRegex();

    [GeneratedRegex("^DEALLOCATE\\s+PREPARE\\s+" + Identifier + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DeallocateRegex();

    [GeneratedRegex("^START\\s+TRANSACTION\\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex StartTransactionRegex();

    [GeneratedRegex("^COMMIT(\\s+WORK)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CommitRegex();

    [GeneratedRegex("^ROLLBACK(\\s+WORK)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RollbackRegex();
}
