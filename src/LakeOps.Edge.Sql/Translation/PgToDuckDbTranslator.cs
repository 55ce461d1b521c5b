using System.Buffers;

namespace LakeOps.Edge.Sql.Translation;

/// <summary>
/// Rewrites PostgreSQL SQL (as psql and drivers send it) into SQL DuckDB accepts, token by token,
/// without a parser. The rewrites:
/// <list type="bullet">
/// <item><c>pg_catalog.x</c> becomes <c>x</c>, so the TEMP objects of <see cref="DuckDbPgCatalog"/> (which win
///   over DuckDB's own pg_catalog for unqualified names) answer.</item>
/// <item><c>OPERATOR(pg_catalog.op)</c> becomes <c>op</c>; <c>COLLATE pg_catalog.default</c>, <c>COLLATE "default"</c>
///   and <c>COLLATE "POSIX"</c> are dropped (DuckDB compares binary by default).</item>
/// <item>Casts to <c>regclass</c>, <c>regtype</c>, <c>regnamespace</c>, <c>regproc</c>, <c>regrole</c>, ... (both
///   <c>x::regclass</c> and <c>CAST(x AS regclass)</c>) become calls of the <c>lakeops_regclass(x)</c> macros
///   (an oid from an oid or a name); <c>x::regclass::text</c> becomes <c>lakeops_regclass_name(x)</c>.</item>
/// <item>Types DuckDB lacks: <c>oid</c>, <c>xid</c>, <c>cid</c> → BIGINT, <c>name</c> → VARCHAR, <c>jsonb</c> → JSON,
///   <c>oidvector</c> → BIGINT[], <c>int2vector</c> → SMALLINT[].</item>
/// <item>Regular-expression operators: PostgreSQL's <c>~</c> finds a match anywhere, DuckDB's <c>~</c> must match
///   the whole string. <c>x ~ 'p'</c> becomes <c>x ~ '(?s).*(?:p).*'</c> (non-literal patterns are wrapped
///   the same way with <c>||</c>); <c>~*</c> and <c>!~*</c> add the case-insensitive flag.</item>
/// <item><c>FROM generate_series(...) s</c> and <c>FROM unnest(x) u</c> get a column alias (<c>s(s)</c>), because
///   PostgreSQL names the column after the alias while DuckDB makes <c>s</c> a row.</item>
/// </list>
/// Strings that need none of this come back as the same instance, and deciding that allocates nothing.
/// </summary>
public static class PgToDuckDbTranslator
{
    /// <summary>
    /// Substrings without which no rewrite can apply: vectorised scans reject most statements.
    /// Single characters and words are searched separately (the multi-string search is much
    /// faster when every needle has a few characters).
    /// </summary>
    private static readonly SearchValues<char> TriggerChars = SearchValues.Create(":~");

    private static readonly SearchValues<string> TriggerWords = SearchValues.Create(
        ["pg_catalog", "operator", "collate", "generate_series", "unnest", "cast"],
        StringComparison.OrdinalIgnoreCase);

    private static readonly SearchValues<string> TableFunctions = SearchValues.Create(["generate_series", "unnest"], StringComparison.OrdinalIgnoreCase);

    private const int InitialTokens = 256;

    /// <summary>Marks reg* types that are cast as plain oids (no name lookup).</summary>
    private const string PlainOid = "oid";

    public static string Translate(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        if (sql.AsSpan().IndexOfAny(TriggerChars) < 0 && sql.AsSpan().IndexOfAny(TriggerWords) < 0)
        {
            return sql;
        }

        SqlToken[] tokens = ArrayPool<SqlToken>.Shared.Rent(InitialTokens);
        try
        {
            int count = Tokenize(sql, ref tokens);
            var rewriter = new Rewriter(sql, tokens.AsSpan(0, count));
            rewriter.Run();
            return rewriter.Result();
        }
        finally
        {
            ArrayPool<SqlToken>.Shared.Return(tokens);
        }
    }

    /// <summary>Collects the significant tokens into a pooled array.</summary>
    private static int Tokenize(string sql, ref SqlToken[] tokens)
    {
        var lexer = new SqlLexer(sql);
        int count = 0;
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            if (token.Kind == SqlTokenKind.End)
            {
                return count;
            }

            if (count == tokens.Length)
            {
                SqlToken[] bigger = ArrayPool<SqlToken>.Shared.Rent(tokens.Length * 2);
                tokens.AsSpan().CopyTo(bigger);
                ArrayPool<SqlToken>.Shared.Return(tokens);
                tokens = bigger;
            }

            tokens[count++] = token;
        }
    }

    /// <summary>One change to the source text: replace [Start, End) with Text (an insertion when Start == End).</summary>
    private readonly record struct Edit(int Start, int End, string Text, int Sequence);

    private ref struct Rewriter
    {
        private readonly string _sql;
        private readonly ReadOnlySpan<SqlToken> _t;
        private List<Edit>? _edits;

        public Rewriter(string sql, ReadOnlySpan<SqlToken> tokens)
        {
            _sql = sql;
            _t = tokens;
            _edits = null;
        }

        public void Run()
        {
            // Which open parentheses were opened by CAST (for CAST(x AS regclass)), and where
            // a FROM clause is active, per nesting depth.
            Span<int> castAt = stackalloc int[64];
            Span<bool> inFrom = stackalloc bool[64];
            int depth = 0;
            castAt[0] = -1;
            inFrom[0] = false;
            // FROM clauses only matter for the table-function alias rewrite.
            bool tableFunctions = _sql.AsSpan().IndexOfAny(TableFunctions) >= 0;
            int i = 0;
            while (i < _t.Length)
            {
                SqlToken token = _t[i];
                switch (token.Kind)
                {
                    case SqlTokenKind.OpenParen:
                        if (depth + 1 < castAt.Length)
                        {
                            depth++;
                            castAt[depth] = i > 0 && IsWord(i - 1, "CAST") ? i - 1 : -1;
                            inFrom[depth] = false;
                        }

                        i++;
                        continue;
                    case SqlTokenKind.CloseParen:
                        depth = Math.Max(0, depth - 1);
                        i++;
                        continue;
                    case SqlTokenKind.DoubleColon:
                        i = RewriteCast(i);
                        continue;
                    case SqlTokenKind.Operator when IsRegexOperator(Text(i)):
                        i = RewriteRegex(i, i, Text(i));
                        continue;
                    case SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier:
                        break;
                    default:
                        i++;
                        continue;
                }

                if (IsPgCatalogQualifier(i))
                {
                    AddEdit(token.Start, _t[i + 1].End, "");
                    i += 2;
                    continue;
                }

                if (token.Kind != SqlTokenKind.Word)
                {
                    i++;
                    continue;
                }

                // Length first: most words are none of these, and comparing lengths is cheap.
                ReadOnlySpan<char> word = Text(i);
                int nextIndex;
                if (word.Length == 8 && word.Equals("OPERATOR", StringComparison.OrdinalIgnoreCase) && TryRewriteOperator(i, out nextIndex))
                {
                    i = nextIndex;
                }
                else if (word.Length == 7 && word.Equals("COLLATE", StringComparison.OrdinalIgnoreCase) && TryDropCollate(i, out nextIndex))
                {
                    i = nextIndex;
                }
                else if (word.Length == 2 && castAt[depth] >= 0 && word.Equals("AS", StringComparison.OrdinalIgnoreCase) && TryRewriteCastFunction(castAt[depth], i, out nextIndex))
                {
                    i = nextIndex;
                }
                else
                {
                    if (tableFunctions)
                    {
                        if (word.Equals("FROM", StringComparison.OrdinalIgnoreCase))
                        {
                            inFrom[depth] = true;
                        }
                        else if (EndsFromClause(word))
                        {
                            inFrom[depth] = false;
                        }
                        else if (inFrom[depth] && (word.Equals("generate_series", StringComparison.OrdinalIgnoreCase) || word.Equals("unnest", StringComparison.OrdinalIgnoreCase)))
                        {
                            AliasTableFunction(i);
                        }
                    }

                    i++;
                }
            }
        }

        public readonly string Result()
        {
            if (_edits is null)
            {
                return _sql;
            }

            // Edits were found in scan order except insertions before cast operands; order by
            // position, insertions first at a shared position, then discovery order.
            _edits.Sort(static (a, b) =>
            {
                int byStart = a.Start.CompareTo(b.Start);
                if (byStart != 0)
                {
                    return byStart;
                }

                int byKind = (a.End > a.Start).CompareTo(b.End > b.Start);
                return byKind != 0 ? byKind : a.Sequence.CompareTo(b.Sequence);
            });

            var builder = new System.Text.StringBuilder(_sql.Length + 64);
            int copied = 0;
            foreach (Edit edit in _edits)
            {
                if (edit.Start < copied)
                {
                    // Overlapping edits cannot happen by construction; skip defensively.
                    continue;
                }

                builder.Append(_sql, copied, edit.Start - copied);
                builder.Append(edit.Text);
                copied = edit.End;
            }

            builder.Append(_sql, copied, _sql.Length - copied);
            return builder.ToString();
        }

        private void AddEdit(int start, int end, string text)
        {
            _edits ??= [];
            _edits.Add(new Edit(start, end, text, _edits.Count));
        }

        private readonly ReadOnlySpan<char> Text(int index) => _t[index].Text(_sql);

        private readonly bool IsWord(int index, string word) => index >= 0 && index < _t.Length && _t[index].Is(_sql, word);

        private readonly bool IsKind(int index, SqlTokenKind kind) => index >= 0 && index < _t.Length && _t[index].Kind == kind;

        /// <summary><c>pg_catalog</c> (or <c>"pg_catalog"</c>) followed by a dot and not itself qualified.</summary>
        private readonly bool IsPgCatalogQualifier(int i) =>
            _t[i].IsName(_sql, "pg_catalog") && IsKind(i + 1, SqlTokenKind.Dot) && !IsKind(i - 1, SqlTokenKind.Dot);

        /// <summary>Index after an optional <c>pg_catalog.</c> qualifier starting at <paramref name="i"/>.</summary>
        private readonly int SkipQualifier(int i) => i < _t.Length && IsPgCatalogQualifier(i) ? i + 2 : i;

        private static bool IsRegexOperator(ReadOnlySpan<char> op) => op is "~" or "!~" or "~*" or "!~*";

        private static bool EndsFromClause(ReadOnlySpan<char> word) =>
            word.Equals("WHERE", StringComparison.OrdinalIgnoreCase) || word.Equals("SELECT", StringComparison.OrdinalIgnoreCase)
            || word.Equals("GROUP", StringComparison.OrdinalIgnoreCase) || word.Equals("HAVING", StringComparison.OrdinalIgnoreCase)
            || word.Equals("ORDER", StringComparison.OrdinalIgnoreCase) || word.Equals("LIMIT", StringComparison.OrdinalIgnoreCase)
            || word.Equals("OFFSET", StringComparison.OrdinalIgnoreCase) || word.Equals("WINDOW", StringComparison.OrdinalIgnoreCase)
            || word.Equals("UNION", StringComparison.OrdinalIgnoreCase) || word.Equals("EXCEPT", StringComparison.OrdinalIgnoreCase)
            || word.Equals("INTERSECT", StringComparison.OrdinalIgnoreCase) || word.Equals("RETURNING", StringComparison.OrdinalIgnoreCase)
            || word.Equals("QUALIFY", StringComparison.OrdinalIgnoreCase) || word.Equals("FETCH", StringComparison.OrdinalIgnoreCase)
            || word.Equals("SET", StringComparison.OrdinalIgnoreCase) || word.Equals("VALUES", StringComparison.OrdinalIgnoreCase);

        /// <summary>Reserved words that can precede an expression but never end one (so a following <c>~</c> is unary).</summary>
        private static bool IsReservedWord(ReadOnlySpan<char> word)
        {
            Span<char> upper = stackalloc char[12];
            if (word.Length > upper.Length || word.ToUpperInvariant(upper) < 0)
            {
                return false;
            }

            return upper[..word.Length] switch
            {
                "SELECT" or "WHERE" or "AND" or "OR" or "NOT" or "ON" or "WHEN" or "THEN" or "ELSE" or "CASE" or "AS"
                    or "BY" or "HAVING" or "RETURNING" or "IN" or "IS" or "DISTINCT" or "ALL" or "ANY" or "SOME"
                    or "VALUES" or "LIMIT" or "OFFSET" or "SET" or "FROM" or "JOIN" or "USING" or "WITH" or "LEFT"
                    or "RIGHT" or "FULL" or "INNER" or "CROSS" or "NATURAL" or "LATERAL" or "UNION" or "EXCEPT"
                    or "INTERSECT" or "ORDER" or "GROUP" or "WINDOW" or "FETCH" or "FOR" or "QUALIFY" or "INTO"
                    or "DEFAULT" or "BETWEEN" or "LIKE" or "ILIKE" or "SIMILAR" or "ESCAPE" => true,
                _ => false,
            };
        }

        /// <summary>OPERATOR(pg_catalog.~) → ~ (and the regex rewrite of the right operand).</summary>
        private bool TryRewriteOperator(int i, out int next)
        {
            next = i + 1;
            if (!IsKind(i + 1, SqlTokenKind.OpenParen))
            {
                return false;
            }

            int j = i + 2;
            // Optional schema: pg_catalog. or any other name followed by a dot.
            if ((IsKind(j, SqlTokenKind.Word) || IsKind(j, SqlTokenKind.QuotedIdentifier)) && IsKind(j + 1, SqlTokenKind.Dot))
            {
                j += 2;
            }

            if (!IsKind(j, SqlTokenKind.Operator) || !IsKind(j + 1, SqlTokenKind.CloseParen))
            {
                return false;
            }

            ReadOnlySpan<char> op = Text(j);
            if (IsRegexOperator(op))
            {
                next = RewriteRegex(i, j + 1, op);
                return true;
            }

            AddEdit(_t[i].Start, _t[j + 1].End, op.ToString());
            next = j + 2;
            return true;
        }

        /// <summary>COLLATE pg_catalog.default / "default" / "POSIX": DuckDB's binary default is the same.</summary>
        private bool TryDropCollate(int i, out int next)
        {
            next = i + 1;
            int j = SkipQualifier(i + 1);
            if (j >= _t.Length || !(_t[j].IsName(_sql, "default") || _t[j].IsName(_sql, "POSIX")))
            {
                return false;
            }

            // Drop the whitespace before COLLATE too.
            AddEdit(i > 0 ? _t[i - 1].End : _t[i].Start, _t[j].End, "");
            next = j + 1;
            return true;
        }

        /// <summary>
        /// Rewrites a regex match whose operator spans tokens [opFirst, opLast]: the pattern (right
        /// operand) gets ".*" around it so DuckDB's whole-string match finds it anywhere.
        /// </summary>
        private int RewriteRegex(int opFirst, int opLast, ReadOnlySpan<char> op)
        {
            int right = opLast + 1;
            bool caseInsensitive = op[^1] == '*';
            string duckOp = op[0] == '!' ? "!~" : "~";
            string flags = caseInsensitive ? "(?si)" : "(?s)";
            if (right >= _t.Length)
            {
                return right;
            }

            SqlToken pattern = _t[right];
            ReadOnlySpan<char> patternText = pattern.Text(_sql);
            bool plainString = pattern.Kind == SqlTokenKind.String && patternText[0] == '\'' && patternText.Length >= 2 && patternText[^1] == '\'';
            bool escapeString = pattern.Kind == SqlTokenKind.EscapeString && patternText.Length >= 3 && patternText[^1] == '\'';
            if (plainString || escapeString)
            {
                ReplaceOperator(opFirst, opLast, op, duckOp);
                int quote = escapeString ? 2 : 1;
                AddEdit(pattern.Start + quote, pattern.Start + quote, flags + ".*(?:");
                AddEdit(pattern.End - 1, pattern.End - 1, ").*");
                return right + 1;
            }

            // A non-literal pattern: only when the operator is binary (not bitwise NOT) and the
            // operand is a simple primary we can delimit.
            if (!HasLeftOperand(opFirst))
            {
                return right;
            }

            int end = PrimaryEnd(right);
            if (end < 0)
            {
                return right;
            }

            ReplaceOperator(opFirst, opLast, op, duckOp);
            AddEdit(pattern.Start, pattern.Start, "('" + flags + ".*(?:' || ");
            AddEdit(_t[end].End, _t[end].End, " || ').*')");
            return end + 1;
        }

        private void ReplaceOperator(int opFirst, int opLast, ReadOnlySpan<char> op, string duckOp)
        {
            if (opFirst != opLast || !op.SequenceEqual(duckOp))
            {
                AddEdit(_t[opFirst].Start, _t[opLast].End, duckOp);
            }
        }

        private readonly bool HasLeftOperand(int op)
        {
            if (op == 0)
            {
                return false;
            }

            SqlToken previous = _t[op - 1];
            return previous.Kind switch
            {
                SqlTokenKind.Word => !IsReservedWord(previous.Text(_sql)),
                SqlTokenKind.QuotedIdentifier or SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket or SqlTokenKind.Parameter => true,
                _ => previous.IsLiteral,
            };
        }

        /// <summary>
        /// The last token of the primary expression starting at <paramref name="i"/>: a literal, a
        /// parameter, a (qualified) name, a function call or a parenthesised group, with any
        /// subscripts and <c>::type</c> casts. -1 when it is something else.
        /// </summary>
        private readonly int PrimaryEnd(int i)
        {
            int end;
            SqlToken token = _t[i];
            if (token.IsLiteral || token.Kind == SqlTokenKind.Parameter)
            {
                end = i;
            }
            else if (token.Kind == SqlTokenKind.OpenParen)
            {
                end = MatchForward(i);
            }
            else if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier && !(token.Kind == SqlTokenKind.Word && IsReservedWord(token.Text(_sql))))
            {
                end = i;
                while (IsKind(end + 1, SqlTokenKind.Dot) && (IsKind(end + 2, SqlTokenKind.Word) || IsKind(end + 2, SqlTokenKind.QuotedIdentifier)))
                {
                    end += 2;
                }

                if (IsKind(end + 1, SqlTokenKind.OpenParen))
                {
                    end = MatchForward(end + 1);
                }
            }
            else
            {
                return -1;
            }

            while (end >= 0)
            {
                if (IsKind(end + 1, SqlTokenKind.OpenBracket))
                {
                    end = MatchForward(end + 1);
                }
                else if (IsKind(end + 1, SqlTokenKind.DoubleColon) && (IsKind(end + 2, SqlTokenKind.Word) || IsKind(end + 2, SqlTokenKind.QuotedIdentifier)))
                {
                    end = TypeEnd(end + 2);
                }
                else
                {
                    break;
                }
            }

            return end;
        }

        /// <summary>The last token of a type name starting at <paramref name="i"/> (qualifier and [] included).</summary>
        private readonly int TypeEnd(int i)
        {
            int end = i;
            while (IsKind(end + 1, SqlTokenKind.Dot) && (IsKind(end + 2, SqlTokenKind.Word) || IsKind(end + 2, SqlTokenKind.QuotedIdentifier)))
            {
                end += 2;
            }

            while (IsKind(end + 1, SqlTokenKind.OpenBracket) && IsKind(end + 2, SqlTokenKind.CloseBracket))
            {
                end += 2;
            }

            return end;
        }

        /// <summary>The index of the bracket that closes the one at <paramref name="open"/>, or -1.</summary>
        private readonly int MatchForward(int open)
        {
            int depth = 0;
            for (int k = open; k < _t.Length; k++)
            {
                switch (_t[k].Kind)
                {
                    case SqlTokenKind.OpenParen or SqlTokenKind.OpenBracket:
                        depth++;
                        break;
                    case SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket:
                        if (--depth == 0)
                        {
                            return k;
                        }

                        break;
                }
            }

            return -1;
        }

        /// <summary>The index of the bracket that opens the one closing at <paramref name="close"/>, or -1.</summary>
        private readonly int MatchBackward(int close)
        {
            int depth = 0;
            for (int k = close; k >= 0; k--)
            {
                switch (_t[k].Kind)
                {
                    case SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket:
                        depth++;
                        break;
                    case SqlTokenKind.OpenParen or SqlTokenKind.OpenBracket:
                        if (--depth == 0)
                        {
                            return k;
                        }

                        break;
                }
            }

            return -1;
        }

        /// <summary>
        /// The first token of the operand of the cast whose <c>::</c> is at <paramref name="cast"/>:
        /// <c>::</c> binds tighter than everything but <c>.</c> and subscripts. -1 when unclear.
        /// </summary>
        private readonly int OperandStart(int cast)
        {
            int k = cast - 1;
            while (k >= 0)
            {
                SqlToken token = _t[k];
                int start;
                switch (token.Kind)
                {
                    case SqlTokenKind.CloseParen:
                        int open = MatchBackward(k);
                        if (open < 0)
                        {
                            return -1;
                        }

                        // A function call: include its (possibly qualified) name.
                        start = open;
                        if (open > 0 && (_t[open - 1].Kind == SqlTokenKind.QuotedIdentifier
                            || (_t[open - 1].Kind == SqlTokenKind.Word && !IsReservedWord(_t[open - 1].Text(_sql)))))
                        {
                            start = NameChainStart(open - 1);
                        }

                        break;
                    case SqlTokenKind.CloseBracket:
                        int bracket = MatchBackward(k);
                        if (bracket <= 0)
                        {
                            return -1;
                        }

                        // Subscript or array type suffix: the operand continues before it.
                        k = bracket - 1;
                        continue;
                    case SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier:
                        if (token.Kind == SqlTokenKind.Word && IsReservedWord(token.Text(_sql)))
                        {
                            return -1;
                        }

                        start = NameChainStart(k);
                        break;
                    default:
                        if (!(token.IsLiteral || token.Kind == SqlTokenKind.Parameter))
                        {
                            return -1;
                        }

                        start = k;
                        break;
                }

                // A chained cast (x::text::regclass): the operand is the previous cast's operand.
                if (IsKind(start - 1, SqlTokenKind.DoubleColon))
                {
                    k = start - 2;
                    continue;
                }

                return start;
            }

            return -1;
        }

        private readonly int NameChainStart(int k)
        {
            while (IsKind(k - 1, SqlTokenKind.Dot) && (IsKind(k - 2, SqlTokenKind.Word) || IsKind(k - 2, SqlTokenKind.QuotedIdentifier)))
            {
                k -= 2;
            }

            return k;
        }

        /// <summary>Handles <c>::type</c> at <paramref name="cast"/>; returns the index to continue at.</summary>
        private int RewriteCast(int cast)
        {
            int typeIndex = SkipQualifier(cast + 1);
            if (typeIndex >= _t.Length || !(_t[typeIndex].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
            {
                return cast + 1;
            }

            string? regType = RegTypeMacro(_t[typeIndex]);
            if (regType is not null)
            {
                int operand = OperandStart(cast);
                if (operand >= 0)
                {
                    // x::regclass::text → lakeops_regclass_name(x)
                    int last = typeIndex;
                    int textCast = last + 1;
                    int textType = SkipQualifier(textCast + 1);
                    bool toText = IsKind(textCast, SqlTokenKind.DoubleColon) && textType < _t.Length && IsTextType(_t[textType]);
                    if (toText)
                    {
                        last = textType;
                    }

                    // Casts without a lookup (regoper, regconfig, ...) need no macro.
                    bool plain = regType == PlainOid;
                    AddEdit(_t[operand].Start, _t[operand].Start, plain ? (toText ? "CAST(" : "TRY_CAST(") : regType + (toText ? "_name(" : "("));
                    AddEdit(_t[cast].Start, _t[last].End, plain ? (toText ? " AS VARCHAR)" : " AS BIGINT)") : ")");
                    return last + 1;
                }

                AddEdit(_t[cast + 1].Start, _t[typeIndex].End, "BIGINT");
                return typeIndex + 1;
            }

            string? renamed = RenamedType(_t[typeIndex]);
            if (renamed is not null)
            {
                AddEdit(_t[cast + 1].Start, _t[typeIndex].End, renamed);
                return typeIndex + 1;
            }

            // Leave the type; a pg_catalog qualifier on it is dropped by the main loop.
            return cast + 1;
        }

        /// <summary>CAST(x AS regclass) → lakeops_regclass(x); CAST(x AS oid) → CAST(x AS BIGINT).</summary>
        private bool TryRewriteCastFunction(int castWord, int asIndex, out int next)
        {
            next = asIndex + 1;
            int typeIndex = SkipQualifier(asIndex + 1);
            if (typeIndex >= _t.Length || !(_t[typeIndex].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
            {
                return false;
            }

            int typeEnd = TypeEnd(typeIndex);
            if (!IsKind(typeEnd + 1, SqlTokenKind.CloseParen))
            {
                return false;
            }

            string? regType = RegTypeMacro(_t[typeIndex]);
            if (regType == PlainOid)
            {
                AddEdit(_t[castWord].Start, _t[castWord].End, "TRY_CAST");
                AddEdit(_t[asIndex + 1].Start, _t[typeEnd].End, "BIGINT");
                next = typeEnd + 1;
                return true;
            }

            if (regType is not null && typeEnd == typeIndex)
            {
                AddEdit(_t[castWord].Start, _t[castWord].End, regType);
                AddEdit(_t[asIndex - 1].End, _t[typeEnd].End, "");
                next = typeEnd + 1;
                return true;
            }

            string? renamed = RenamedType(_t[typeIndex]);
            if (renamed is not null)
            {
                AddEdit(_t[asIndex + 1].Start, _t[typeIndex].End, renamed);
                next = typeIndex + 1;
                return true;
            }

            return false;
        }

        /// <summary>FROM generate_series(...) s → FROM generate_series(...) s(s).</summary>
        private void AliasTableFunction(int function)
        {
            SqlToken before = function > 0 ? _t[function - 1] : default;
            bool listPosition = function > 0 && (before.Kind == SqlTokenKind.Comma || before.Is(_sql, "FROM") || before.Is(_sql, "JOIN") || before.Is(_sql, "LATERAL")
                || (before.Kind == SqlTokenKind.Dot && IsKind(function - 2, SqlTokenKind.Word)));
            if (!listPosition || !IsKind(function + 1, SqlTokenKind.OpenParen))
            {
                return;
            }

            int close = MatchForward(function + 1);
            if (close < 0)
            {
                return;
            }

            // unnest(a, b) yields several columns; leave it alone.
            if (_t[function].Is(_sql, "unnest") && HasTopLevelComma(function + 1, close))
            {
                return;
            }

            int alias = close + 1;
            if (IsWord(alias, "AS"))
            {
                alias++;
            }
            else if (alias < _t.Length && _t[alias].Kind == SqlTokenKind.Word && IsReservedWord(Text(alias)))
            {
                return;
            }

            if (alias >= _t.Length || !(_t[alias].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier) || IsKind(alias + 1, SqlTokenKind.OpenParen)
                || (_t[alias].Kind == SqlTokenKind.Word && IsReservedWord(Text(alias))))
            {
                return;
            }

            AddEdit(_t[alias].End, _t[alias].End, "(" + Text(alias).ToString() + ")");
        }

        private readonly bool HasTopLevelComma(int open, int close)
        {
            int depth = 0;
            for (int k = open + 1; k < close; k++)
            {
                switch (_t[k].Kind)
                {
                    case SqlTokenKind.OpenParen or SqlTokenKind.OpenBracket:
                        depth++;
                        break;
                    case SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket:
                        depth--;
                        break;
                    case SqlTokenKind.Comma when depth == 0:
                        return true;
                }
            }

            return false;
        }

        private readonly string? RegTypeMacro(SqlToken type)
        {
            if (type.Kind != SqlTokenKind.Word && type.Kind != SqlTokenKind.QuotedIdentifier)
            {
                return null;
            }

            ReadOnlySpan<char> name = type.Kind == SqlTokenKind.QuotedIdentifier && type.Length >= 2 ? type.Text(_sql)[1..^1] : type.Text(_sql);
            Span<char> lower = stackalloc char[16];
            if (name.Length > lower.Length || name.Length < 6)
            {
                return null;
            }

            name.ToLowerInvariant(lower);
            return lower[..name.Length] switch
            {
                "regclass" => "lakeops_regclass",
                "regtype" => "lakeops_regtype",
                "regnamespace" => "lakeops_regnamespace",
                "regproc" or "regprocedure" => "lakeops_regproc",
                "regrole" => "lakeops_regrole",
                "regoper" or "regoperator" or "regconfig" or "regdictionary" or "regcollation" => PlainOid,
                _ => null,
            };
        }

        private readonly string? RenamedType(SqlToken type)
        {
            ReadOnlySpan<char> name = type.Kind == SqlTokenKind.QuotedIdentifier && type.Length >= 2 ? type.Text(_sql)[1..^1] : type.Text(_sql);
            Span<char> lower = stackalloc char[12];
            if (name.Length > lower.Length)
            {
                return null;
            }

            name.ToLowerInvariant(lower);
            return lower[..name.Length] switch
            {
                "oid" or "xid" or "xid8" or "cid" or "tid" => "BIGINT",
                "name" => "VARCHAR",
                "jsonb" => "JSON",
                "oidvector" => "BIGINT[]",
                "int2vector" => "SMALLINT[]",
                _ => null,
            };
        }

        private readonly bool IsTextType(SqlToken type) =>
            type.IsName(_sql, "text") || type.IsName(_sql, "varchar") || type.IsName(_sql, "name");
    }
}
