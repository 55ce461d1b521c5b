namespace LakeOps.Edge.Engines.MySql;

/// <summary>Quoting for SQL that Edge itself sends to MySQL-wire engines.</summary>
public static class MySqlIdentifiers
{
    /// <summary>`name` with backticks doubled.</summary>
    public static string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";
    }
}
