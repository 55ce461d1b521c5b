using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>What a statement does to session state that must follow the client across server connections.</summary>
internal enum PgEffectKind : byte
{
    None,

    /// <summary>SET name = value (session level): remembered and replayed.</summary>
    Set,

    /// <summary>SET name TO DEFAULT or RESET name: forgotten.</summary>
    Unset,

    /// <summary>RESET ALL: every remembered SET is forgotten.</summary>
    ResetAll,

    /// <summary>DISCARD ALL: settings forgotten and the server drops its prepared statements.</summary>
    DiscardAll,

    /// <summary>DEALLOCATE ALL: the server drops its prepared statements.</summary>
    DeallocateAll,

    /// <summary>ROLLBACK TO SAVEPOINT: may undo SETs of the transaction; the connection's settings become unknown.</summary>
    RollbackToSavepoint,
}

/// <summary>A statement's effect on session state; <see cref="Name"/> keys SETs, <see cref="Sql"/> is what to replay.</summary>
internal readonly record struct PgStatementEffect(PgEffectKind Kind, string Name = "", string Sql = "")
{
    public static readonly PgStatementEffect None = new(PgEffectKind.None);

    /// <summary>Derives the effect from the statement text (SET LOCAL, SET TRANSACTION and SET CONSTRAINTS have none).</summary>
    public static PgStatementEffect Of(string sql, StatementKind kind)
    {
        switch (kind)
        {
            case StatementKind.Set:
                if (StatementClassifier.TryParseSet(sql, out string name, out string? value, out bool isLocal))
                {
                    return isLocal ? None : value is null ? new(PgEffectKind.Unset, name) : new(PgEffectKind.Set, name, sql);
                }

                return FirstWords(sql, "SET", "SESSION", "CHARACTERISTICS") ? new(PgEffectKind.Set, CharacteristicsKey, sql) : None;
            case StatementKind.Reset:
                return ParseReset(sql);
            case StatementKind.Discard:
                return FirstWords(sql, "DISCARD", "ALL") ? new(PgEffectKind.DiscardAll) : None;
            case StatementKind.Deallocate:
                return FirstWords(sql, "DEALLOCATE", "ALL") || FirstWords(sql, "DEALLOCATE", "PREPARE", "ALL") ? new(PgEffectKind.DeallocateAll) : None;
            case StatementKind.RollbackToSavepoint:
                return new(PgEffectKind.RollbackToSavepoint);
            default:
                return None;
        }
    }

    /// <summary>SET SESSION CHARACTERISTICS has no parameter name; it is remembered under this key.</summary>
    private const string CharacteristicsKey = "\u0001session_characteristics";

    private static PgStatementEffect ParseReset(string sql)
    {
        var lexer = new SqlLexer(sql);
        lexer.NextSignificant(); // RESET
        SqlToken token = lexer.NextSignificant();
        if (token.Is(sql, "ALL"))
        {
            return new(PgEffectKind.ResetAll);
        }

        if (token.Is(sql, "TIME"))
        {
            return new(PgEffectKind.Unset, "timezone");
        }

        if (token.Is(sql, "SESSION"))
        {
            return new(PgEffectKind.Unset, "session_authorization");
        }

        // name or "Quoted" or a.b: the same spelling TryParseSet produces.
        var name = new System.Text.StringBuilder();
        while (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.Dot)
        {
            ReadOnlySpan<char> text = token.Text(sql);
            if (token.Kind == SqlTokenKind.Word)
            {
                name.Append(text.ToString().ToLowerInvariant());
            }
            else if (token.Kind == SqlTokenKind.QuotedIdentifier)
            {
                name.Append(text[1..^1].ToString().Replace("\"\"", "\"", StringComparison.Ordinal));
            }
            else
            {
                name.Append('.');
            }

            token = lexer.NextSignificant();
        }

        return name.Length == 0 ? None : new(PgEffectKind.Unset, name.ToString());
    }

    private static bool FirstWords(string sql, string first, string second, string? third = null)
    {
        var lexer = new SqlLexer(sql);
        return lexer.NextSignificant().Is(sql, first)
            && lexer.NextSignificant().Is(sql, second)
            && (third is null || lexer.NextSignificant().Is(sql, third));
    }
}

/// <summary>
/// The session-level SETs a client made, in order, and their replay script. <see cref="Key"/> is what a
/// server connection's <see cref="PgServerConnection.SettingsKey"/> must equal for the session to use it as is.
/// </summary>
internal sealed class PgSessionSettings
{
    /// <summary>Puts a server connection back to its startup state (RESET ALL leaves role and session authorization alone).</summary>
    public const string ResetScript = "SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL";

    private readonly List<KeyValuePair<string, string>> _sets = [];

    /// <summary>"" when nothing was SET; else the SET statements joined by "\n;\n".</summary>
    public string Key { get; private set; } = "";

    /// <summary>What brings a connection with other settings to this session's: reset, then the SETs.</summary>
    public string ReplayScript => Key.Length == 0 ? ResetScript : ResetScript + ";\n" + Key;

    public void Apply(in PgStatementEffect effect)
    {
        switch (effect.Kind)
        {
            case PgEffectKind.Set:
                Remove(effect.Name);
                _sets.Add(new(effect.Name, effect.Sql));
                break;
            case PgEffectKind.Unset:
                Remove(effect.Name);
                break;
            case PgEffectKind.ResetAll or PgEffectKind.DiscardAll:
                _sets.Clear();
                break;
            default:
                return;
        }

        // "\n;\n": a SET that ends in a -- comment must not swallow the separator.
        Key = _sets.Count == 0 ? "" : string.Join("\n;\n", _sets.ConvertAll(static pair => pair.Value));
    }

    private void Remove(string name)
    {
        for (int i = 0; i < _sets.Count; i++)
        {
            if (_sets[i].Key.Equals(name, StringComparison.Ordinal))
            {
                _sets.RemoveAt(i);
                return;
            }
        }
    }
}
