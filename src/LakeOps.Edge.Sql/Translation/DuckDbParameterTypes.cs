using System.Text;

namespace LakeOps.Edge.Sql.Translation;

/// <summary>
/// Makes parameter types that a PostgreSQL client declared (Parse message OIDs) visible to DuckDB:
/// <c>$1</c> becomes <c>$1::INTEGER</c>. Without this DuckDB infers unknown parameters as VARCHAR
/// or leaves result types open until execution, so the row description a driver caches at
/// prepare time would not match the rows.
/// </summary>
public static class DuckDbParameterTypes
{
    /// <summary>The DuckDB type for a PostgreSQL type OID, or null when the parameter is better left untyped.</summary>
    public static string? TypeFor(int oid) => oid switch
    {
        16 => "BOOLEAN",
        17 => "BLOB",
        20 => "BIGINT",
        21 => "SMALLINT",
        23 => "INTEGER",
        25 or 1043 => "VARCHAR",
        114 or 3802 => "JSON",
        700 => "REAL",
        701 => "DOUBLE",
        1082 => "DATE",
        1083 => "TIME",
        1114 => "TIMESTAMP",
        1184 => "TIMESTAMPTZ",
        1186 => "INTERVAL",
        2950 => "UUID",
        1000 => "BOOLEAN[]",
        1005 => "SMALLINT[]",
        1007 => "INTEGER[]",
        1016 => "BIGINT[]",
        1009 or 1015 => "VARCHAR[]",
        1021 => "REAL[]",
        1022 => "DOUBLE[]",
        1182 => "DATE[]",
        1115 => "TIMESTAMP[]",
        1185 => "TIMESTAMPTZ[]",
        2951 => "UUID[]",

        // numeric without a typmod would become DECIMAL(18,3) and lose digits; DuckDB infers better.
        _ => null,
    };

    /// <summary>Adds a cast after every <c>$n</c> whose declared OID has a DuckDB type. Returns <paramref name="sql"/> itself when nothing applies.</summary>
    public static string Apply(string sql, ReadOnlySpan<int> declaredOids)
    {
        ArgumentNullException.ThrowIfNull(sql);
        bool any = false;
        foreach (int oid in declaredOids)
        {
            any |= TypeFor(oid) is not null;
        }

        if (!any)
        {
            return sql;
        }

        StringBuilder? result = null;
        int copied = 0;
        var lexer = new SqlLexer(sql);
        while (true)
        {
            SqlToken token = lexer.Next();
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }

            if (token.Kind != SqlTokenKind.Parameter
                || !int.TryParse(token.Text(sql).TrimStart('$'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
                || number < 1 || number > declaredOids.Length
                || TypeFor(declaredOids[number - 1]) is not { } type)
            {
                continue;
            }

            result ??= new StringBuilder(sql.Length + 32);
            result.Append(sql, copied, token.End - copied).Append("::").Append(type);
            copied = token.End;
        }

        return result is null ? sql : result.Append(sql, copied, sql.Length - copied).ToString();
    }
}
