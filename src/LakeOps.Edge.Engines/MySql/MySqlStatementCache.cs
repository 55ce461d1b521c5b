using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Client;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>A statement prepared on one server connection.</summary>
public sealed class MySqlServerStatement
{
    public MySqlServerStatement(string sql, uint id, ushort parameterCount, ushort columnCount)
    {
        Sql = sql;
        Id = id;
        ParameterCount = parameterCount;
        ColumnCount = columnCount;
    }

    public string Sql { get; }

    /// <summary>The server's statement id on this connection.</summary>
    public uint Id { get; }

    public ushort ParameterCount { get; }

    public ushort ColumnCount { get; }

    /// <summary>The parameter types last bound to it (2 bytes each), for executions that do not resend types.</summary>
    public byte[]? BoundTypes { get; set; }

    internal long LastUsed { get; set; }

    /// <summary>Result columns, when the Arrow path prepared it (the passthrough does not decode them).</summary>
    internal MySqlColumnSpec[]? Columns { get; set; }
}

/// <summary>
/// The statements prepared on one server connection, by SQL text. Sessions that land on the connection
/// reuse them (like PgBouncer's prepared statement tracking); beyond <see cref="Capacity"/> the least
/// recently used one is closed on the server.
/// </summary>
public sealed class MySqlStatementCache
{
    public const int Capacity = 128;

    private readonly Dictionary<string, MySqlServerStatement> _bySql = new(StringComparer.Ordinal);
    private long _clock;

    public int Count => _bySql.Count;

    public MySqlServerStatement? Find(string sql)
    {
        if (_bySql.TryGetValue(sql, out MySqlServerStatement? statement))
        {
            statement.LastUsed = ++_clock;
        }

        return statement;
    }

    /// <summary>Adds a statement; when full, writes COM_STMT_CLOSE (no reply) for the least recently used one.</summary>
    public void Add(MySqlServerStatement statement, MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(writer);
        if (_bySql.Count >= Capacity)
        {
            MySqlServerStatement? oldest = null;
            foreach (MySqlServerStatement candidate in _bySql.Values)
            {
                if (oldest is null || candidate.LastUsed < oldest.LastUsed)
                {
                    oldest = candidate;
                }
            }

            _bySql.Remove(oldest!.Sql);
            MySqlCommandWriter.WriteStatementCommand(writer, MySqlCommand.StmtClose, oldest.Id);
        }

        statement.LastUsed = ++_clock;
        _bySql[statement.Sql] = statement;
    }

    /// <summary>Forgets a statement (after the server rejected its id, e.g. "Unknown prepared statement handler").</summary>
    public void Remove(string sql) => _bySql.Remove(sql);

    /// <summary>Forgets everything (after COM_RESET_CONNECTION, which drops them on the server).</summary>
    public void Clear() => _bySql.Clear();
}
