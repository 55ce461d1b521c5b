using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Postgres.Catalog;

/// <summary>
/// Answers the catalog queries drivers send when they connect, from the types Edge actually sends
/// (<see cref="PgTypes.BuiltIns"/>), whatever the engine behind the session is. Npgsql opens every
/// connection with <c>SELECT version()</c> and three pg_type/pg_attribute/pg_enum queries; no engine
/// but PostgreSQL could answer them, and PostgreSQL's answer would list types Edge cannot send.
/// <para>
/// Recognition is narrow: the statement's significant tokens (comments and whitespace ignored, words
/// compared case-insensitively) must start with the driver's distinctive column list and mention the
/// catalog tables it reads. Anything else returns <c>null</c> after looking at two tokens, without allocating.
/// </para>
/// </summary>
public static class PgCatalogEmulator
{
    /// <summary>Field metadata key naming the PostgreSQL type oid a column should be described with ("26" for oid columns).</summary>
    public const string PgTypeOidKey = PgTypeMapper.PgTypeOidKey;

    // Npgsql's type-loading query (PostgresDatabaseInfo.GenerateLoadTypesQuery), identified by its select list.
    private static readonly string[] TypesPrefix = Tokens("SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid FROM (");
    private static readonly string[] TypesTables = ["pg_type", "pg_namespace"];

    // Npgsql's composite fields query.
    private static readonly string[] CompositePrefix = Tokens("SELECT typ.oid, att.attname, att.atttypid FROM pg_type AS typ");
    private static readonly string[] CompositeTables = ["pg_attribute", "pg_class"];

    // Npgsql's enum labels query (10.x, and the older "pg_type.oid" form).
    private static readonly string[] EnumPrefix = Tokens("SELECT typ.oid, enumlabel FROM pg_enum");
    private static readonly string[] OldEnumPrefix = Tokens("SELECT pg_type.oid, enumlabel FROM pg_enum");
    private static readonly string[] EnumTables = ["pg_type"];

    private static readonly Schema VersionSchema = new([new Field("version", StringType.Default, nullable: true)], null);

    private static readonly Schema TypesSchema = new(
    [
        new Field("nspname", StringType.Default, nullable: false),
        OidField("oid", nullable: false),
        new Field("typname", StringType.Default, nullable: false),
        new Field("typtype", StringType.Default, nullable: false),
        new Field("typnotnull", BooleanType.Default, nullable: false),
        OidField("elemtypoid", nullable: true),
    ], null);

    private static readonly Schema CompositeSchema = new(
    [
        OidField("oid", nullable: false),
        new Field("attname", StringType.Default, nullable: false),
        OidField("atttypid", nullable: false),
    ], null);

    private static readonly Schema EnumSchema = new(
    [
        OidField("oid", nullable: false),
        new Field("enumlabel", StringType.Default, nullable: false),
    ], null);

    /// <summary>The gateway's own answer to <paramref name="statement"/> (one statement), or null when the engine should answer.</summary>
    public static EmulatedResult? TryAnswer(string statement, PgEmulationContext context)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(context);
        var lexer = new SqlLexer(statement);
        if (!lexer.NextSignificant().Is(statement, "SELECT"))
        {
            return null;
        }

        SqlToken second = lexer.PeekSignificant();
        if (second.Is(statement, "version") || second.Is(statement, "pg_catalog"))
        {
            return IsVersionCall(ref lexer) ? Version(context) : null;
        }

        if (second.Is(statement, "ns"))
        {
            return Matches(statement, TypesPrefix, TypesTables) ? Types() : null;
        }

        if (second.Is(statement, "typ"))
        {
            if (Matches(statement, CompositePrefix, CompositeTables))
            {
                return Empty(CompositeSchema);
            }

            return Matches(statement, EnumPrefix, EnumTables) ? Empty(EnumSchema) : null;
        }

        if (second.Is(statement, "pg_type"))
        {
            return Matches(statement, OldEnumPrefix, EnumTables) ? Empty(EnumSchema) : null;
        }

        return null;
    }

    /// <summary>After SELECT: <c>[pg_catalog.]version()</c> and nothing else but a semicolon.</summary>
    private static bool IsVersionCall(ref SqlLexer lexer)
    {
        ReadOnlySpan<char> sql = lexer.Sql;
        SqlToken token = lexer.NextSignificant();
        if (token.Is(sql, "pg_catalog"))
        {
            if (lexer.NextSignificant().Kind != SqlTokenKind.Dot)
            {
                return false;
            }

            token = lexer.NextSignificant();
        }

        if (!token.Is(sql, "version") || lexer.NextSignificant().Kind != SqlTokenKind.OpenParen || lexer.NextSignificant().Kind != SqlTokenKind.CloseParen)
        {
            return false;
        }

        token = lexer.NextSignificant();
        if (token.Kind == SqlTokenKind.Semicolon)
        {
            token = lexer.NextSignificant();
        }

        return token.Kind == SqlTokenKind.End;
    }

    /// <summary>The statement starts with <paramref name="prefix"/> and later names every table in <paramref name="tables"/>.</summary>
    private static bool Matches(string sql, string[] prefix, string[] tables)
    {
        var lexer = new SqlLexer(sql);
        foreach (string expected in prefix)
        {
            SqlToken token = lexer.NextSignificant();
            if (!token.Text(sql).Equals(expected, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        int found = 0;
        Span<bool> seen = stackalloc bool[tables.Length];
        while (found < tables.Length)
        {
            SqlToken token = lexer.NextSignificant();
            if (token.Kind == SqlTokenKind.End)
            {
                return false;
            }

            for (int i = 0; i < tables.Length; i++)
            {
                if (!seen[i] && token.Is(sql, tables[i]))
                {
                    seen[i] = true;
                    found++;
                }
            }
        }

        return true;
    }

    private static EmulatedResult Version(PgEmulationContext context)
    {
        string version = string.Create(CultureInfo.InvariantCulture, $"PostgreSQL {context.ServerVersion} (LakeOps Edge, engine {context.EngineName})");
        var batch = new RecordBatch(VersionSchema, [new StringArray.Builder().Append(version).Build()], 1);
        return new EmulatedResult(VersionSchema, batch, "SELECT 1");
    }

    /// <summary>
    /// The types Edge sends, as Npgsql's query would return them from PostgreSQL: base and pseudo
    /// types first, then arrays (typtype 'a') with their element's oid.
    /// </summary>
    private static EmulatedResult Types()
    {
        var nspname = new StringArray.Builder();
        var oid = new UInt32Array.Builder();
        var typname = new StringArray.Builder();
        var typtype = new StringArray.Builder();
        var typnotnull = new BooleanArray.Builder();
        var elemtypoid = new UInt32Array.Builder();
        int rows = 0;
        foreach (bool arrays in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (PgTypeInfo type in PgTypes.BuiltIns)
            {
                if (type.IsArray != arrays)
                {
                    continue;
                }

                nspname.Append("pg_catalog");
                oid.Append((uint)type.Oid);
                typname.Append(type.Name);
                typtype.Append(TypType(type));
                typnotnull.Append(false);
                if (type.IsArray)
                {
                    elemtypoid.Append((uint)type.ElementOid);
                }
                else
                {
                    elemtypoid.AppendNull();
                }

                rows++;
            }
        }

        var batch = new RecordBatch(TypesSchema, [nspname.Build(), oid.Build(), typname.Build(), typtype.Build(), typnotnull.Build(), elemtypoid.Build()], rows);
        return new EmulatedResult(TypesSchema, batch, string.Create(CultureInfo.InvariantCulture, $"SELECT {rows}"));
    }

    /// <summary>pg_type.typtype as Npgsql's query reports it: 'a' for arrays, 'p' for pseudo-types, else 'b'.</summary>
    private static string TypType(PgTypeInfo type) => type.IsArray ? "a" : type.Category is 'P' or 'X' ? "p" : "b";

    private static EmulatedResult Empty(Schema schema) => new(schema, null, "SELECT 0");

    private static Field OidField(string name, bool nullable) =>
        new(name, UInt32Type.Default, nullable, [new KeyValuePair<string, string>(PgTypeOidKey, "26")]);

    /// <summary>The significant token texts of a pattern.</summary>
    private static string[] Tokens(string pattern)
    {
        var tokens = new List<string>();
        var lexer = new SqlLexer(pattern);
        for (SqlToken token = lexer.NextSignificant(); token.Kind != SqlTokenKind.End; token = lexer.NextSignificant())
        {
            tokens.Add(token.Text(pattern).ToString());
        }

        return [.. tokens];
    }
}
