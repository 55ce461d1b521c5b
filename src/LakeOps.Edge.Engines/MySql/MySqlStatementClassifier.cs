using System.Text;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>What a statement does to the session state that transaction pooling must preserve.</summary>
public enum MySqlStatementEffect : byte
{
    /// <summary>Nothing to track (transactions are tracked from the server's status flags instead).</summary>
    None,

    /// <summary>SET of session variables, SET NAMES, SET ROLE: replayed on the next server connections.</summary>
    SessionSetting,

    /// <summary>USE db: replayed on the next server connections.</summary>
    ChangesDatabase,

    /// <summary>SET TRANSACTION ...: applies to the next transaction, so the connection is kept for it.</summary>
    HoldsForNextStatement,

    /// <summary>
    /// State that cannot be replayed (temporary tables, GET_LOCK, LOCK TABLES, user variables,
    /// SQL-level PREPARE, HANDLER, XA): the session keeps its server connection from now on.
    /// </summary>
    Pins,
}

/// <summary>One statement of a query string and what it does.</summary>
public readonly record struct MySqlStatementInfo(int Start, int Length, MySqlStatementEffect Effect, bool IsSetNames);

/// <summary>
/// Splits MySQL query text into statements and classifies each for state tracking. Works on the UTF-8
/// bytes a client sent, so the passthrough can use it without decoding.
/// </summary>
public static class MySqlStatementClassifier
{
    /// <summary>
    /// The next statement at or after <paramref name="position"/>: false at the end. A routine body
    /// (CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT ... BEGIN, BEGIN NOT ATOMIC) runs to the end of the text,
    /// since its inner ';' do not end it.
    /// </summary>
    public static bool TryNext(ReadOnlySpan<byte> sql, ref int position, out MySqlStatementInfo statement)
    {
        var tokens = new MySqlSqlTokenizer(sql[position..]);
        int offset = position;
        var effect = new EffectScanner();
        int start = -1;
        int end = 0;
        bool compound = false;
        while (true)
        {
            MySqlSqlToken token = tokens.Next();
            if (token.Kind == MySqlSqlTokenKind.End || (token.Kind == MySqlSqlTokenKind.Semicolon && !compound))
            {
                position = offset + tokens.Position;
                if (start >= 0)
                {
                    statement = new MySqlStatementInfo(offset + start, end - start, effect.Result, effect.IsSetNames);
                    return true;
                }

                if (token.Kind == MySqlSqlTokenKind.End)
                {
                    statement = default;
                    return false;
                }

                // An empty statement (";;"): keep looking.
                tokens = new MySqlSqlTokenizer(sql[position..]);
                offset = position;
                continue;
            }

            if (token.Kind == MySqlSqlTokenKind.Semicolon)
            {
                continue;
            }

            if (start < 0)
            {
                start = token.Start;
            }

            end = token.Start + token.Length;
            compound |= effect.Add(token, tokens.TextOf(token));
        }
    }

    /// <summary>Counts the statements of a text (0 for only whitespace and comments).</summary>
    public static int Count(ReadOnlySpan<byte> sql)
    {
        int position = 0;
        int count = 0;
        while (TryNext(sql, ref position, out _))
        {
            count++;
        }

        return count;
    }

    /// <summary>The replay key of a SessionSetting statement: the variable name upper-cased, "NAMES", "ROLE", or the whole text for several assignments.</summary>
    public static string SettingKey(ReadOnlySpan<byte> statement)
    {
        var tokens = new MySqlSqlTokenizer(statement);
        tokens.Next(); // SET
        MySqlSqlToken name = tokens.Next();
        ReadOnlySpan<byte> text = tokens.TextOf(name);
        if (name.Kind == MySqlSqlTokenKind.Word && (Is(text, "SESSION"u8) || Is(text, "LOCAL"u8)))
        {
            name = tokens.Next();
            text = tokens.TextOf(name);
        }
        else if (name.Kind == MySqlSqlTokenKind.SystemVariable)
        {
            text = StripScope(text[2..]);
        }
        else if (name.Kind == MySqlSqlTokenKind.Word && (Is(text, "CHARACTER"u8) || Is(text, "CHARSET"u8)))
        {
            return "NAMES";
        }

        // Several assignments at the top level: the whole statement is its own key.
        int depth = 0;
        for (MySqlSqlToken t = tokens.Next(); t.Kind != MySqlSqlTokenKind.End; t = tokens.Next())
        {
            if (t.Kind == MySqlSqlTokenKind.Symbol)
            {
                byte c = statement[t.Start];
                depth += c == '(' ? 1 : c == ')' ? -1 : 0;
                if (c == ',' && depth == 0)
                {
                    return Encoding.UTF8.GetString(statement);
                }
            }
        }

        return Encoding.UTF8.GetString(text).ToUpperInvariant();
    }

    private static ReadOnlySpan<byte> StripScope(ReadOnlySpan<byte> name)
    {
        int dot = name.IndexOf((byte)'.');
        return dot < 0 ? name : name[(dot + 1)..];
    }

    private static bool Is(ReadOnlySpan<byte> word, ReadOnlySpan<byte> keyword) => Ascii.EqualsIgnoreCase(word, keyword);

    private static bool StartsWith(ReadOnlySpan<byte> text, ReadOnlySpan<byte> prefix) =>
        text.Length >= prefix.Length && Ascii.EqualsIgnoreCase(text[..prefix.Length], prefix);

    /// <summary>Reads a statement's tokens in order and decides its effect.</summary>
    private struct EffectScanner
    {
        private int _index;
        private MySqlStatementEffect _effect;
        private bool _isSet;
        private bool _isCreate;
        private bool _isFlush;
        private bool _isBegin;
        private bool _routine;
        private bool _afterInto;

        public readonly MySqlStatementEffect Result => _effect;

        public bool IsSetNames { get; private set; }

        /// <summary>Returns true once the statement is known to be a compound (routine) statement.</summary>
        public bool Add(MySqlSqlToken token, ReadOnlySpan<byte> text)
        {
            int index = _index++;
            bool word = token.Kind == MySqlSqlTokenKind.Word;
            if (index == 0)
            {
                First(word, text);
            }
            else if (index == 1 && _isSet)
            {
                SecondOfSet(token, text);
            }

            bool compound = false;
            if (word)
            {
                if (_isCreate && index == 1 && Is(text, "TEMPORARY"u8))
                {
                    _effect = MySqlStatementEffect.Pins;
                }

                if (_isCreate && (Is(text, "PROCEDURE"u8) || Is(text, "FUNCTION"u8) || Is(text, "TRIGGER"u8) || Is(text, "EVENT"u8)))
                {
                    _routine = true;
                }

                // CREATE PROCEDURE ... BEGIN ... END, and MariaDB's anonymous BEGIN NOT ATOMIC ... END.
                compound = (_routine && Is(text, "BEGIN"u8)) || (_isBegin && index == 1 && Is(text, "NOT"u8));

                if (Is(text, "GET_LOCK"u8) || (_isFlush && Is(text, "LOCK"u8)))
                {
                    _effect = MySqlStatementEffect.Pins;
                }
            }

            // User variables that get a value: SET @x = ..., SELECT ... INTO @x, @x := ...
            if (token.Kind == MySqlSqlTokenKind.Assign || (token.Kind == MySqlSqlTokenKind.UserVariable && (_isSet || _afterInto)))
            {
                _effect = MySqlStatementEffect.Pins;
            }

            _afterInto = word ? Is(text, "INTO"u8) : _afterInto && (token.Kind == MySqlSqlTokenKind.UserVariable || (token.Kind == MySqlSqlTokenKind.Symbol && text[0] == ','));
            return compound;
        }

        private void First(bool word, ReadOnlySpan<byte> text)
        {
            if (!word)
            {
                return;
            }

            if (Is(text, "SET"u8))
            {
                _isSet = true;
            }
            else if (Is(text, "USE"u8))
            {
                _effect = MySqlStatementEffect.ChangesDatabase;
            }
            else if (Is(text, "CREATE"u8))
            {
                _isCreate = true;
            }
            else if (Is(text, "FLUSH"u8))
            {
                _isFlush = true;
            }
            else if (Is(text, "BEGIN"u8))
            {
                _isBegin = true;
            }
            else if (Is(text, "LOCK"u8) || Is(text, "PREPARE"u8) || Is(text, "HANDLER"u8) || Is(text, "XA"u8))
            {
                _effect = MySqlStatementEffect.Pins;
            }
        }

        private void SecondOfSet(MySqlSqlToken token, ReadOnlySpan<byte> text)
        {
            if (token.Kind == MySqlSqlTokenKind.SystemVariable)
            {
                // @@x and @@session.x are session settings; @@global.x and @@persist.x are not.
                ReadOnlySpan<byte> name = text[2..];
                if (!StartsWith(name, "global."u8) && !StartsWith(name, "persist"u8))
                {
                    _effect = MySqlStatementEffect.SessionSetting;
                }

                return;
            }

            if (token.Kind != MySqlSqlTokenKind.Word
                || Is(text, "GLOBAL"u8) || Is(text, "PERSIST"u8) || Is(text, "PERSIST_ONLY"u8) || Is(text, "PASSWORD"u8)
                || Is(text, "DEFAULT"u8) || Is(text, "STATEMENT"u8))
            {
                // SET @user is pinned by the general rule; the others change no session state.
                return;
            }

            if (Is(text, "TRANSACTION"u8))
            {
                _effect = MySqlStatementEffect.HoldsForNextStatement;
                return;
            }

            IsSetNames = Is(text, "NAMES"u8) || Is(text, "CHARACTER"u8) || Is(text, "CHARSET"u8);
            _effect = MySqlStatementEffect.SessionSetting;
        }
    }
}
