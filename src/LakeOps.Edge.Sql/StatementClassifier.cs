using System.Globalization;

namespace LakeOps.Edge.Sql;

/// <summary>
/// Classifies one statement (as returned by <see cref="SqlSplitter"/>) by its leading keywords and
/// gives the CommandComplete tag PostgreSQL would send. Allocation-free for the common statements.
/// </summary>
public static partial class StatementClassifier
{
    public static StatementInfo Classify(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        return Classify(sql.AsSpan());
    }

    public static StatementInfo Classify(ReadOnlySpan<char> sql)
    {
        var lexer = new SqlLexer(sql);
        SqlToken first = lexer.NextSignificant();
        // "(SELECT 1) UNION (SELECT 2)" is a SELECT.
        while (first.Kind == SqlTokenKind.OpenParen)
        {
            first = lexer.NextSignificant();
        }

        if (first.Kind == SqlTokenKind.End)
        {
            return new StatementInfo(StatementKind.Empty, "");
        }

        if (first.Kind != SqlTokenKind.Word)
        {
            return new StatementInfo(StatementKind.Other, "");
        }

        Span<char> buffer = stackalloc char[16];
        switch (Upper(first.Text(sql), buffer))
        {
            case "SELECT" or "TABLE" or "INSERT" or "UPDATE" or "DELETE" or "MERGE" or "VALUES":
                return DataStatement(Upper(first.Text(sql), buffer))!.Value;
            case "WITH":
                return ClassifyWith(ref lexer);
            case "BEGIN":
                return new StatementInfo(StatementKind.Begin, "BEGIN");
            case "START":
                return NextIs(ref lexer, "TRANSACTION") ? new StatementInfo(StatementKind.Begin, "START TRANSACTION") : Other(first.Text(sql));
            case "COMMIT" or "END":
                return NextIs(ref lexer, "PREPARED") ? new StatementInfo(StatementKind.Other, "COMMIT PREPARED") : new StatementInfo(StatementKind.Commit, "COMMIT");
            case "ROLLBACK" or "ABORT":
                return ClassifyRollback(ref lexer);
            case "SAVEPOINT":
                return new StatementInfo(StatementKind.Savepoint, "SAVEPOINT");
            case "RELEASE":
                return new StatementInfo(StatementKind.Release, "RELEASE");
            case "SET":
                return NextIs(ref lexer, "CONSTRAINTS") ? new StatementInfo(StatementKind.Set, "SET CONSTRAINTS") : new StatementInfo(StatementKind.Set, "SET");
            case "SHOW":
                return new StatementInfo(StatementKind.Show, "SHOW");
            case "RESET":
                return new StatementInfo(StatementKind.Reset, "RESET");
            case "DISCARD":
                return ClassifyDiscard(ref lexer);
            case "CREATE":
                return ClassifyCreate(ref lexer);
            case "DROP":
                return ClassifyDropOrAlter(ref lexer, StatementKind.Drop);
            case "ALTER":
                return ClassifyDropOrAlter(ref lexer, StatementKind.Alter);
            case "TRUNCATE":
                return new StatementInfo(StatementKind.Truncate, "TRUNCATE TABLE");
            case "COPY":
                return new StatementInfo(StatementKind.Copy, "COPY");
            case "EXPLAIN":
                return new StatementInfo(StatementKind.Explain, "EXPLAIN");
            case "PREPARE":
                return NextIs(ref lexer, "TRANSACTION") ? new StatementInfo(StatementKind.Other, "PREPARE TRANSACTION") : new StatementInfo(StatementKind.Prepare, "PREPARE");
            case "EXECUTE":
                return new StatementInfo(StatementKind.Execute, "EXECUTE");
            case "DEALLOCATE":
                _ = NextIs(ref lexer, "PREPARE");
                return NextIs(ref lexer, "ALL") ? new StatementInfo(StatementKind.Deallocate, "DEALLOCATE ALL") : new StatementInfo(StatementKind.Deallocate, "DEALLOCATE");
            case "LISTEN":
                return new StatementInfo(StatementKind.Listen, "LISTEN");
            case "NOTIFY":
                return new StatementInfo(StatementKind.Notify, "NOTIFY");
            case "UNLISTEN":
                return new StatementInfo(StatementKind.Unlisten, "UNLISTEN");
            case "DECLARE":
                return new StatementInfo(StatementKind.Declare, "DECLARE CURSOR");
            case "FETCH":
                return new StatementInfo(StatementKind.Fetch, "FETCH");
            case "MOVE":
                return new StatementInfo(StatementKind.Move, "MOVE");
            case "CLOSE":
                return NextIs(ref lexer, "ALL") ? new StatementInfo(StatementKind.Close, "CLOSE CURSOR ALL") : new StatementInfo(StatementKind.Close, "CLOSE CURSOR");
            case "GRANT":
                return new StatementInfo(StatementKind.Grant, "GRANT");
            case "REVOKE":
                return new StatementInfo(StatementKind.Revoke, "REVOKE");
            case "CALL":
                return new StatementInfo(StatementKind.Call, "CALL");
            case "DO":
                return new StatementInfo(StatementKind.Do, "DO");
            case "VACUUM":
                return new StatementInfo(StatementKind.Vacuum, "VACUUM");
            case "ANALYZE" or "ANALYSE":
                return new StatementInfo(StatementKind.Analyze, "ANALYZE");
            case "LOCK":
                return new StatementInfo(StatementKind.Other, "LOCK TABLE");
            case "COMMENT":
                return new StatementInfo(StatementKind.Other, "COMMENT");
            case "REFRESH":
                return new StatementInfo(StatementKind.Other, "REFRESH MATERIALIZED VIEW");
            case "SECURITY":
                return new StatementInfo(StatementKind.Other, "SECURITY LABEL");
            case "IMPORT":
                return NextIs(ref lexer, "FOREIGN") ? new StatementInfo(StatementKind.Other, "IMPORT FOREIGN SCHEMA") : new StatementInfo(StatementKind.Other, "IMPORT");
            case "REASSIGN":
                return new StatementInfo(StatementKind.Other, "REASSIGN OWNED");
            case "CHECKPOINT":
                return new StatementInfo(StatementKind.Other, "CHECKPOINT");
            case "CLUSTER":
                return new StatementInfo(StatementKind.Other, "CLUSTER");
            case "REINDEX":
                return new StatementInfo(StatementKind.Other, "REINDEX");
            case "LOAD":
                return new StatementInfo(StatementKind.Other, "LOAD");
            default:
                return Other(first.Text(sql));
        }
    }

    private static StatementInfo Other(ReadOnlySpan<char> word) => new(StatementKind.Other, word.ToString().ToUpperInvariant());

    /// <summary>WITH ... : the kind of the main statement after the common table expressions.</summary>
    /// <summary>Queries and DML, by their (upper-case) leading keyword; also what a WITH clause leads into.</summary>
    private static StatementInfo? DataStatement(ReadOnlySpan<char> keyword) => keyword switch
    {
        "SELECT" or "TABLE" => new StatementInfo(StatementKind.Select, "SELECT"),
        "VALUES" => new StatementInfo(StatementKind.Values, "SELECT"),
        "INSERT" => new StatementInfo(StatementKind.Insert, "INSERT"),
        "UPDATE" => new StatementInfo(StatementKind.Update, "UPDATE"),
        "DELETE" => new StatementInfo(StatementKind.Delete, "DELETE"),
        "MERGE" => new StatementInfo(StatementKind.Merge, "MERGE"),
        _ => null,
    };

    private static StatementInfo ClassifyWith(ref SqlLexer lexer)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        int depth = 0;
        Span<char> buffer = stackalloc char[16];
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            switch (token.Kind)
            {
                case SqlTokenKind.End or SqlTokenKind.Semicolon:
                    return new StatementInfo(StatementKind.With, "SELECT");
                case SqlTokenKind.OpenParen or SqlTokenKind.OpenBracket:
                    depth++;
                    break;
                case SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket:
                    depth--;
                    break;
                case SqlTokenKind.Word when depth == 0:
                    if (DataStatement(Upper(token.Text(sql), buffer)) is { } info)
                    {
                        return info;
                    }

                    break;
            }
        }
    }

    private static StatementInfo ClassifyRollback(ref SqlLexer lexer)
    {
        if (NextIs(ref lexer, "PREPARED"))
        {
            return new StatementInfo(StatementKind.Other, "ROLLBACK PREPARED");
        }

        _ = NextIs(ref lexer, "WORK") || NextIs(ref lexer, "TRANSACTION");
        return NextIs(ref lexer, "TO")
            ? new StatementInfo(StatementKind.RollbackToSavepoint, "ROLLBACK")
            : new StatementInfo(StatementKind.Rollback, "ROLLBACK");
    }

    private static StatementInfo ClassifyDiscard(ref SqlLexer lexer)
    {
        SqlToken what = lexer.NextSignificant();
        Span<char> buffer = stackalloc char[16];
        return Upper(what.Kind == SqlTokenKind.Word ? what.Text(lexer.Sql) : default, buffer) switch
        {
            "ALL" => new StatementInfo(StatementKind.Discard, "DISCARD ALL"),
            "PLANS" => new StatementInfo(StatementKind.Discard, "DISCARD PLANS"),
            "SEQUENCES" => new StatementInfo(StatementKind.Discard, "DISCARD SEQUENCES"),
            "TEMP" or "TEMPORARY" => new StatementInfo(StatementKind.Discard, "DISCARD TEMP"),
            _ => new StatementInfo(StatementKind.Discard, "DISCARD"),
        };
    }

    private static StatementInfo ClassifyCreate(ref SqlLexer lexer)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        Span<char> buffer = stackalloc char[24];
        SqlToken token = lexer.NextSignificant();
        // Modifiers before the object type.
        while (token.Kind == SqlTokenKind.Word)
        {
            ReadOnlySpan<char> word = Upper(token.Text(sql), buffer);
            if (word is "OR" or "REPLACE" or "TEMP" or "TEMPORARY" or "UNLOGGED" or "GLOBAL" or "LOCAL" or "UNIQUE"
                or "TRUSTED" or "PROCEDURAL" or "DEFAULT" or "RECURSIVE" or "CONSTRAINT" or "PERSISTENT")
            {
                token = lexer.NextSignificant();
                continue;
            }

            break;
        }

        string? objectName = ObjectName(ref lexer, token);
        if (objectName is null)
        {
            return new StatementInfo(StatementKind.Create, "CREATE");
        }

        // CREATE TABLE x AS ... and CREATE MATERIALIZED VIEW x AS ... report "SELECT n".
        if (objectName is "TABLE" or "MATERIALIZED VIEW" && HasTopLevelAs(ref lexer))
        {
            return new StatementInfo(StatementKind.CreateTableAs, "SELECT");
        }

        return new StatementInfo(StatementKind.Create, Tag(CreateTags, "CREATE ", objectName));
    }

    private static StatementInfo ClassifyDropOrAlter(ref SqlLexer lexer, StatementKind kind)
    {
        string verb = kind == StatementKind.Drop ? "DROP " : "ALTER ";
        SqlToken token = lexer.NextSignificant();
        string? objectName = ObjectName(ref lexer, token);
        if (objectName is null)
        {
            return new StatementInfo(kind, verb.TrimEnd());
        }

        return new StatementInfo(kind, Tag(kind == StatementKind.Drop ? DropTags : AlterTags, verb, objectName));
    }

    /// <summary>The object type after CREATE/DROP/ALTER, canonicalised ("MATERIALIZED VIEW", "ROLE" for USER).</summary>
    private static string? ObjectName(ref SqlLexer lexer, SqlToken token)
    {
        if (token.Kind != SqlTokenKind.Word)
        {
            return null;
        }

        ReadOnlySpan<char> sql = lexer.Sql;
        Span<char> buffer = stackalloc char[24];
        ReadOnlySpan<char> word = Upper(token.Text(sql), buffer);
        switch (word)
        {
            case "TABLE": return "TABLE";
            case "INDEX": return "INDEX";
            case "VIEW": return "VIEW";
            case "SCHEMA": return "SCHEMA";
            case "SEQUENCE": return "SEQUENCE";
            case "FUNCTION": return "FUNCTION";
            case "PROCEDURE": return "PROCEDURE";
            case "TYPE": return "TYPE";
            case "DATABASE": return "DATABASE";
            case "EXTENSION": return "EXTENSION";
            case "TRIGGER": return "TRIGGER";
            case "DOMAIN": return "DOMAIN";
            case "MACRO": return "MACRO";
            case "ROLE" or "USER" or "GROUP":
                // CREATE USER MAPPING is its own object.
                if (word is "USER" && NextIs(ref lexer, "MAPPING"))
                {
                    return "USER MAPPING";
                }

                return "ROLE";
            case "MATERIALIZED":
                return NextIs(ref lexer, "VIEW") ? "MATERIALIZED VIEW" : "MATERIALIZED";
            case "FOREIGN":
                if (NextIs(ref lexer, "TABLE"))
                {
                    return "FOREIGN TABLE";
                }

                return NextIs(ref lexer, "DATA") && NextIs(ref lexer, "WRAPPER") ? "FOREIGN DATA WRAPPER" : "FOREIGN";
            case "EVENT":
                return NextIs(ref lexer, "TRIGGER") ? "EVENT TRIGGER" : "EVENT";
            case "ACCESS":
                return NextIs(ref lexer, "METHOD") ? "ACCESS METHOD" : "ACCESS";
            case "DEFAULT":
                return NextIs(ref lexer, "PRIVILEGES") ? "DEFAULT PRIVILEGES" : "DEFAULT";
            case "TEXT":
                if (NextIs(ref lexer, "SEARCH"))
                {
                    SqlToken sub = lexer.NextSignificant();
                    return sub.Kind == SqlTokenKind.Word ? "TEXT SEARCH " + sub.Text(sql).ToString().ToUpperInvariant() : "TEXT SEARCH";
                }

                return "TEXT";
            case "OPERATOR":
                if (NextIs(ref lexer, "CLASS"))
                {
                    return "OPERATOR CLASS";
                }

                return NextIs(ref lexer, "FAMILY") ? "OPERATOR FAMILY" : "OPERATOR";
            default:
                return token.Text(sql).ToString().ToUpperInvariant();
        }
    }

    private static bool HasTopLevelAs(ref SqlLexer lexer)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        int depth = 0;
        while (true)
        {
            SqlToken token = lexer.NextSignificant();
            switch (token.Kind)
            {
                case SqlTokenKind.End or SqlTokenKind.Semicolon:
                    return false;
                case SqlTokenKind.OpenParen:
                    depth++;
                    break;
                case SqlTokenKind.CloseParen:
                    depth--;
                    break;
                case SqlTokenKind.Word when depth == 0 && token.Is(sql, "AS"):
                    return true;
            }
        }
    }

    private static readonly string[] CommonObjects =
    [
        "TABLE", "INDEX", "VIEW", "SCHEMA", "SEQUENCE", "FUNCTION", "PROCEDURE", "TYPE", "DATABASE", "EXTENSION",
        "TRIGGER", "DOMAIN", "MACRO", "ROLE", "MATERIALIZED VIEW", "FOREIGN TABLE", "USER MAPPING", "EVENT TRIGGER",
        "DEFAULT PRIVILEGES", "FOREIGN DATA WRAPPER", "SERVER", "POLICY", "PUBLICATION", "SUBSCRIPTION", "RULE",
        "AGGREGATE", "CAST", "COLLATION", "CONVERSION", "LANGUAGE", "OPERATOR", "STATISTICS", "TABLESPACE",
        "SECRET", "OWNED", "SYSTEM",
    ];

    private static readonly Dictionary<string, string> CreateTags = BuildTags("CREATE ");
    private static readonly Dictionary<string, string> DropTags = BuildTags("DROP ");
    private static readonly Dictionary<string, string> AlterTags = BuildTags("ALTER ");

    private static Dictionary<string, string> BuildTags(string verb)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in CommonObjects)
        {
            tags[name] = verb + name;
        }

        return tags;
    }

    private static string Tag(Dictionary<string, string> cache, string verb, string objectName) =>
        cache.TryGetValue(objectName, out string? tag) ? tag : verb + objectName;

    /// <summary>Consumes the next significant token when it is the word <paramref name="keyword"/>.</summary>
    private static bool NextIs(ref SqlLexer lexer, string keyword)
    {
        SqlLexer probe = lexer;
        SqlToken token = probe.NextSignificant();
        if (token.Is(lexer.Sql, keyword))
        {
            lexer = probe;
            return true;
        }

        return false;
    }

    /// <summary>ASCII upper case into <paramref name="buffer"/>; empty when the word does not fit (no keyword is that long).</summary>
    private static ReadOnlySpan<char> Upper(ReadOnlySpan<char> word, Span<char> buffer)
    {
        if (word.Length > buffer.Length)
        {
            return default;
        }

        int written = word.ToUpperInvariant(buffer);
        return written < 0 ? default : buffer[..written];
    }

    internal static string Lower(ReadOnlySpan<char> word) => word.ToString().ToLower(CultureInfo.InvariantCulture);
}
