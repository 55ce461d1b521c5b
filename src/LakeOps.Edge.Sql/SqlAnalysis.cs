using System.Buffers;

namespace LakeOps.Edge.Sql;

/// <summary>
/// What routing needs to know about one statement, computed in one lexer pass: the coarse kind,
/// the tables it references, the leading <c>/* edge: ... */</c> hint and the fingerprint.
/// Immutable; one per statement, shared by every rule that looks at it.
/// Give it one statement (split batches with <see cref="SqlSplitter"/> first): for a batch, the
/// kind is the first statement's, while tables and fingerprint cover the whole text.
/// </summary>
public sealed class SqlAnalysis
{
    private SqlAnalysis(StatementCategory kind, IReadOnlyList<string> tables, SqlHint hint, ulong fingerprint)
    {
        Kind = kind;
        Tables = tables;
        Hint = hint;
        Fingerprint = fingerprint;
    }

    public StatementCategory Kind { get; }

    /// <summary>
    /// Referenced tables as qualified names (<c>schema.table</c>, <c>catalog.schema.table</c>), in order
    /// of first appearance, without duplicates. Quotes are removed; unquoted parts are lower-cased,
    /// quoted parts keep their case. CTE names, subqueries and table functions are not tables.
    /// </summary>
    public IReadOnlyList<string> Tables { get; }

    public SqlHint Hint { get; }

    /// <summary>See <see cref="SqlFingerprint"/>; the same value <c>SqlFingerprint.Compute(sql, syntax)</c> gives.</summary>
    public ulong Fingerprint { get; }

    public static SqlAnalysis Analyze(string sql, SqlSyntax syntax)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return Analyze(sql.AsSpan(), syntax);
    }

    public static SqlAnalysis Analyze(ReadOnlySpan<char> sql, SqlSyntax syntax)
    {
        Span<Expect> lists = stackalloc Expect[MaxDepth];
        Span<Cte> ctes = stackalloc Cte[MaxDepth];
        Span<bool> functions = stackalloc bool[MaxDepth];
        lists.Clear();
        ctes.Clear();
        functions.Clear();
        var walker = new TableWalker(sql, syntax, lists, ctes, functions);
        return walker.Run();
    }

    /// <summary>What a table-introducing keyword expects next.</summary>
    private enum Expect : byte
    {
        Nothing,

        /// <summary>FROM / JOIN / USING / UPDATE: a name followed by '(' is a table function; commas continue the list.</summary>
        FromItem,

        /// <summary>INTO / INSERT / REPLACE: one table, a following '(' is its column list.</summary>
        Target,

        /// <summary>TABLE / TRUNCATE / DROP TABLE: a comma-separated list of tables.</summary>
        TableList,
    }

    /// <summary>Per parenthesis depth: where a WITH list stands.</summary>
    private enum Cte : byte
    {
        None,
        ExpectName,
        Header,
        HeaderAs,
        Body,
        AfterBody,
    }

    private const int MaxDepth = 64;

    private ref struct TableWalker
    {
        private readonly ReadOnlySpan<char> _sql;
        private SqlLexer _lexer;
        private FingerprintBuilder _fingerprint;
        private List<string>? _tables;
        private List<string>? _cteNames;
        private SqlHint? _hint;
        private StatementCategory? _kind;
        private bool _pendingWithKind;
        private int _depth;
        private Expect _expect;
        private SqlToken _previous;
        private SqlToken _current; // the last token consumed (a qualified name consumes several)

        // Per depth (up to MaxDepth; deeper text is still fingerprinted but its tables are ignored).
        private Span<Expect> _listAtDepth;
        private Span<Cte> _cteAtDepth;
        private Span<bool> _functionParen;

        public TableWalker(ReadOnlySpan<char> sql, SqlSyntax syntax, Span<Expect> lists, Span<Cte> ctes, Span<bool> functions)
        {
            _sql = sql;
            _lexer = new SqlLexer(sql, syntax);
            _fingerprint = FingerprintBuilder.Create();
            _listAtDepth = lists;
            _cteAtDepth = ctes;
            _functionParen = functions;
        }

        public SqlAnalysis Run()
        {

            bool leading = true;
            while (true)
            {
                SqlToken token = _lexer.Next();
                if (token.Kind == SqlTokenKind.End)
                {
                    break;
                }

                _fingerprint.Add(token, _sql);
                if (token.IsTrivia)
                {
                    if (leading && _hint is null && token.Kind == SqlTokenKind.BlockComment)
                    {
                        _hint = SqlHint.TryParse(token.Text(_sql));
                    }

                    continue;
                }

                leading = false;
                _current = token;
                Step(token);
                _previous = _current;
            }

            return new SqlAnalysis(_kind ?? StatementCategory.Utility, FinishTables(), _hint ?? SqlHint.None, _fingerprint.Finish());
        }

        private readonly bool Tracked => _depth < MaxDepth;

        private void Step(SqlToken token)
        {
            if (_kind is null && !_pendingWithKind && token.Kind != SqlTokenKind.OpenParen)
            {
                ClassifyFirst(token);
            }

            switch (token.Kind)
            {
                case SqlTokenKind.OpenParen:
                    OpenParen();
                    return;
                case SqlTokenKind.CloseParen:
                    CloseParen();
                    return;
                case SqlTokenKind.Semicolon:
                    _expect = Expect.Nothing;
                    return;
            }

            if (Tracked && CteStep(token))
            {
                return;
            }

            if (_expect != Expect.Nothing)
            {
                if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                {
                    if (token.Kind == SqlTokenKind.Word && IsTableModifier(token.Text(_sql)))
                    {
                        return;
                    }

                    if (token.Kind != SqlTokenKind.Word || !IsClauseKeyword(token.Text(_sql)))
                    {
                        ReadTable(token);
                        return;
                    }

                    _expect = Expect.Nothing;
                }
                else
                {
                    _expect = Expect.Nothing;
                }
            }

            switch (token.Kind)
            {
                case SqlTokenKind.Comma when Tracked && _listAtDepth[_depth] != Expect.Nothing:
                    _expect = _listAtDepth[_depth];
                    return;
                case SqlTokenKind.Word:
                    Keyword(token.Text(_sql));
                    return;
            }
        }

        private void ClassifyFirst(SqlToken token)
        {
            if (token.Kind != SqlTokenKind.Word)
            {
                _kind = StatementCategory.Utility;
                return;
            }

            ReadOnlySpan<char> word = token.Text(_sql);
            if (word.Equals("WITH", StringComparison.OrdinalIgnoreCase))
            {
                _pendingWithKind = true;
                return;
            }

            _kind = DataKind(word) ?? (IsDdl(word) ? StatementCategory.Ddl : StatementCategory.Utility);
        }

        private static StatementCategory? DataKind(ReadOnlySpan<char> word)
        {
            if (word.Equals("SELECT", StringComparison.OrdinalIgnoreCase) || word.Equals("TABLE", StringComparison.OrdinalIgnoreCase) || word.Equals("VALUES", StringComparison.OrdinalIgnoreCase))
            {
                return StatementCategory.Select;
            }

            if (word.Equals("INSERT", StringComparison.OrdinalIgnoreCase) || word.Equals("REPLACE", StringComparison.OrdinalIgnoreCase) || word.Equals("UPSERT", StringComparison.OrdinalIgnoreCase))
            {
                return StatementCategory.Insert;
            }

            if (word.Equals("UPDATE", StringComparison.OrdinalIgnoreCase))
            {
                return StatementCategory.Update;
            }

            if (word.Equals("DELETE", StringComparison.OrdinalIgnoreCase))
            {
                return StatementCategory.Delete;
            }

            return word.Equals("MERGE", StringComparison.OrdinalIgnoreCase) ? StatementCategory.Merge : null;
        }

        private static bool IsDdl(ReadOnlySpan<char> word) =>
            word.Equals("CREATE", StringComparison.OrdinalIgnoreCase) || word.Equals("DROP", StringComparison.OrdinalIgnoreCase)
            || word.Equals("ALTER", StringComparison.OrdinalIgnoreCase) || word.Equals("TRUNCATE", StringComparison.OrdinalIgnoreCase)
            || word.Equals("RENAME", StringComparison.OrdinalIgnoreCase) || word.Equals("COMMENT", StringComparison.OrdinalIgnoreCase)
            || word.Equals("GRANT", StringComparison.OrdinalIgnoreCase) || word.Equals("REVOKE", StringComparison.OrdinalIgnoreCase);

        private void OpenParen()
        {
            // "FROM (" / "JOIN (": a subquery, or a parenthesised join whose first item is a table.
            bool fromParen = _expect == Expect.FromItem;
            _expect = Expect.Nothing;
            bool function = _previous.Kind == SqlTokenKind.QuotedIdentifier
                || (_previous.Kind == SqlTokenKind.Word && !OpensQuery(_previous.Text(_sql)));
            if (Tracked && _cteAtDepth[_depth] == Cte.HeaderAs)
            {
                _cteAtDepth[_depth] = Cte.Body;
                function = false;
            }

            _depth++;
            if (Tracked)
            {
                _listAtDepth[_depth] = Expect.Nothing;
                _cteAtDepth[_depth] = Cte.None;
                _functionParen[_depth] = function;
                if (fromParen)
                {
                    _expect = Expect.FromItem;
                    _listAtDepth[_depth] = Expect.FromItem;
                }
            }
        }

        private void CloseParen()
        {
            _expect = Expect.Nothing;
            if (_depth > 0)
            {
                _depth--;
            }

            if (Tracked && _cteAtDepth[_depth] == Cte.Body)
            {
                _cteAtDepth[_depth] = Cte.AfterBody;
            }
        }

        /// <summary>Tracks <c>WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...) [, ...]</c>; true when the token was consumed.</summary>
        private bool CteStep(SqlToken token)
        {
            switch (_cteAtDepth[_depth])
            {
                case Cte.ExpectName:
                    if (token.Kind == SqlTokenKind.Word && token.Text(_sql).Equals("RECURSIVE", StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }

                    if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                    {
                        (_cteNames ??= []).Add(NamePart(token));
                        _cteAtDepth[_depth] = Cte.Header;
                        return true;
                    }

                    _cteAtDepth[_depth] = Cte.None;
                    return false;
                case Cte.Header:
                    if (token.Kind == SqlTokenKind.Word && token.Text(_sql).Equals("AS", StringComparison.OrdinalIgnoreCase))
                    {
                        _cteAtDepth[_depth] = Cte.HeaderAs;
                    }

                    return true;
                case Cte.HeaderAs:
                    return true; // NOT / MATERIALIZED before the body
                case Cte.AfterBody:
                    if (token.Kind == SqlTokenKind.Comma)
                    {
                        _cteAtDepth[_depth] = Cte.ExpectName;
                        return true;
                    }

                    _cteAtDepth[_depth] = Cte.None;
                    if (_pendingWithKind && _depth == 0 && token.Kind == SqlTokenKind.Word)
                    {
                        _pendingWithKind = false;
                        _kind = DataKind(token.Text(_sql)) ?? StatementCategory.Utility;
                    }

                    return false;
                default:
                    return false;
            }
        }

        private void Keyword(ReadOnlySpan<char> word)
        {
            // A join condition does not end the FROM list: "FROM a JOIN b ON a.id = b.id, c" goes on with c
            // (the condition's own commas sit inside parentheses, one level down).
            if (Tracked && IsClauseKeyword(word) && !(_listAtDepth[_depth] == Expect.FromItem && word.Equals("ON", StringComparison.OrdinalIgnoreCase)))
            {
                _listAtDepth[_depth] = Expect.Nothing;
            }

            bool inFunction = Tracked && _functionParen[_depth];
            if (word.Equals("WITH", StringComparison.OrdinalIgnoreCase))
            {
                // WITH after ... AS / WITH (options) / WITH TIME ZONE are not CTE lists: only where a query starts.
                if (Tracked && (_previous.Kind is SqlTokenKind.OpenParen || IsQueryStart()))
                {
                    _cteAtDepth[_depth] = Cte.ExpectName;
                }
            }
            else if (word.Equals("FROM", StringComparison.OrdinalIgnoreCase) || word.Equals("JOIN", StringComparison.OrdinalIgnoreCase)
                || word.Equals("STRAIGHT_JOIN", StringComparison.OrdinalIgnoreCase))
            {
                // EXTRACT(x FROM y), SUBSTRING(a FROM 2), TRIM(BOTH FROM s): not a table.
                if (!inFunction)
                {
                    StartList(Expect.FromItem);
                }
            }
            else if (word.Equals("USING", StringComparison.OrdinalIgnoreCase))
            {
                // "JOIN t USING (a, b)" lists columns; "USING (SELECT ...)" is scanned as a subquery anyway.
                if (_lexer.PeekSignificant().Kind != SqlTokenKind.OpenParen)
                {
                    StartList(Expect.FromItem);
                }
            }
            else if (word.Equals("UPDATE", StringComparison.OrdinalIgnoreCase))
            {
                // Only the statement verb: not MERGE's "THEN UPDATE", "FOR UPDATE", "ON DUPLICATE KEY UPDATE", "ON UPDATE".
                if (_previous.Kind != SqlTokenKind.Word)
                {
                    StartList(Expect.FromItem);
                }
            }
            else if (word.Equals("INTO", StringComparison.OrdinalIgnoreCase) || word.Equals("INSERT", StringComparison.OrdinalIgnoreCase)
                || (word.Equals("REPLACE", StringComparison.OrdinalIgnoreCase) && _previous.Kind == SqlTokenKind.End && _kind == StatementCategory.Insert)
                || (word.Equals("COPY", StringComparison.OrdinalIgnoreCase) && _previous.Kind == SqlTokenKind.End))
            {
                _expect = Expect.Target;
            }
            else if (word.Equals("TABLE", StringComparison.OrdinalIgnoreCase) || word.Equals("TRUNCATE", StringComparison.OrdinalIgnoreCase))
            {
                StartList(Expect.TableList);
            }
        }

        /// <summary>The first significant token of the text (WITH as the statement's first word).</summary>
        private readonly bool IsQueryStart() => _previous.Kind == SqlTokenKind.End;

        private void StartList(Expect expect)
        {
            _expect = expect;
            if (Tracked && expect != Expect.Target)
            {
                _listAtDepth[_depth] = expect;
            }
        }

        /// <summary>Reads <c>name(.name)*</c> starting at <paramref name="first"/> and records it unless it is a table function.</summary>
        private void ReadTable(SqlToken first)
        {
            Expect expect = _expect;
            _expect = Expect.Nothing;
            var name = new NameBuffer(stackalloc char[128]);
            AppendPart(ref name, first);
            SqlToken last = first;
            while (true)
            {
                SqlLexer probe = _lexer;
                SqlToken dot = Significant(ref probe, ref _fingerprint, feed: false);
                if (dot.Kind != SqlTokenKind.Dot)
                {
                    break;
                }

                SqlToken part = Significant(ref probe, ref _fingerprint, feed: false);
                if (part.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
                {
                    break;
                }

                // Consume the dot and the part for real, feeding the fingerprint.
                _ = Significant(ref _lexer, ref _fingerprint, feed: true);
                last = Significant(ref _lexer, ref _fingerprint, feed: true);
                name.Append('.');
                AppendPart(ref name, last);
            }

            _current = last;
            if (expect == Expect.FromItem && _lexer.PeekSignificant().Kind == SqlTokenKind.OpenParen)
            {
                name.Dispose();
                return; // a table function such as generate_series(...) or UNNEST(...)
            }

            ReadOnlySpan<char> text = name.AsSpan();
            if (text.IsEmpty)
            {
                name.Dispose();
                return; // "" is no name
            }

            // Compare before creating the string: repeated references allocate nothing.
            _tables ??= [];
            foreach (string known in _tables)
            {
                if (text.SequenceEqual(known))
                {
                    name.Dispose();
                    return;
                }
            }

            _tables.Add(name.ToString());
            name.Dispose();
        }

        private static SqlToken Significant(ref SqlLexer lexer, ref FingerprintBuilder fingerprint, bool feed)
        {
            while (true)
            {
                SqlToken token = lexer.Next();
                if (feed)
                {
                    fingerprint.Add(token, lexer.Sql);
                }

                if (!token.IsTrivia)
                {
                    return token;
                }
            }
        }

        private readonly void AppendPart(ref NameBuffer name, SqlToken token)
        {
            ReadOnlySpan<char> text = token.Text(_sql);
            if (token.Kind == SqlTokenKind.Word)
            {
                foreach (char c in text)
                {
                    name.Append(char.ToLowerInvariant(c));
                }

                return;
            }

            // Quoted: strip the quotes (and a U& prefix), un-double embedded quotes.
            int open = text.IndexOfAny('"', '`');
            if (open < 0 || text.Length < open + 2)
            {
                return;
            }

            char quote = text[open];
            ReadOnlySpan<char> inner = text[(open + 1)..];
            if (inner.Length > 0 && inner[^1] == quote)
            {
                inner = inner[..^1];
            }

            for (int i = 0; i < inner.Length; i++)
            {
                name.Append(inner[i]);
                if (inner[i] == quote && i + 1 < inner.Length && inner[i + 1] == quote)
                {
                    i++;
                }
            }
        }

        private readonly string NamePart(SqlToken token)
        {
            var name = new NameBuffer(stackalloc char[64]);
            AppendPart(ref name, token);
            string text = name.ToString();
            name.Dispose();
            return text;
        }

        private readonly IReadOnlyList<string> FinishTables()
        {
            if (_tables is null)
            {
                return [];
            }

            if (_cteNames is { } cteNames)
            {
                _tables.RemoveAll(t => cteNames.Exists(c => string.Equals(c, t, StringComparison.OrdinalIgnoreCase)));
            }

            return _tables.Count == 0 ? [] : _tables.ToArray();
        }
    }

    /// <summary>Words that may precede a table name without being it.</summary>
    private static bool IsTableModifier(ReadOnlySpan<char> word) =>
        word.Equals("ONLY", StringComparison.OrdinalIgnoreCase) || word.Equals("LATERAL", StringComparison.OrdinalIgnoreCase)
        || word.Equals("IF", StringComparison.OrdinalIgnoreCase) || word.Equals("NOT", StringComparison.OrdinalIgnoreCase)
        || word.Equals("EXISTS", StringComparison.OrdinalIgnoreCase) || word.Equals("INTO", StringComparison.OrdinalIgnoreCase)
        || word.Equals("TABLE", StringComparison.OrdinalIgnoreCase) || word.Equals("IGNORE", StringComparison.OrdinalIgnoreCase)
        || word.Equals("LOW_PRIORITY", StringComparison.OrdinalIgnoreCase) || word.Equals("HIGH_PRIORITY", StringComparison.OrdinalIgnoreCase)
        || word.Equals("DELAYED", StringComparison.OrdinalIgnoreCase) || word.Equals("QUICK", StringComparison.OrdinalIgnoreCase)
        || word.Equals("OVERWRITE", StringComparison.OrdinalIgnoreCase);

    /// <summary>Words that end a FROM / table list (and never name a table there).</summary>
    private static bool IsClauseKeyword(ReadOnlySpan<char> word)
    {
        if (word.Length < 2 || word.Length > 9)
        {
            return false;
        }

        Span<char> upper = stackalloc char[9];
        int n = word.ToUpperInvariant(upper);
        return upper[..n] switch
        {
            "WHERE" or "GROUP" or "HAVING" or "ORDER" or "LIMIT" or "OFFSET" or "UNION" or "INTERSECT" or "EXCEPT"
                or "WINDOW" or "FETCH" or "FOR" or "RETURNING" or "SET" or "VALUES" or "SELECT" or "QUALIFY" or "ON"
                or "DEFAULT" or "WITH" or "DO" or "WHEN" => true,
            _ => false,
        };
    }

    /// <summary>Words after which '(' starts a subquery or a list rather than a function's arguments.</summary>
    private static bool OpensQuery(ReadOnlySpan<char> word)
    {
        if (word.Length > 12)
        {
            return false;
        }

        Span<char> upper = stackalloc char[12];
        int n = word.ToUpperInvariant(upper);
        return upper[..n] switch
        {
            "FROM" or "JOIN" or "IN" or "EXISTS" or "AS" or "LATERAL" or "USING" or "ON" or "AND" or "OR" or "NOT"
                or "WHERE" or "SELECT" or "ANY" or "ALL" or "SOME" or "UNION" or "INTERSECT" or "EXCEPT" or "ARRAY"
                or "VALUES" or "THEN" or "ELSE" or "WHEN" or "RETURNING" or "WITH" or "BY" or "HAVING" or "SET"
                or "MATERIALIZED" or "INTO" or "DISTINCT" or "CASE" or "RETURN" or "IS" or "LIKE" or "TABLE" => true,
            _ => false,
        };
    }

    /// <summary>A growable char buffer starting on the stack.</summary>
    private ref struct NameBuffer
    {
        private Span<char> _chars;
        private char[]? _rented;
        private int _length;

        public NameBuffer(Span<char> initial)
        {
            _chars = initial;
            _rented = null;
            _length = 0;
        }

        public void Append(char c)
        {
            if (_length == _chars.Length)
            {
                char[] bigger = ArrayPool<char>.Shared.Rent(_chars.Length * 2);
                _chars[.._length].CopyTo(bigger);
                if (_rented is not null)
                {
                    ArrayPool<char>.Shared.Return(_rented);
                }

                _rented = bigger;
                _chars = bigger;
            }

            _chars[_length++] = c;
        }

        public readonly ReadOnlySpan<char> AsSpan() => _chars[.._length];

        public override readonly string ToString() => new(_chars[.._length]);

        public void Dispose()
        {
            if (_rented is not null)
            {
                ArrayPool<char>.Shared.Return(_rented);
                _rented = null;
            }
        }
    }
}
