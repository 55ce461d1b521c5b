using System.Text;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

internal enum SettingChangeKind : byte
{
    /// <summary>A session-level SET: remembered and replayed on other server connections.</summary>
    Set,

    /// <summary>RESET name or SET name TO DEFAULT: forgotten.</summary>
    Unset,

    /// <summary>RESET ALL or DISCARD ALL: every remembered SET is forgotten.</summary>
    ResetAll,
}

/// <summary>One change to the session's settings; <see cref="Name"/> keys it, <see cref="Sql"/> replays it, <see cref="Value"/> is what it sets.</summary>
internal readonly record struct SettingChange(SettingChangeKind Kind, string Name, string Sql = "", string? Value = null);

/// <summary>
/// What running a statement does beyond its result: pins the server connection to the client (temp
/// tables, LISTEN, session advisory locks, WITH HOLD cursors, SQL PREPARE), changes session settings
/// (SET, RESET), or drops the server's prepared statements (DISCARD ALL, DEALLOCATE ALL).
/// </summary>
/// <remarks>
/// <see cref="Classify"/> runs on every simple query and unnamed Parse, so it looks at the first word
/// only, and decodes and parses the text just for the few statements that can have an effect (or when
/// the string holds more than one statement). A session advisory lock is found by a byte search for
/// "advisory_lock" (which the _xact_ variants and unlock do not contain).
/// </remarks>
internal sealed class StatementEffects
{
    /// <summary>SET SESSION CHARACTERISTICS has no parameter name; it is remembered under this key.</summary>
    internal const string CharacteristicsKey = "\u0001session_characteristics";

    private static readonly StatementEffects AdvisoryLock = new() { PinReason = "a session advisory lock" };

    private List<SettingChange>? _changes;

    /// <summary>Why the session must keep its server connection; null when it need not.</summary>
    public string? PinReason { get; private set; }

    /// <summary>Settings changes, in statement order (empty for most effects).</summary>
    public IReadOnlyList<SettingChange> Changes => (IReadOnlyList<SettingChange>?)_changes ?? [];

    /// <summary>DISCARD ALL / DEALLOCATE ALL: the server connection no longer has any prepared statement.</summary>
    public bool ClearsPreparedStatements { get; private set; }

    /// <summary>ROLLBACK TO SAVEPOINT: SETs made in the transaction may have been undone.</summary>
    public bool RollsBackToSavepoint { get; private set; }

    /// <summary>The effects of a statement string (UTF-8, no NUL); null when it has none, which is the usual case.</summary>
    public static StatementEffects? Classify(ReadOnlySpan<byte> sql)
    {
        ReadOnlySpan<byte> first = FirstWord(sql);
        if (!HasSecondStatement(sql))
        {
            if (!MayHaveEffect(first))
            {
                return HasSessionAdvisoryLock(sql) ? AdvisoryLock : null;
            }

            var single = new StatementEffects();
            single.Add(Encoding.UTF8.GetString(sql));
            return single.IsEmpty ? null : single;
        }

        var all = new StatementEffects();
        foreach (string statement in SqlSplitter.Split(Encoding.UTF8.GetString(sql)))
        {
            all.Add(statement);
        }

        return all.IsEmpty ? null : all;
    }

    /// <summary>Whether the text starts with ROLLBACK, ABORT, COMMIT or END (and is one statement).</summary>
    public static bool IsTransactionEnd(ReadOnlySpan<byte> sql)
    {
        ReadOnlySpan<byte> first = FirstWord(sql);
        return !HasSecondStatement(sql)
            && (Ascii.EqualsIgnoreCase(first, "ROLLBACK"u8) || Ascii.EqualsIgnoreCase(first, "ABORT"u8)
                || Ascii.EqualsIgnoreCase(first, "COMMIT"u8) || Ascii.EqualsIgnoreCase(first, "END"u8));
    }

    private bool IsEmpty => PinReason is null && _changes is null && !ClearsPreparedStatements && !RollsBackToSavepoint;

    private void Add(string statement)
    {
        StatementInfo info = StatementClassifier.Classify(statement);
        switch (info.Kind)
        {
            case StatementKind.Set:
                AddSet(statement);
                break;
            case StatementKind.Reset:
                AddReset(statement);
                break;
            case StatementKind.Discard when info.CommandTag == "DISCARD ALL":
                (_changes ??= []).Add(new SettingChange(SettingChangeKind.ResetAll, ""));
                ClearsPreparedStatements = true;
                break;
            case StatementKind.Deallocate when info.CommandTag == "DEALLOCATE ALL":
                ClearsPreparedStatements = true;
                break;
            case StatementKind.RollbackToSavepoint:
                RollsBackToSavepoint = true;
                break;
            case StatementKind.Create or StatementKind.CreateTableAs when IsTemporaryCreate(statement):
                PinReason ??= "a temporary object (CREATE TEMP)";
                break;
            case StatementKind.Listen:
                PinReason ??= "LISTEN";
                break;
            case StatementKind.Declare when IsWithHold(statement):
                PinReason ??= "a cursor WITH HOLD";
                break;
            case StatementKind.Prepare:
                PinReason ??= "an SQL-level PREPARE";
                break;
            default:
                if (statement.Contains("advisory_lock", StringComparison.OrdinalIgnoreCase))
                {
                    PinReason ??= AdvisoryLock.PinReason;
                }

                break;
        }
    }

    private void AddSet(string statement)
    {
        if (StatementClassifier.TryParseSet(statement, out string name, out string? value, out bool isLocal))
        {
            if (!isLocal)
            {
                (_changes ??= []).Add(value is null ? new SettingChange(SettingChangeKind.Unset, name) : new SettingChange(SettingChangeKind.Set, name, statement, value));
            }

            return;
        }

        // SET TRANSACTION and SET CONSTRAINTS end with the transaction; SET SESSION CHARACTERISTICS stays.
        var lexer = new SqlLexer(statement);
        lexer.NextSignificant();
        if (lexer.NextSignificant().Is(statement, "SESSION") && lexer.NextSignificant().Is(statement, "CHARACTERISTICS"))
        {
            (_changes ??= []).Add(new SettingChange(SettingChangeKind.Set, CharacteristicsKey, statement));
        }
    }

    private void AddReset(string statement)
    {
        var lexer = new SqlLexer(statement);
        lexer.NextSignificant(); // RESET
        SqlToken token = lexer.NextSignificant();
        string? name = null;
        if (token.Is(statement, "ALL"))
        {
            (_changes ??= []).Add(new SettingChange(SettingChangeKind.ResetAll, ""));
            return;
        }

        if (token.Is(statement, "TIME"))
        {
            name = "timezone";
        }
        else if (token.Is(statement, "SESSION"))
        {
            name = "session_authorization";
        }
        else
        {
            // name, "Quoted" or a.b: spelled as TryParseSet spells it.
            var builder = new StringBuilder();
            while (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.Dot)
            {
                ReadOnlySpan<char> text = token.Text(statement);
                _ = token.Kind switch
                {
                    SqlTokenKind.Word => builder.Append(text.ToString().ToLowerInvariant()),
                    SqlTokenKind.QuotedIdentifier => builder.Append(text[1..^1].ToString().Replace("\"\"", "\"", StringComparison.Ordinal)),
                    _ => builder.Append('.'),
                };
                token = lexer.NextSignificant();
            }

            name = builder.Length == 0 ? null : builder.ToString();
        }

        if (name is not null)
        {
            (_changes ??= []).Add(new SettingChange(SettingChangeKind.Unset, name));
        }
    }

    /// <summary>CREATE [OR REPLACE] [GLOBAL | LOCAL] {TEMP | TEMPORARY} ... (tables, views, sequences).</summary>
    private static bool IsTemporaryCreate(string statement)
    {
        var lexer = new SqlLexer(statement);
        lexer.NextSignificant(); // CREATE
        for (int i = 0; i < 4; i++)
        {
            SqlToken token = lexer.NextSignificant();
            if (token.Is(statement, "TEMP") || token.Is(statement, "TEMPORARY"))
            {
                return true;
            }

            if (!(token.Is(statement, "OR") || token.Is(statement, "REPLACE") || token.Is(statement, "GLOBAL") || token.Is(statement, "LOCAL")))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>DECLARE name [options] CURSOR WITH HOLD FOR ...: HOLD before the FOR keyword.</summary>
    private static bool IsWithHold(string statement)
    {
        var lexer = new SqlLexer(statement);
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            if (token.Kind is SqlTokenKind.End or SqlTokenKind.Semicolon || token.Is(statement, "FOR"))
            {
                return false;
            }

            if (token.Is(statement, "HOLD"))
            {
                return true;
            }
        }
    }

    /// <summary>The leading keyword, after whitespace, comments and opening parentheses.</summary>
    internal static ReadOnlySpan<byte> FirstWord(ReadOnlySpan<byte> sql)
    {
        int i = 0;
        while (i < sql.Length)
        {
            byte c = sql[i];
            if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v' or (byte)'(')
            {
                i++;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                int newline = sql[i..].IndexOf((byte)'\n');
                i = newline < 0 ? sql.Length : i + newline + 1;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                i = SkipBlockComment(sql, i);
            }
            else
            {
                break;
            }
        }

        int start = i;
        while (i < sql.Length && (char.IsAsciiLetter((char)sql[i]) || sql[i] == '_'))
        {
            i++;
        }

        return sql[start..i];
    }

    private static int SkipBlockComment(ReadOnlySpan<byte> sql, int start)
    {
        // Nested, as PostgreSQL's.
        int depth = 0;
        int i = start;
        while (i + 1 < sql.Length)
        {
            if (sql[i] == '/' && sql[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && sql[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    /// <summary>
    /// True when something other than whitespace and semicolons follows the first ';'. A ';' inside a
    /// string or comment also answers true; the caller then splits properly, which is only slower.
    /// </summary>
    internal static bool HasSecondStatement(ReadOnlySpan<byte> sql)
    {
        int semicolon = sql.IndexOf((byte)';');
        return semicolon >= 0 && sql[(semicolon + 1)..].IndexOfAnyExcept(" \t\n\r\f\v;"u8) >= 0;
    }

    private static bool MayHaveEffect(ReadOnlySpan<byte> word) => word.Length switch
    {
        3 => Ascii.EqualsIgnoreCase(word, "SET"u8),
        5 => Ascii.EqualsIgnoreCase(word, "RESET"u8),
        6 => Ascii.EqualsIgnoreCase(word, "LISTEN"u8) || Ascii.EqualsIgnoreCase(word, "CREATE"u8),
        7 => Ascii.EqualsIgnoreCase(word, "DISCARD"u8) || Ascii.EqualsIgnoreCase(word, "DECLARE"u8) || Ascii.EqualsIgnoreCase(word, "PREPARE"u8),
        8 => Ascii.EqualsIgnoreCase(word, "ROLLBACK"u8),
        10 => Ascii.EqualsIgnoreCase(word, "DEALLOCATE"u8),
        _ => false,
    };

    /// <summary>Case-insensitive search for "advisory_lock" keyed on its rare letter 'y'.</summary>
    internal static bool HasSessionAdvisoryLock(ReadOnlySpan<byte> sql)
    {
        ReadOnlySpan<byte> needle = "advisory_lock"u8;
        const int yAt = 7;
        int from = yAt;
        while (from < sql.Length)
        {
            int found = sql[from..].IndexOfAny((byte)'y', (byte)'Y');
            if (found < 0)
            {
                return false;
            }

            int y = from + found;
            int start = y - yAt;
            if (start + needle.Length <= sql.Length && Ascii.EqualsIgnoreCase(sql.Slice(start, needle.Length), needle))
            {
                return true;
            }

            from = y + 1;
        }

        return false;
    }
}
