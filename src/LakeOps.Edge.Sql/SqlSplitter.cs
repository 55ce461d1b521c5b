using System.Buffers;

namespace LakeOps.Edge.Sql;

/// <summary>
/// Splits a simple-query string into statements, as the PostgreSQL server does.
/// <list type="bullet">
/// <item>Statements end at a <c>;</c> that is outside strings, quoted identifiers, comments,
///   dollar quotes, parentheses/brackets and <c>BEGIN ATOMIC ... END</c> function bodies.</item>
/// <item>Each statement is returned trimmed of surrounding whitespace, without its <c>;</c>.
///   Comments inside or before a statement are kept.</item>
/// <item>Pieces that hold only whitespace and comments are skipped, so <c>"select 1;;select 2"</c>
///   gives two statements, and <c>""</c>, <c>";"</c> or <c>"-- x"</c> give an empty list (the front
///   door then answers one EmptyQueryResponse, as PostgreSQL does).</item>
/// <item>A single statement without surrounding whitespace or <c>;</c> comes back as the same string instance.</item>
/// </list>
/// </summary>
public static class SqlSplitter
{
    private static readonly SearchValues<char> SeparatorsAndComments = SearchValues.Create(";-/");

    private const string Whitespace = " \t\n\r\f\v";

    public static IReadOnlyList<string> Split(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);

        // Fast path: without ';' and comment starts there is at most one statement, with nothing to trim but whitespace.
        if (sql.AsSpan().IndexOfAny(SeparatorsAndComments) < 0)
        {
            ReadOnlySpan<char> trimmed = sql.AsSpan().Trim(Whitespace);
            return trimmed.IsEmpty ? [] : [trimmed.Length == sql.Length ? sql : trimmed.ToString()];
        }

        List<string>? many = null;
        string? first = null;
        var splitter = new StatementScanner(sql);
        while (splitter.TryNext(out int start, out int end))
        {
            string text = start == 0 && end == sql.Length ? sql : sql[start..end];
            if (first is null)
            {
                first = text;
            }
            else
            {
                many ??= [first];
                many.Add(text);
            }
        }

        return many ?? (first is null ? [] : [first]);
    }

    /// <summary>Counts the statements without allocating (for limits and metrics).</summary>
    public static int Count(ReadOnlySpan<char> sql)
    {
        var splitter = new StatementScanner(sql);
        int count = 0;
        while (splitter.TryNext(out _, out _))
        {
            count++;
        }

        return count;
    }

    /// <summary>Walks the statements of a string: yields [start, end) of each non-empty, trimmed statement.</summary>
    private ref struct StatementScanner
    {
        private SqlLexer _lexer;

        public StatementScanner(ReadOnlySpan<char> sql) => _lexer = new SqlLexer(sql);

        public bool TryNext(out int start, out int end)
        {
            ReadOnlySpan<char> sql = _lexer.Sql;
            while (true)
            {
                start = -1;
                end = -1;
                int depth = 0;
                int atomicDepth = 0;
                bool isCreate = false;
                bool previousWasBegin = false;
                bool hasStatement = false;
                SqlToken token;
                while (true)
                {
                    token = _lexer.Next();
                    if (token.Kind == SqlTokenKind.End || (token.Kind == SqlTokenKind.Semicolon && depth == 0 && atomicDepth == 0))
                    {
                        break;
                    }

                    if (token.Kind == SqlTokenKind.Whitespace)
                    {
                        continue;
                    }

                    // Leading comments belong to the statement; trailing ones are trimmed with the whitespace.
                    if (start < 0)
                    {
                        start = token.Start;
                    }

                    if (token.IsTrivia)
                    {
                        continue;
                    }

                    end = token.End;
                    switch (token.Kind)
                    {
                        case SqlTokenKind.OpenParen or SqlTokenKind.OpenBracket:
                            depth++;
                            break;
                        case SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket:
                            depth = Math.Max(0, depth - 1);
                            break;
                        case SqlTokenKind.Word when !hasStatement:
                            isCreate = token.Is(sql, "CREATE");
                            break;
                        case SqlTokenKind.Word when isCreate:
                            // SQL-standard function bodies (BEGIN ATOMIC ... END) contain semicolons.
                            if (previousWasBegin && token.Is(sql, "ATOMIC"))
                            {
                                atomicDepth++;
                            }
                            else if (atomicDepth > 0 && token.Is(sql, "CASE"))
                            {
                                atomicDepth++;
                            }
                            else if (atomicDepth > 0 && token.Is(sql, "END"))
                            {
                                atomicDepth--;
                            }

                            break;
                    }

                    hasStatement = true;
                    previousWasBegin = token.Is(sql, "BEGIN");
                }

                if (hasStatement)
                {
                    return true;
                }

                if (token.Kind == SqlTokenKind.End)
                {
                    return false;
                }
            }
        }
    }
}
