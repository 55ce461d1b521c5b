using System.Text;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// The settings a passthrough client expects on whatever server connection it gets: its startup
/// parameters (where they differ from the server's defaults) and the session-level SETs it made.
/// <see cref="Key"/> is the replay script itself, so equal settings give equal keys and a server
/// connection whose <c>SettingsKey</c> equals the client's needs no work. Most clients never SET, and
/// clients of one application send the same startup parameters, so most transactions replay nothing.
/// </summary>
/// <remarks>
/// Changed by the response pump only (when a statement's ReadyForQuery arrives); <see cref="Key"/> is
/// read by the client loop when it borrows a connection, which happens after the pump released the
/// previous one.
/// </remarks>
internal sealed class SessionSettings
{
    /// <summary>Back to a server connection's startup state (RESET ALL leaves session authorization alone).</summary>
    public const string ResetScript = "SET SESSION AUTHORIZATION DEFAULT; RESET ROLE; RESET ALL";

    /// <summary>Between statements; a SET that ends in a -- comment must not swallow it.</summary>
    private const string Separator = "\n;\n";

    private readonly string _startupSql;
    private List<KeyValuePair<string, string>>? _sets;
    private List<SettingChange>? _pending;
    private bool _pendingUncertain;
    private volatile string _key;

    // The values SET gave the parameters routing rules look at (application_name, edge.tags, search_path).
    private Dictionary<string, string>? _routed;
    private volatile int _routeVersion;

    public SessionSettings(string startupSql)
    {
        _startupSql = startupSql;
        _key = startupSql;
    }

    /// <summary>"" when the client expects the server's defaults; otherwise the statements that set its settings.</summary>
    public string Key => _key;

    /// <summary>Changes whenever a SET, RESET or DISCARD ALL that routing may care about takes effect.</summary>
    public int RouteVersion => _routeVersion;

    /// <summary>The value a SET that took effect gave <paramref name="name"/>; null when unset (the startup value applies).</summary>
    public string? RoutedValue(string name) => _routed is not null && _routed.TryGetValue(name, out string? value) ? value : null;

    /// <summary>True while a transaction holds SETs whose fate (commit or rollback) is not known yet.</summary>
    public bool HasPending => _pending is { Count: > 0 };

    /// <summary>What brings a connection whose settings key is <paramref name="connectionKey"/> to this session's settings.</summary>
    public string ReplayScript(string? connectionKey)
    {
        string key = _key;
        if (connectionKey is { Length: 0 })
        {
            return key;
        }

        return key.Length == 0 ? ResetScript : ResetScript + Separator + key;
    }

    /// <summary>
    /// Settings from a startup packet: every parameter except user/database/replication/_pq_ options,
    /// plus "-c name=value" / "--name=value" items of "options", minus values equal to the server's own
    /// (<paramref name="serverDefaults"/>, the ParameterStatus values of a fresh server connection).
    /// </summary>
    public static SessionSettings FromStartup(IReadOnlyList<KeyValuePair<string, string>> parameters, IReadOnlyDictionary<string, string> serverDefaults)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(serverDefaults);

        // One builder per thread: a login then allocates only the script string itself (logins come in bursts).
        StringBuilder sql = t_scriptBuilder ?? new StringBuilder(256);
        t_scriptBuilder = null;
        foreach (KeyValuePair<string, string> setting in StartupSettings(parameters))
        {
            if (IsServerDefault(setting, serverDefaults))
            {
                continue;
            }

            sql.Append(sql.Length == 0 ? "SELECT " : ", ");
            sql.Append("pg_catalog.set_config(");
            AppendLiteral(sql, setting.Key);
            sql.Append(", ");
            AppendLiteral(sql, setting.Value);
            sql.Append(", false)");
        }

        string script = sql.ToString();
        sql.Clear();
        t_scriptBuilder = sql;
        return new SessionSettings(script);
    }

    [ThreadStatic]
    private static StringBuilder? t_scriptBuilder;

    /// <summary>The run-time parameters a startup packet asks for: its own ones and the items of "options".</summary>
    public static IEnumerable<KeyValuePair<string, string>> StartupSettings(IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        for (int i = 0; i < parameters.Count; i++)
        {
            KeyValuePair<string, string> parameter = parameters[i];
            if (parameter.Key == "options")
            {
                foreach (KeyValuePair<string, string> option in ParseOptions(parameter.Value))
                {
                    yield return option;
                }
            }
            else if (IsRunTimeParameter(parameter.Key))
            {
                yield return parameter;
            }
        }
    }

    /// <summary>Startup parameters other than the connection's identity (user, database, replication, _pq_ options).</summary>
    private static bool IsRunTimeParameter(string key) =>
        key is not ("user" or "database" or "replication") && !key.StartsWith("_pq_.", StringComparison.Ordinal);

    /// <summary>
    /// Takes the outcome of one sync point (Sync or simple Query) whose ReadyForQuery said
    /// <paramref name="status"/>. SETs outside a transaction take effect at once; inside one they wait
    /// for its end and are kept only when it commits. Returns what the server connection's settings
    /// key becomes: the session's new key, null when unknown (RESET/DISCARD, savepoint rollbacks), or
    /// <paramref name="connectionKey"/> when nothing changed.
    /// </summary>
    public string? Complete(IReadOnlyList<StatementEffects>? effects, bool hadError, byte status, bool endedWithRollback, string? connectionKey)
    {
        string? result = connectionKey;
        if (_pending is not null && status == PgTransactionStatus.Idle)
        {
            // The transaction that held SETs has ended.
            if (!hadError && !endedWithRollback)
            {
                result = ApplyAll(_pending, _pendingUncertain);
            }

            _pending = null;
            _pendingUncertain = false;
        }

        if (effects is null || hadError)
        {
            return result;
        }

        foreach (StatementEffects effect in effects)
        {
            if (effect.RollsBackToSavepoint && status != PgTransactionStatus.Idle)
            {
                _pendingUncertain = true;
            }

            if (effect.Changes.Count == 0)
            {
                continue;
            }

            if (status == PgTransactionStatus.Idle)
            {
                result = ApplyAll(effect.Changes, uncertain: false);
            }
            else
            {
                (_pending ??= []).AddRange(effect.Changes);
            }
        }

        return result;
    }

    /// <summary>Forgets SETs of a transaction that will never complete (the server connection was lost).</summary>
    public void DropPending()
    {
        _pending = null;
        _pendingUncertain = false;
    }

    private string? ApplyAll(IReadOnlyList<SettingChange> changes, bool uncertain)
    {
        bool unknown = uncertain;
        foreach (SettingChange change in changes)
        {
            switch (change.Kind)
            {
                case SettingChangeKind.Set:
                    Remove(change.Name);
                    (_sets ??= []).Add(new(change.Name, change.Sql));
                    if (IsRouted(change.Name))
                    {
                        (_routed ??= new(StringComparer.Ordinal))[change.Name] = change.Value ?? "";
                        _routeVersion++;
                    }

                    break;
                case SettingChangeKind.Unset:
                    // The server resets to its own startup value, not necessarily the client's.
                    Remove(change.Name);
                    unknown = true;
                    if (IsRouted(change.Name) && _routed is not null && _routed.Remove(change.Name))
                    {
                        _routeVersion++;
                    }

                    break;
                case SettingChangeKind.ResetAll:
                    _sets?.Clear();
                    unknown = true;
                    if (_routed is { Count: > 0 })
                    {
                        _routed.Clear();
                        _routeVersion++;
                    }

                    break;
            }
        }

        var builder = new StringBuilder(_startupSql);
        for (int i = 0; _sets is not null && i < _sets.Count; i++)
        {
            if (builder.Length > 0)
            {
                builder.Append(Separator);
            }

            builder.Append(_sets[i].Value);
        }

        _key = builder.ToString();
        return unknown ? null : _key;
    }

    private static bool IsRouted(string name) => name is "application_name" or "edge.tags" or "search_path";

    private void Remove(string name)
    {
        for (int i = 0; _sets is not null && i < _sets.Count; i++)
        {
            if (_sets[i].Key.Equals(name, StringComparison.Ordinal))
            {
                _sets.RemoveAt(i);
                return;
            }
        }
    }

    private static bool IsServerDefault(KeyValuePair<string, string> setting, IReadOnlyDictionary<string, string> serverDefaults)
    {
        foreach (KeyValuePair<string, string> server in serverDefaults)
        {
            if (server.Key.Equals(setting.Key, StringComparison.OrdinalIgnoreCase))
            {
                return server.Value.Equals(setting.Value, StringComparison.OrdinalIgnoreCase);
            }
        }

        return false;
    }

    /// <summary>
    /// The "-c name=value" and "--name=value" items of the startup "options" parameter (as PostgreSQL
    /// reads them: whitespace separates, a backslash escapes the next character, '-' in names is '_').
    /// </summary>
    internal static List<KeyValuePair<string, string>> ParseOptions(string options)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < options.Length; i++)
        {
            char c = options[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            if (c == '\\' && i + 1 < options.Length)
            {
                c = options[++i];
            }

            word.Append(c);
            inWord = true;
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        var result = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < words.Count; i++)
        {
            string item = words[i];
            string? assignment = item == "-c" ? (i + 1 < words.Count ? words[++i] : null)
                : item.StartsWith("--", StringComparison.Ordinal) ? item[2..]
                : item.StartsWith("-c", StringComparison.Ordinal) ? item[2..]
                : null;
            int equals = assignment?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            if (assignment is null || equals <= 0)
            {
                continue;
            }

            string name = assignment[..equals].Replace('-', '_');
            result.Add(new(name, assignment[(equals + 1)..]));
        }

        return result;
    }

    private static void AppendLiteral(StringBuilder sql, string value)
    {
        sql.Append('\'');
        int start = 0;
        for (int quote; (quote = value.IndexOf('\'', start)) >= 0; start = quote + 1)
        {
            sql.Append(value, start, quote + 1 - start).Append('\'');
        }

        sql.Append(value, start, value.Length - start).Append('\'');
    }
}
