using System.Text;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// A client session's state on a MySQL-wire engine under transaction pooling: the statements that
/// changed session settings (SET, SET NAMES, USE), replayed in order on whichever server connection the
/// session gets next, and whether the session is pinned to one connection because its state cannot be
/// replayed (temporary tables, GET_LOCK, LOCK TABLES, user variables, SQL-level PREPARE, HANDLER, XA).
/// </summary>
/// <remarks>
/// The signature (the replay statements joined) identifies the state: a connection whose
/// <see cref="MySqlServerConnection.AppliedState"/> equals it needs nothing; any other connection is reset
/// (COM_RESET_CONNECTION) and the statements are replayed. Most sessions never SET anything, so their
/// signature is "" and every pooled connection fits them as is.
/// </remarks>
public sealed class MySqlSessionState
{
    /// <summary>More distinct settings than this pin the session instead of growing the replay list.</summary>
    public const int MaxReplayStatements = 64;

    private readonly List<KeyValuePair<string, byte[]>> _replay = [];

    public string Signature { get; private set; } = "";

    public bool IsPinned { get; private set; }

    /// <summary>Why the session is pinned (for logs and docs), or null.</summary>
    public string? PinReason { get; private set; }

    public int Count => _replay.Count;

    /// <summary>The statements to replay, in the order they must run.</summary>
    public IEnumerable<byte[]> ReplayStatements
    {
        get
        {
            foreach (KeyValuePair<string, byte[]> entry in _replay)
            {
                yield return entry.Value;
            }
        }
    }

    /// <summary>Remembers a successful setting statement; a later one with the same key replaces it.</summary>
    public void RecordSetting(string key, ReadOnlySpan<byte> statement)
    {
        ArgumentNullException.ThrowIfNull(key);
        int existing = _replay.FindIndex(e => e.Key == key);
        if (existing >= 0)
        {
            _replay.RemoveAt(existing);
        }
        else if (_replay.Count >= MaxReplayStatements)
        {
            Pin("more than 64 distinct session settings");
            return;
        }

        _replay.Add(new KeyValuePair<string, byte[]>(key, statement.ToArray()));
        Signature = BuildSignature();
    }

    private void RemoveSetting(string key)
    {
        int existing = _replay.FindIndex(e => e.Key == key);
        if (existing >= 0)
        {
            _replay.RemoveAt(existing);
            Signature = BuildSignature();
        }
    }

    /// <summary>SET NAMES utf8mb4 (quoted or not, without COLLATE): the character set server connections start with.</summary>
    private static bool IsBaseCharacterSet(ReadOnlySpan<byte> statement)
    {
        var tokens = new MySqlSqlTokenizer(statement);
        tokens.Next(); // SET
        if (!Ascii.EqualsIgnoreCase(tokens.TextOf(tokens.Next()), "NAMES"u8))
        {
            return false;
        }

        MySqlSqlToken charset = tokens.Next();
        ReadOnlySpan<byte> name = tokens.TextOf(charset);
        if (charset.Kind is MySqlSqlTokenKind.String or MySqlSqlTokenKind.QuotedIdentifier && name.Length >= 2)
        {
            name = name[1..^1];
        }

        MySqlSqlToken end = tokens.Next();
        return Ascii.EqualsIgnoreCase(name, "utf8mb4"u8) && end.Kind is MySqlSqlTokenKind.End or MySqlSqlTokenKind.Semicolon;
    }

    /// <summary>Remembers the current database after USE or COM_INIT_DB.</summary>
    public void RecordDatabase(string database) =>
        RecordSetting("USE", Encoding.UTF8.GetBytes("USE " + MySqlIdentifiers.Quote(database)));

    public void Pin(string reason)
    {
        IsPinned = true;
        PinReason ??= reason;
    }

    /// <summary>Back to a fresh session (COM_RESET_CONNECTION from the client).</summary>
    public void Reset()
    {
        _replay.Clear();
        Signature = "";
        IsPinned = false;
        PinReason = null;
    }

    /// <summary>
    /// Records what the statements of <paramref name="sql"/> did, after they succeeded: settings and
    /// USE are kept for replay, unreplayable state pins. Returns true when any statement asks to keep the
    /// connection for the next statement (SET TRANSACTION).
    /// </summary>
    public bool Record(ReadOnlySpan<byte> sql)
    {
        bool holdForNext = false;
        int position = 0;
        while (MySqlStatementClassifier.TryNext(sql, ref position, out MySqlStatementInfo statement))
        {
            ReadOnlySpan<byte> text = sql.Slice(statement.Start, statement.Length);
            switch (statement.Effect)
            {
                case MySqlStatementEffect.SessionSetting when statement.IsSetNames && IsBaseCharacterSet(text):
                    // SET NAMES utf8mb4 (what connectors send on connect) is every server connection's own state.
                    RemoveSetting("NAMES");
                    break;
                case MySqlStatementEffect.SessionSetting:
                    RecordSetting(MySqlStatementClassifier.SettingKey(text), text);
                    break;
                case MySqlStatementEffect.ChangesDatabase:
                    RecordSetting("USE", text);
                    break;
                case MySqlStatementEffect.HoldsForNextStatement:
                    holdForNext = true;
                    break;
                case MySqlStatementEffect.Pins:
                    Pin("unreplayable session state (temporary table, lock, user variable, PREPARE, HANDLER or XA)");
                    break;
            }
        }

        return holdForNext;
    }

    /// <summary>
    /// Brings a pooled connection to this state: nothing when it already has it, else COM_RESET_CONNECTION
    /// (unless the connection is pristine) and the replay statements in order.
    /// </summary>
    public async ValueTask ApplyToAsync(MySqlServerConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.AppliedState is not null && string.Equals(connection.AppliedState, Signature, StringComparison.Ordinal))
        {
            return;
        }

        if (connection.AppliedState is null || connection.AppliedState.Length > 0)
        {
            await connection.ResetSessionAsync(cancellationToken).ConfigureAwait(false);
        }

        connection.AppliedState = null;
        foreach (KeyValuePair<string, byte[]> entry in _replay)
        {
            await connection.ExecuteSimpleAsync(entry.Value, cancellationToken).ConfigureAwait(false);
        }

        connection.AppliedState = Signature;
    }

    private string BuildSignature()
    {
        var text = new StringBuilder();
        foreach (KeyValuePair<string, byte[]> entry in _replay)
        {
            text.Append(Encoding.UTF8.GetString(entry.Value)).Append('\u0001');
        }

        return text.ToString();
    }
}
