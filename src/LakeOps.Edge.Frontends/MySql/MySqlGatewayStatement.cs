using System.Globalization;

namespace LakeOps.Edge.Frontends.MySql;

internal enum MySqlGatewayKind
{
    /// <summary>SELECT of only @@variables and session functions (DATABASE(), VERSION(), USER(), CONNECTION_ID()).</summary>
    Select,

    /// <summary>SET NAMES / CHARACTER SET / SET of MySQL system variables / SET [SESSION] TRANSACTION ....</summary>
    Set,
    ShowDatabases,
    ShowVariables,
    ShowWarnings,
    Use,
    Kill,

    /// <summary>BEGIN / START TRANSACTION / COMMIT / ROLLBACK: run by the engine, tracked for the status flags.</summary>
    Transaction,

    /// <summary>
    /// DO SLEEP(n) / DO n / SELECT SLEEP(n) INTO @var: MySqlConnector sends one of these after a cancelled
    /// command to absorb a late KILL QUERY; answered with an OK after the sleep.
    /// </summary>
    Do,
}

internal enum MySqlTransactionKind
{
    Begin,
    Commit,
    Rollback,
}

/// <summary>One item of a gateway SELECT: an @@variable (Name without scope) or a function (Name upper-case).</summary>
internal sealed record MySqlSelectItem(bool IsFunction, string Name, string Scope, string ColumnName);

/// <summary>One assignment of a gateway SET.</summary>
internal sealed record MySqlAssignment(string Name, string? Value, bool IsDefault, string Scope);

/// <summary>
/// A statement the MySQL front door answers (or tracks) itself, found by <see cref="Classify"/>: a small
/// recogniser for what clients send at connect, not a SQL parser. Anything else goes to the engine as written.
/// </summary>
internal sealed class MySqlGatewayStatement
{
    private static readonly HashSet<string> SessionFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "DATABASE", "SCHEMA", "VERSION", "USER", "CURRENT_USER", "SESSION_USER", "SYSTEM_USER", "CONNECTION_ID", "LAST_INSERT_ID",
    };

    public required MySqlGatewayKind Kind { get; init; }

    public IReadOnlyList<MySqlSelectItem> Items { get; init; } = [];

    public long? Limit { get; init; }

    public IReadOnlyList<MySqlAssignment> Assignments { get; init; } = [];

    /// <summary>SET NAMES / CHARACTER SET value and collation.</summary>
    public string? Names { get; init; }

    public string? Collation { get; init; }

    /// <summary>LIKE pattern of SHOW DATABASES / SHOW VARIABLES (SHOW DATABASES names its column "Database (pattern)").</summary>
    public string? Like { get; init; }

    public string Database { get; init; } = "";

    public uint KillId { get; init; }

    /// <summary>KILL / KILL CONNECTION (true) versus KILL QUERY (false).</summary>
    public bool KillConnection { get; init; }

    public MySqlTransactionKind Transaction { get; init; }

    /// <summary>Seconds DO SLEEP(n) waits.</summary>
    public double SleepSeconds { get; init; }

    /// <summary>The statement text as the client sent it.</summary>
    public string SourceSql { get; private set; } = "";

    /// <summary>Recognises a gateway statement; null for everything that goes to the engine unchanged.</summary>
    public static MySqlGatewayStatement? Classify(string sql, MySqlSessionVariables variables)
    {
        if (!MayBeGatewayStatement(sql))
        {
            return null;
        }

        var lexer = new MySqlLexer(sql);
        var tokens = new List<MySqlToken>();
        while (true)
        {
            MySqlToken token = lexer.Next();
            if (token.Kind == MySqlTokenKind.End)
            {
                break;
            }

            tokens.Add(token);

            // Connect-time statements are short; long texts are real queries.
            if (tokens.Count > 256)
            {
                return null;
            }
        }

        if (lexer.Unterminated)
        {
            return null;
        }

        while (tokens.Count > 0 && tokens[^1].IsSymbol(';'))
        {
            tokens.RemoveAt(tokens.Count - 1);
        }

        if (tokens.Count == 0)
        {
            return null;
        }

        MySqlGatewayStatement? statement = Parse(sql, tokens, variables);
        if (statement is not null)
        {
            statement.SourceSql = sql;
        }

        return statement;
    }

    /// <summary>
    /// A look at the first two tokens, so ordinary queries cost next to nothing: only these statement starts
    /// can be answered by the gateway.
    /// </summary>
    private static bool MayBeGatewayStatement(string sql)
    {
        var lexer = new MySqlLexer(sql);
        MySqlToken first = lexer.Next();
        if (first.Kind != MySqlTokenKind.Word)
        {
            return false;
        }

        if (first.Is("SELECT"))
        {
            MySqlToken second = lexer.Next();
            return second.Kind == MySqlTokenKind.SystemVariable
                || (second.Kind == MySqlTokenKind.Word && (SessionFunctions.Contains(second.Text) || second.Is("SLEEP")));
        }

        return first.Is("SET") || first.Is("SHOW") || first.Is("USE") || first.Is("KILL") || first.Is("DO")
            || first.Is("BEGIN") || first.Is("START") || first.Is("COMMIT") || first.Is("ROLLBACK");
    }

    private static MySqlGatewayStatement? Parse(string sql, List<MySqlToken> tokens, MySqlSessionVariables variables)
    {
        var reader = new TokenReader(tokens);
        MySqlToken first = reader.Take();
        try
        {
            if (first.Is("SELECT"))
            {
                return reader.Peek().Is("SLEEP") ? ParseSleepInto(reader) : ParseSelect(sql, reader);
            }

            if (first.Is("SET"))
            {
                return ParseSet(reader, variables);
            }

            if (first.Is("SHOW"))
            {
                return ParseShow(reader);
            }

            if (first.Is("USE") && reader.Peek().Kind is MySqlTokenKind.Word or MySqlTokenKind.QuotedIdentifier)
            {
                string name = reader.Take().Text;
                return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Use, Database = name } : null;
            }

            if (first.Is("KILL"))
            {
                return ParseKill(reader);
            }

            if (first.Is("DO"))
            {
                return ParseDo(reader);
            }

            return ParseTransaction(first, reader);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static MySqlGatewayStatement? ParseSelect(string sql, TokenReader reader)
    {
        var items = new List<MySqlSelectItem>();
        while (true)
        {
            MySqlToken token = reader.Take();
            int start = token.Start;
            MySqlSelectItem item;
            if (token.Kind == MySqlTokenKind.SystemVariable)
            {
                (string scope, string name) = SplitScope(token.Text);
                item = new MySqlSelectItem(false, name, scope, sql[start..token.End]);
            }
            else if (token.Kind == MySqlTokenKind.Word && SessionFunctions.Contains(token.Text) && reader.Peek().IsSymbol('('))
            {
                reader.Take();
                MySqlToken close = reader.Take();
                if (!close.IsSymbol(')'))
                {
                    return null;
                }

                item = new MySqlSelectItem(true, token.Text.ToUpperInvariant(), "", sql[start..close.End]);
            }
            else
            {
                return null;
            }

            // Optional alias: [AS] name.
            if (reader.Peek().Is("AS"))
            {
                reader.Take();
                MySqlToken alias = reader.Take();
                if (alias.Kind is not (MySqlTokenKind.Word or MySqlTokenKind.QuotedIdentifier or MySqlTokenKind.String))
                {
                    return null;
                }

                item = item with { ColumnName = alias.Text };
            }
            else if (reader.Peek().Kind is MySqlTokenKind.QuotedIdentifier or MySqlTokenKind.String
                || (reader.Peek().Kind == MySqlTokenKind.Word && !reader.Peek().Is("LIMIT") && !reader.Peek().Is("FROM")))
            {
                item = item with { ColumnName = reader.Take().Text };
            }

            items.Add(item);
            if (reader.Peek().IsSymbol(','))
            {
                reader.Take();
                continue;
            }

            break;
        }

        long? limit = null;
        if (reader.Peek().Is("LIMIT"))
        {
            reader.Take();
            MySqlToken number = reader.Take();
            if (number.Kind != MySqlTokenKind.Number || !long.TryParse(number.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                return null;
            }

            limit = value;
        }

        return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Select, Items = items, Limit = limit } : null;
    }

    private static MySqlGatewayStatement? ParseSet(TokenReader reader, MySqlSessionVariables variables)
    {
        string? names = null;
        string? collation = null;
        var assignments = new List<MySqlAssignment>();
        while (true)
        {
            MySqlToken token = reader.Take();
            if (token.Is("NAMES"))
            {
                names = Value(reader.Take(), out _);
                if (reader.Peek().Is("COLLATE"))
                {
                    reader.Take();
                    collation = Value(reader.Take(), out _);
                }
            }
            else if ((token.Is("CHARACTER") && reader.Peek().Is("SET")) || token.Is("CHARSET"))
            {
                if (token.Is("CHARACTER"))
                {
                    reader.Take();
                }

                names = Value(reader.Take(), out _);
            }
            else if (token.Is("TRANSACTION") || ((token.Is("SESSION") || token.Is("GLOBAL") || token.Is("LOCAL")) && reader.Peek().Is("TRANSACTION")))
            {
                if (!token.Is("TRANSACTION"))
                {
                    reader.Take();
                }

                // SET [SESSION] TRANSACTION ISOLATION LEVEL x [y] | READ ONLY | READ WRITE, possibly several.
                while (!reader.AtEnd && !reader.Peek().IsSymbol(','))
                {
                    MySqlToken word = reader.Take();
                    if (word.Is("ISOLATION") && reader.Peek().Is("LEVEL"))
                    {
                        reader.Take();
                        string level = reader.Take().Text.ToUpperInvariant();
                        if (level is "READ" or "REPEATABLE")
                        {
                            level += "-" + reader.Take().Text.ToUpperInvariant();
                        }

                        assignments.Add(new MySqlAssignment("transaction_isolation", level, false, "session"));
                    }
                    else if (word.Kind != MySqlTokenKind.Word)
                    {
                        return null;
                    }
                }
            }
            else
            {
                string scope = "session";
                string name;
                if (token.Is("SESSION") || token.Is("LOCAL") || token.Is("GLOBAL") || token.Is("PERSIST"))
                {
                    scope = token.Text.ToLowerInvariant();
                    token = reader.Take();
                }

                if (token.Kind == MySqlTokenKind.SystemVariable)
                {
                    (string explicitScope, name) = SplitScope(token.Text);
                    if (explicitScope.Length > 0)
                    {
                        scope = explicitScope;
                    }
                }
                else if (token.Kind == MySqlTokenKind.Word)
                {
                    name = token.Text;
                }
                else
                {
                    return null;
                }

                MySqlToken equals = reader.Take();
                if (!equals.IsSymbol('=') && equals.Text != ":=")
                {
                    return null;
                }

                string? value = Value(reader.Take(), out bool isDefault, allowSign: reader);
                if (!variables.Owns(name))
                {
                    return null;
                }

                assignments.Add(new MySqlAssignment(name.ToLowerInvariant(), value, isDefault, scope));
            }

            if (reader.Peek().IsSymbol(','))
            {
                reader.Take();
                continue;
            }

            break;
        }

        return reader.AtEnd
            ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Set, Assignments = assignments, Names = names, Collation = collation }
            : null;
    }

    private static MySqlGatewayStatement? ParseShow(TokenReader reader)
    {
        MySqlToken token = reader.Take();
        if (token.Is("FULL"))
        {
            token = reader.Take();
        }

        if (token.Is("DATABASES") || token.Is("SCHEMAS"))
        {
            string? like = ParseLike(reader);
            return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.ShowDatabases, Like = like } : null;
        }

        if (token.Is("SESSION") || token.Is("GLOBAL") || token.Is("LOCAL"))
        {
            token = reader.Take();
        }

        if (token.Is("VARIABLES"))
        {
            string? like = ParseLike(reader);
            return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.ShowVariables, Like = like } : null;
        }

        if (token.Is("WARNINGS") || token.Is("ERRORS"))
        {
            if (reader.Peek().Is("LIMIT"))
            {
                reader.Take();
                while (!reader.AtEnd)
                {
                    reader.Take();
                }
            }

            return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.ShowWarnings } : null;
        }

        return null;
    }

    private static string? ParseLike(TokenReader reader)
    {
        if (!reader.Peek().Is("LIKE"))
        {
            return null;
        }

        reader.Take();
        MySqlToken pattern = reader.Take();
        return pattern.Kind == MySqlTokenKind.String ? pattern.Text : throw new FormatException();
    }

    private static MySqlGatewayStatement? ParseKill(TokenReader reader)
    {
        bool connection = true;
        if (reader.Peek().Is("QUERY"))
        {
            reader.Take();
            connection = false;
        }
        else if (reader.Peek().Is("CONNECTION"))
        {
            reader.Take();
        }

        MySqlToken id = reader.Take();
        if (id.Kind != MySqlTokenKind.Number || !uint.TryParse(id.Text, NumberStyles.None, CultureInfo.InvariantCulture, out uint value) || !reader.AtEnd)
        {
            return null;
        }

        return new MySqlGatewayStatement { Kind = MySqlGatewayKind.Kill, KillId = value, KillConnection = connection };
    }

    private static MySqlGatewayStatement? ParseDo(TokenReader reader)
    {
        double seconds = 0;
        if (reader.Peek().Is("SLEEP"))
        {
            if (!TryParseSleep(reader, out seconds))
            {
                return null;
            }
        }
        else if (reader.Take().Kind != MySqlTokenKind.Number)
        {
            return null;
        }

        return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Do, SleepSeconds = seconds } : null;
    }

    /// <summary>SELECT SLEEP(n) INTO @var.</summary>
    private static MySqlGatewayStatement? ParseSleepInto(TokenReader reader)
    {
        if (!TryParseSleep(reader, out double seconds) || !reader.Take().Is("INTO") || reader.Take().Kind != MySqlTokenKind.UserVariable)
        {
            return null;
        }

        return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Do, SleepSeconds = seconds } : null;
    }

    /// <summary>SLEEP ( number ).</summary>
    private static bool TryParseSleep(TokenReader reader, out double seconds)
    {
        seconds = 0;
        if (!reader.Take().Is("SLEEP") || !reader.Take().IsSymbol('('))
        {
            return false;
        }

        MySqlToken number = reader.Take();
        if (number.Kind != MySqlTokenKind.Number || !double.TryParse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds))
        {
            return false;
        }

        seconds = Math.Max(0, seconds);
        return reader.Take().IsSymbol(')');
    }

    private static MySqlGatewayStatement? ParseTransaction(MySqlToken first, TokenReader reader)
    {
        MySqlTransactionKind kind;
        if (first.Is("BEGIN"))
        {
            kind = MySqlTransactionKind.Begin;
            if (reader.Peek().Is("WORK"))
            {
                reader.Take();
            }
        }
        else if (first.Is("START") && reader.Peek().Is("TRANSACTION"))
        {
            kind = MySqlTransactionKind.Begin;
            reader.Take();

            // Characteristics (READ ONLY, READ WRITE, WITH CONSISTENT SNAPSHOT) are the engine's business.
            while (!reader.AtEnd)
            {
                if (reader.Take().Kind != MySqlTokenKind.Word && !reader.AtEnd)
                {
                    return null;
                }
            }
        }
        else if (first.Is("COMMIT") || (first.Is("ROLLBACK") && !reader.Peek().Is("TO")))
        {
            kind = first.Is("COMMIT") ? MySqlTransactionKind.Commit : MySqlTransactionKind.Rollback;
            while (!reader.AtEnd)
            {
                if (reader.Take().Kind != MySqlTokenKind.Word)
                {
                    return null;
                }
            }
        }
        else
        {
            return null;
        }

        return reader.AtEnd ? new MySqlGatewayStatement { Kind = MySqlGatewayKind.Transaction, Transaction = kind } : null;
    }

    /// <summary>A SET value: string, number, word (ON, OFF, DEFAULT, names), optionally signed.</summary>
    private static string? Value(MySqlToken token, out bool isDefault, TokenReader? allowSign = null)
    {
        isDefault = false;
        switch (token.Kind)
        {
            case MySqlTokenKind.String:
            case MySqlTokenKind.Number:
            case MySqlTokenKind.QuotedIdentifier:
                return token.Text;
            case MySqlTokenKind.Word:
                if (token.Is("DEFAULT"))
                {
                    isDefault = true;
                    return null;
                }

                return token.Is("NULL") ? null : token.Text;
            case MySqlTokenKind.Symbol when token.IsSymbol('-') && allowSign is not null && allowSign.Peek().Kind == MySqlTokenKind.Number:
                return "-" + allowSign.Take().Text;
            default:
                throw new FormatException();
        }
    }

    /// <summary>"@@session.x" → ("session", "x"); "@@x" → ("", "x").</summary>
    private static (string Scope, string Name) SplitScope(string token)
    {
        string body = token[2..];
        int dot = body.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            string scope = body[..dot].ToLowerInvariant();
            if (scope is "session" or "global" or "local" or "persist")
            {
                return (scope, body[(dot + 1)..]);
            }
        }

        return ("", body);
    }

    private sealed class TokenReader(List<MySqlToken> tokens)
    {
        private int _index;

        public bool AtEnd => _index >= tokens.Count;

        public MySqlToken Peek() => _index < tokens.Count ? tokens[_index] : new MySqlToken(MySqlTokenKind.End, 0, 0, "");

        public MySqlToken Take() => _index < tokens.Count ? tokens[_index++] : throw new FormatException();
    }
}
