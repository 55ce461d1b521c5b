using System.Buffers;
using System.Globalization;
using System.Text;

namespace LakeOps.Edge.Sql.Translation;

/// <summary>
/// Fills the gaps of DuckDB's built-in pg_catalog so that the catalog queries of psql
/// (<c>\l</c>, <c>\dt</c>, <c>\d</c>, <c>\d name</c>, <c>\dn</c>, <c>\dv</c>, <c>\di</c>, <c>\df</c>) and of drivers run,
/// after <see cref="PgToDuckDbTranslator"/> has dropped their <c>pg_catalog.</c> qualifiers.
/// <para>
/// Everything is a TEMP macro or TEMP view, so nothing is written into a user's database file and
/// the objects live exactly as long as the connection. DuckDB resolves unqualified names to the
/// temp schema before its own pg_catalog, so these objects shadow the built-in ones of the same
/// name (pg_class, pg_attribute, pg_type, pg_database, format_type, pg_get_expr, ...).
/// </para>
/// <para>
/// Types follow PostgreSQL's oids: <c>pg_attribute.atttypid</c> holds the oid of the PostgreSQL type the
/// gateway sends for the column (int4 23, text 25, numeric 1700, arrays their array oid, ...) and
/// <c>pg_type</c> lists those types, so <c>format_type</c> prints "integer", "text", "numeric(10,2)".
/// </para>
/// </summary>
public static class DuckDbPgCatalog
{
    /// <summary>Substrings that mark a statement as touching the catalog (so the script must be installed first).</summary>
    private static readonly SearchValues<string> Markers = SearchValues.Create(
        ["pg_", "information_schema", "regclass", "regtype", "regnamespace", "regproc", "regrole", "regoper",
         "regconfig", "regdictionary", "regcollation", "format_type", "array_upper", "array_lower", "lakeops_",
         "col_description", "obj_description"],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="sql"/> mentions catalog objects, so <see cref="InstallSql"/> should run before it.</summary>
    public static bool IsNeeded(ReadOnlySpan<char> sql) => sql.IndexOfAny(Markers) >= 0;

    /// <summary>
    /// The install script: CREATE OR REPLACE TEMP MACRO / TEMP VIEW statements separated by ";\n"
    /// (no ';' occurs inside a statement, so a naive split on ';' works too). Idempotent.
    /// </summary>
    public static string InstallSql => Script.Sql;

    /// <summary>The statements of <see cref="InstallSql"/>, for engines that run one statement per call.</summary>
    public static IReadOnlyList<string> InstallStatements => Script.Statements;

    /// <summary>Built on first use.</summary>
    private static class Script
    {
        public static readonly string[] Statements = BuildStatements();
        public static readonly string Sql = string.Join(";\n", Statements) + ";\n";
    }

    /// <summary>A PostgreSQL built-in type as the emulated pg_type lists it.</summary>
    private readonly record struct PgType(int Oid, string Name, string Display, int Length, bool ByValue, char Type, char Category, int Element, int Array, int Collation);

    /// <summary>The types the gateway sends (as in PgTypes.BuiltIns) plus timetz; one source for pg_type, format_type and the reg* lookups.</summary>
    private static readonly PgType[] Types =
    [
        new(16, "bool", "boolean", 1, true, 'b', 'B', 0, 1000, 0),
        new(17, "bytea", "bytea", -1, false, 'b', 'U', 0, 1001, 0),
        new(18, "char", "\"char\"", 1, true, 'b', 'Z', 0, 1002, 100),
        new(19, "name", "name", 64, false, 'b', 'S', 0, 1003, 950),
        new(20, "int8", "bigint", 8, true, 'b', 'N', 0, 1016, 0),
        new(21, "int2", "smallint", 2, true, 'b', 'N', 0, 1005, 0),
        new(23, "int4", "integer", 4, true, 'b', 'N', 0, 1007, 0),
        new(25, "text", "text", -1, false, 'b', 'S', 0, 1009, 100),
        new(26, "oid", "oid", 4, true, 'b', 'N', 0, 1028, 0),
        new(114, "json", "json", -1, false, 'b', 'U', 0, 199, 0),
        new(700, "float4", "real", 4, true, 'b', 'N', 0, 1021, 0),
        new(701, "float8", "double precision", 8, true, 'b', 'N', 0, 1022, 0),
        new(705, "unknown", "unknown", -2, false, 'p', 'X', 0, 0, 0),
        new(1043, "varchar", "character varying", -1, false, 'b', 'S', 0, 1015, 100),
        new(1082, "date", "date", 4, true, 'b', 'D', 0, 1182, 0),
        new(1083, "time", "time without time zone", 8, true, 'b', 'D', 0, 1183, 0),
        new(1114, "timestamp", "timestamp without time zone", 8, true, 'b', 'D', 0, 1115, 0),
        new(1184, "timestamptz", "timestamp with time zone", 8, true, 'b', 'D', 0, 1185, 0),
        new(1186, "interval", "interval", 16, false, 'b', 'T', 0, 1187, 0),
        new(1266, "timetz", "time with time zone", 12, false, 'b', 'D', 0, 1270, 0),
        new(1700, "numeric", "numeric", -1, false, 'b', 'N', 0, 1231, 0),
        new(2950, "uuid", "uuid", 16, false, 'b', 'U', 0, 2951, 0),
        new(3802, "jsonb", "jsonb", -1, false, 'b', 'U', 0, 3807, 0),
        new(2249, "record", "record", -1, false, 'p', 'P', 0, 2287, 0),
        new(2278, "void", "void", 4, true, 'p', 'P', 0, 0, 0),
        new(1000, "_bool", "boolean[]", -1, false, 'b', 'A', 16, 0, 0),
        new(1001, "_bytea", "bytea[]", -1, false, 'b', 'A', 17, 0, 0),
        new(1002, "_char", "\"char\"[]", -1, false, 'b', 'A', 18, 0, 100),
        new(1003, "_name", "name[]", -1, false, 'b', 'A', 19, 0, 950),
        new(1005, "_int2", "smallint[]", -1, false, 'b', 'A', 21, 0, 0),
        new(1007, "_int4", "integer[]", -1, false, 'b', 'A', 23, 0, 0),
        new(1009, "_text", "text[]", -1, false, 'b', 'A', 25, 0, 100),
        new(1016, "_int8", "bigint[]", -1, false, 'b', 'A', 20, 0, 0),
        new(1021, "_float4", "real[]", -1, false, 'b', 'A', 700, 0, 0),
        new(1022, "_float8", "double precision[]", -1, false, 'b', 'A', 701, 0, 0),
        new(1028, "_oid", "oid[]", -1, false, 'b', 'A', 26, 0, 0),
        new(1015, "_varchar", "character varying[]", -1, false, 'b', 'A', 1043, 0, 100),
        new(1115, "_timestamp", "timestamp without time zone[]", -1, false, 'b', 'A', 1114, 0, 0),
        new(1182, "_date", "date[]", -1, false, 'b', 'A', 1082, 0, 0),
        new(1183, "_time", "time without time zone[]", -1, false, 'b', 'A', 1083, 0, 0),
        new(1185, "_timestamptz", "timestamp with time zone[]", -1, false, 'b', 'A', 1184, 0, 0),
        new(1187, "_interval", "interval[]", -1, false, 'b', 'A', 1186, 0, 0),
        new(1270, "_timetz", "time with time zone[]", -1, false, 'b', 'A', 1266, 0, 0),
        new(1231, "_numeric", "numeric[]", -1, false, 'b', 'A', 1700, 0, 0),
        new(2951, "_uuid", "uuid[]", -1, false, 'b', 'A', 2950, 0, 0),
        new(199, "_json", "json[]", -1, false, 'b', 'A', 114, 0, 0),
        new(3807, "_jsonb", "jsonb[]", -1, false, 'b', 'A', 3802, 0, 0),
        new(2287, "_record", "record[]", -1, false, 'b', 'A', 2249, 0, 0),
    ];

    private static string[] BuildStatements() =>
    [
        // --- Small functions psql calls. ---
        "CREATE OR REPLACE TEMP MACRO pg_get_userbyid(role_oid) AS 'duckdb'",
        "CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(encoding) AS 'UTF8'",
        "CREATE OR REPLACE TEMP MACRO pg_get_expr(expr, relation) AS CAST(expr AS VARCHAR), (expr, relation, pretty) AS CAST(expr AS VARCHAR)",
        "CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(stat_oid) AS CAST(NULL AS VARCHAR)",
        "CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(relation) AS false",
        "CREATE OR REPLACE TEMP MACRO array_upper(arr, dim) AS CASE WHEN len(arr) > 0 THEN len(arr) END",
        "CREATE OR REPLACE TEMP MACRO array_lower(arr, dim) AS CASE WHEN len(arr) > 0 THEN 1 END",

        // --- Types. Constant MAPs rather than lookups into a VALUES view: far cheaper to create and bind. ---
        $$"""
        CREATE OR REPLACE TEMP VIEW pg_type AS SELECT
            CAST(oid AS BIGINT) AS oid, typname, CAST(11 AS BIGINT) AS typnamespace, CAST(10 AS BIGINT) AS typowner,
            CAST(typlen AS SMALLINT) AS typlen, typbyval, typtype, typcategory, false AS typispreferred, true AS typisdefined,
            ',' AS typdelim, CAST(0 AS BIGINT) AS typrelid, CAST(0 AS BIGINT) AS typsubscript, CAST(typelem AS BIGINT) AS typelem,
            CAST(typarray AS BIGINT) AS typarray,
            CAST(CASE WHEN typelem <> 0 THEN 750 ELSE 0 END AS BIGINT) AS typinput,
            CAST(CASE WHEN typelem <> 0 THEN 751 ELSE 0 END AS BIGINT) AS typoutput,
            CAST(CASE WHEN typelem <> 0 THEN 2400 ELSE 0 END AS BIGINT) AS typreceive,
            CAST(CASE WHEN typelem <> 0 THEN 2401 ELSE 0 END AS BIGINT) AS typsend,
            CAST(0 AS BIGINT) AS typmodin, CAST(0 AS BIGINT) AS typmodout, CAST(0 AS BIGINT) AS typanalyze,
            CASE WHEN typlen = 8 OR typlen = -1 THEN 'd' WHEN typlen = 4 THEN 'i' WHEN typlen = 2 THEN 's' ELSE 'c' END AS typalign,
            CASE WHEN typlen = -1 THEN 'x' ELSE 'p' END AS typstorage,
            false AS typnotnull, CAST(0 AS BIGINT) AS typbasetype, -1 AS typtypmod, 0 AS typndims,
            CAST(typcollation AS BIGINT) AS typcollation, CAST(NULL AS VARCHAR) AS typdefaultbin, CAST(NULL AS VARCHAR) AS typdefault,
            CAST(NULL AS VARCHAR[]) AS typacl
        FROM (VALUES {{TypeValues()}}) AS v(oid, typname, typlen, typbyval, typtype, typcategory, typelem, typarray, typcollation)
        """,
        // DuckDB type names (duckdb_columns().data_type) to the PostgreSQL type the gateway sends.
        """
        CREATE OR REPLACE TEMP MACRO lakeops_pg_scalar_oid(dt) AS CASE
            WHEN dt = 'BOOLEAN' THEN 16
            WHEN dt IN ('TINYINT', 'SMALLINT', 'UTINYINT') THEN 21
            WHEN dt IN ('INTEGER', 'USMALLINT') THEN 23
            WHEN dt IN ('BIGINT', 'UINTEGER') THEN 20
            WHEN dt IN ('HUGEINT', 'UBIGINT', 'UHUGEINT', 'BIGNUM', 'VARINT') OR dt LIKE 'DECIMAL%' THEN 1700
            WHEN dt = 'FLOAT' THEN 700
            WHEN dt = 'DOUBLE' THEN 701
            WHEN dt = 'BLOB' THEN 17
            WHEN dt = 'DATE' THEN 1082
            WHEN dt IN ('TIME', 'TIME_NS') THEN 1083
            WHEN dt = 'TIME WITH TIME ZONE' THEN 1266
            WHEN dt IN ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS') THEN 1114
            WHEN dt = 'TIMESTAMP WITH TIME ZONE' THEN 1184
            WHEN dt = 'INTERVAL' THEN 1186
            WHEN dt = 'UUID' THEN 2950
            WHEN dt = 'JSON' THEN 114
            ELSE 25 END
        """,
        // Lists and fixed-size arrays map to the array type of their element (text[] when unknown).
        // A MAP, not "CASE x WHEN", which DuckDB expands into one copy of x per branch.
        $$"""
        CREATE OR REPLACE TEMP MACRO lakeops_pg_type_oid(dt) AS CASE
            WHEN NOT regexp_matches(dt, '\[\d*\]$') THEN lakeops_pg_scalar_oid(dt)
            ELSE COALESCE({{ArrayOfMap()}}[lakeops_pg_scalar_oid(regexp_replace(dt, '\[\d*\]$', ''))], 1009) END
        """,
        // numeric(p,s) typmod as PostgreSQL encodes it: ((p << 16) | s) + 4.
        """
        CREATE OR REPLACE TEMP MACRO lakeops_pg_typmod(dt) AS CASE
            WHEN dt LIKE 'DECIMAL(%,%)'
                THEN ((CAST(regexp_extract(dt, '\((\d+),', 1) AS INTEGER) << 16) | CAST(regexp_extract(dt, ',(\d+)\)', 1) AS INTEGER)) + 4
            ELSE -1 END
        """,
        $$"""
        CREATE OR REPLACE TEMP MACRO format_type(type_oid, typemod) AS CASE
            WHEN type_oid IS NULL THEN NULL
            WHEN type_oid = 1700 AND typemod >= 4 THEN 'numeric(' || ((typemod - 4) >> 16) || ',' || ((typemod - 4) & 65535) || ')'
            WHEN type_oid = 1043 AND typemod >= 4 THEN 'character varying(' || (typemod - 4) || ')'
            ELSE COALESCE({{DisplayMap()}}[CAST(type_oid AS INTEGER)], '???') END
        """,

        // --- Relations. ---
        """
        CREATE OR REPLACE TEMP VIEW pg_namespace AS
        SELECT oid, nspname, CAST(10 AS BIGINT) AS nspowner, CAST(NULL AS VARCHAR[]) AS nspacl FROM pg_catalog.pg_namespace
        UNION ALL SELECT CAST(11 AS BIGINT), 'pg_catalog', CAST(10 AS BIGINT), CAST(NULL AS VARCHAR[])
        """,
        """
        CREATE OR REPLACE TEMP VIEW pg_class AS
        SELECT * REPLACE (CAST(relowner AS BIGINT) AS relowner, CAST(relam AS BIGINT) AS relam, CAST(reloftype AS BIGINT) AS reloftype,
                          CAST(reltablespace AS BIGINT) AS reltablespace, CAST(reltoastrelid AS BIGINT) AS reltoastrelid,
                          CAST(relnatts AS SMALLINT) AS relnatts, CAST(relchecks AS SMALLINT) AS relchecks,
                          CAST('d' AS VARCHAR) AS relreplident, CAST(NULL AS VARCHAR) AS relpartbound,
                          CAST(NULL AS VARCHAR[]) AS relacl, CAST(NULL AS VARCHAR[]) AS reloptions),
               false AS relforcerowsecurity
        FROM pg_catalog.pg_class
        """,
        """
        CREATE OR REPLACE TEMP VIEW pg_attribute AS
        SELECT table_oid AS attrelid, column_name AS attname, CAST(lakeops_pg_type_oid(data_type) AS BIGINT) AS atttypid,
            -1 AS attstattarget, CAST(-1 AS SMALLINT) AS attlen, CAST(column_index AS SMALLINT) AS attnum, 0 AS attndims,
            -1 AS attcacheoff, CAST(lakeops_pg_typmod(data_type) AS INTEGER) AS atttypmod, false AS attbyval,
            'p' AS attstorage, 'i' AS attalign, NOT is_nullable AS attnotnull, column_default IS NOT NULL AS atthasdef,
            false AS atthasmissing, '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal,
            0 AS attinhcount, CAST(CASE WHEN data_type = 'VARCHAR' THEN 100 ELSE 0 END AS BIGINT) AS attcollation,
            CAST(NULL AS VARCHAR) AS attcompression, CAST(NULL AS VARCHAR[]) AS attacl, CAST(NULL AS VARCHAR[]) AS attoptions,
            CAST(NULL AS VARCHAR[]) AS attfdwoptions, CAST(NULL AS VARCHAR) AS attmissingval
        FROM duckdb_columns()
        """,
        """
        CREATE OR REPLACE TEMP VIEW pg_constraint AS
        SELECT table_oid * 1000000 + constraint_index AS oid, constraint_name AS conname, schema_oid AS connamespace,
            CASE constraint_type WHEN 'CHECK' THEN 'c' WHEN 'UNIQUE' THEN 'u' WHEN 'PRIMARY KEY' THEN 'p' WHEN 'FOREIGN KEY' THEN 'f' ELSE 'x' END AS contype,
            false AS condeferrable, false AS condeferred, true AS convalidated, table_oid AS conrelid, CAST(0 AS BIGINT) AS contypid,
            CAST(0 AS BIGINT) AS conindid, CAST(0 AS BIGINT) AS conparentid, CAST(0 AS BIGINT) AS confrelid,
            ' ' AS confupdtype, ' ' AS confdeltype, ' ' AS confmatchtype, true AS conislocal, 0 AS coninhcount, false AS connoinherit,
            CAST(constraint_column_indexes AS SMALLINT[]) AS conkey, CAST(NULL AS SMALLINT[]) AS confkey, expression AS conbin
        FROM duckdb_constraints() WHERE constraint_type <> 'NOT NULL'
        """,
        """
        CREATE OR REPLACE TEMP MACRO pg_get_constraintdef(con) AS
            (SELECT dc.constraint_text FROM duckdb_constraints() dc WHERE dc.table_oid = con // 1000000 AND dc.constraint_index = con % 1000000),
            (con, pretty) AS
            (SELECT dc.constraint_text FROM duckdb_constraints() dc WHERE dc.table_oid = con // 1000000 AND dc.constraint_index = con % 1000000)
        """,
        // "CREATE INDEX i ON t(b);" becomes "CREATE INDEX i ON t USING art (b)": psql prints what follows " USING ".
        """
        CREATE OR REPLACE TEMP MACRO pg_get_indexdef(idx) AS
            (SELECT regexp_replace(rtrim(di.sql, chr(59)), '^(.*? ON [^(]+?)\s*\(', '\1 USING art (') FROM duckdb_indexes() di WHERE di.index_oid = idx),
            (idx, column_no, pretty) AS
            (SELECT regexp_replace(rtrim(di.sql, chr(59)), '^(.*? ON [^(]+?)\s*\(', '\1 USING art (') FROM duckdb_indexes() di WHERE di.index_oid = idx)
        """,
        """
        CREATE OR REPLACE TEMP VIEW pg_database AS
        SELECT database_oid AS oid, database_name AS datname, CAST(10 AS BIGINT) AS datdba, 6 AS encoding, 'c' AS datlocprovider,
            false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, CAST(0 AS BIGINT) AS datfrozenxid, CAST(0 AS BIGINT) AS datminmxid,
            CAST(1663 AS BIGINT) AS dattablespace, 'C.UTF-8' AS datcollate, 'C.UTF-8' AS datctype, CAST(NULL AS VARCHAR) AS daticulocale,
            CAST(NULL AS VARCHAR) AS datcollversion, CAST(NULL AS VARCHAR[]) AS datacl
        FROM duckdb_databases() WHERE NOT internal
        """,
        """
        CREATE OR REPLACE TEMP VIEW pg_roles AS
        SELECT CAST(10 AS BIGINT) AS oid, 'duckdb' AS rolname, true AS rolsuper, true AS rolinherit, true AS rolcreaterole,
            true AS rolcreatedb, true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword,
            CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS rolvaliduntil, true AS rolbypassrls, CAST(NULL AS VARCHAR[]) AS rolconfig
        """,

        // --- Catalogs DuckDB has no counterpart for: empty, with the columns and types psql reads. ---
        "CREATE OR REPLACE TEMP VIEW pg_policy AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS VARCHAR) AS polname, CAST(NULL AS BIGINT) AS polrelid, CAST(NULL AS VARCHAR) AS polcmd, CAST(NULL AS BOOLEAN) AS polpermissive, CAST(NULL AS BIGINT[]) AS polroles, CAST(NULL AS VARCHAR) AS polqual, CAST(NULL AS VARCHAR) AS polwithcheck WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_statistic_ext AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS stxrelid, CAST(NULL AS VARCHAR) AS stxname, CAST(NULL AS BIGINT) AS stxnamespace, CAST(NULL AS BIGINT) AS stxowner, CAST(NULL AS INTEGER) AS stxstattarget, CAST(NULL AS SMALLINT[]) AS stxkeys, CAST(NULL AS VARCHAR[]) AS stxkind, CAST(NULL AS VARCHAR) AS stxexprs WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_publication AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS VARCHAR) AS pubname, CAST(NULL AS BIGINT) AS pubowner, CAST(NULL AS BOOLEAN) AS puballtables, CAST(NULL AS BOOLEAN) AS pubinsert, CAST(NULL AS BOOLEAN) AS pubupdate, CAST(NULL AS BOOLEAN) AS pubdelete, CAST(NULL AS BOOLEAN) AS pubtruncate, CAST(NULL AS BOOLEAN) AS pubviaroot WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_publication_namespace AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS pnpubid, CAST(NULL AS BIGINT) AS pnnspid WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_publication_rel AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS prpubid, CAST(NULL AS BIGINT) AS prrelid, CAST(NULL AS VARCHAR) AS prqual, CAST(NULL AS SMALLINT[]) AS prattrs WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_inherits AS SELECT CAST(NULL AS BIGINT) AS inhrelid, CAST(NULL AS BIGINT) AS inhparent, CAST(NULL AS INTEGER) AS inhseqno, CAST(NULL AS BOOLEAN) AS inhdetachpending WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_trigger AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS tgrelid, CAST(NULL AS BIGINT) AS tgparentid, CAST(NULL AS VARCHAR) AS tgname, CAST(NULL AS BIGINT) AS tgfoid, CAST(NULL AS SMALLINT) AS tgtype, CAST(NULL AS VARCHAR) AS tgenabled, CAST(NULL AS BOOLEAN) AS tgisinternal, CAST(NULL AS BIGINT) AS tgconstrrelid, CAST(NULL AS BIGINT) AS tgconstrindid, CAST(NULL AS BIGINT) AS tgconstraint, CAST(NULL AS BOOLEAN) AS tgdeferrable, CAST(NULL AS BOOLEAN) AS tginitdeferred, CAST(NULL AS SMALLINT) AS tgnargs WHERE false",
        "CREATE OR REPLACE TEMP VIEW pg_rewrite AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS VARCHAR) AS rulename, CAST(NULL AS BIGINT) AS ev_class, CAST(NULL AS VARCHAR) AS ev_type, CAST(NULL AS VARCHAR) AS ev_enabled, CAST(NULL AS BOOLEAN) AS is_instead, CAST(NULL AS VARCHAR) AS ev_qual, CAST(NULL AS VARCHAR) AS ev_action WHERE false",

        // --- \du, \dx, and the sizes of \l+ / \dt+ / \d+ (unknown: NULL, which psql prints as empty). ---
        "CREATE OR REPLACE TEMP VIEW pg_auth_members AS SELECT CAST(NULL AS BIGINT) AS oid, CAST(NULL AS BIGINT) AS roleid, CAST(NULL AS BIGINT) AS member, CAST(NULL AS BIGINT) AS grantor, CAST(NULL AS BOOLEAN) AS admin_option WHERE false",
        """
        CREATE OR REPLACE TEMP VIEW pg_extension AS
        SELECT CAST(row_number() OVER (ORDER BY extension_name) AS BIGINT) + 16000000 AS oid, extension_name AS extname, CAST(10 AS BIGINT) AS extowner,
            CAST(11 AS BIGINT) AS extnamespace, false AS extrelocatable, extension_version AS extversion,
            CAST(NULL AS BIGINT[]) AS extconfig, CAST(NULL AS VARCHAR[]) AS extcondition
        FROM duckdb_extensions() WHERE loaded
        """,
        "CREATE OR REPLACE TEMP MACRO pg_table_size(relation) AS CAST(NULL AS BIGINT)",
        "CREATE OR REPLACE TEMP MACRO pg_total_relation_size(relation) AS CAST(NULL AS BIGINT)",
        "CREATE OR REPLACE TEMP MACRO pg_relation_size(relation) AS CAST(NULL AS BIGINT), (relation, fork) AS CAST(NULL AS BIGINT)",
        "CREATE OR REPLACE TEMP MACRO pg_database_size(db) AS CAST(NULL AS BIGINT)",

        // --- \df ---
        "CREATE OR REPLACE TEMP MACRO pg_get_function_result(fn) AS (SELECT any_value(df.return_type) FROM duckdb_functions() df WHERE df.function_oid = fn)",
        "CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(fn) AS (SELECT any_value(array_to_string(df.parameters, ', ')) FROM duckdb_functions() df WHERE df.function_oid = fn)",

        // --- Casts to reg* types (see PgToDuckDbTranslator): an oid from an oid or a (qualified) name, and back.
        // PostgreSQL's default schema "public" is DuckDB's "main". ---
        // Relations by name, without pg_class's many columns (cheaper to bind).
        """
        CREATE OR REPLACE TEMP VIEW lakeops_relations AS
        SELECT table_oid AS oid, table_name AS relname, schema_name AS nspname, database_name = current_database() AS here FROM duckdb_tables()
        UNION ALL SELECT view_oid, view_name, schema_name, database_name = current_database() FROM duckdb_views() WHERE NOT internal
        UNION ALL SELECT index_oid, index_name, schema_name, database_name = current_database() FROM duckdb_indexes()
        UNION ALL SELECT sequence_oid, sequence_name, schema_name, database_name = current_database() FROM duckdb_sequences()
        """,
        """
        CREATE OR REPLACE TEMP MACRO lakeops_regclass(x) AS COALESCE(TRY_CAST(x AS BIGINT), (
            SELECT r.oid FROM lakeops_relations r
            WHERE lower(r.relname) = lower(trim(split_part(CAST(x AS VARCHAR), '.', -1), '"'))
              AND (strpos(CAST(x AS VARCHAR), '.') = 0 OR lower(r.nspname) IN (lower(trim(split_part(CAST(x AS VARCHAR), '.', 1), '"')),
                  CASE WHEN lower(trim(split_part(CAST(x AS VARCHAR), '.', 1), '"')) = 'public' THEN 'main' END))
            ORDER BY r.here DESC, r.oid LIMIT 1))
        """,
        """
        CREATE OR REPLACE TEMP MACRO lakeops_regclass_name(x) AS COALESCE((
            SELECT r.relname FROM lakeops_relations r
            WHERE r.oid = TRY_CAST(x AS BIGINT) OR (TRY_CAST(x AS BIGINT) IS NULL AND lower(r.relname) = lower(trim(split_part(CAST(x AS VARCHAR), '.', -1), '"')))
            ORDER BY r.here DESC LIMIT 1), CAST(x AS VARCHAR))
        """,
        $$"""
        CREATE OR REPLACE TEMP MACRO lakeops_regtype(x) AS COALESCE(TRY_CAST(x AS BIGINT),
            {{NameMap()}}[lower(trim(replace(CAST(x AS VARCHAR), 'pg_catalog.', ''), '"'))])
        """,
        "CREATE OR REPLACE TEMP MACRO lakeops_regtype_name(x) AS COALESCE(format_type(lakeops_regtype(x), NULL), CAST(x AS VARCHAR))",
        "CREATE OR REPLACE TEMP MACRO lakeops_regnamespace(x) AS COALESCE(TRY_CAST(x AS BIGINT), (SELECT n.oid FROM pg_namespace n WHERE lower(n.nspname) IN (lower(trim(CAST(x AS VARCHAR), '\"')), CASE WHEN lower(trim(CAST(x AS VARCHAR), '\"')) = 'public' THEN 'main' END) LIMIT 1))",
        "CREATE OR REPLACE TEMP MACRO lakeops_regnamespace_name(x) AS COALESCE((SELECT n.nspname FROM pg_namespace n WHERE n.oid = TRY_CAST(x AS BIGINT) LIMIT 1), CAST(x AS VARCHAR))",
        // array_in/out/recv/send keep PostgreSQL's oids so pg_type.typinput = 'array_in'::regproc finds arrays.
        """
        CREATE OR REPLACE TEMP MACRO lakeops_regproc(x) AS COALESCE(TRY_CAST(x AS BIGINT),
            CASE lower(split_part(replace(CAST(x AS VARCHAR), 'pg_catalog.', ''), '(', 1))
                WHEN 'array_in' THEN 750 WHEN 'array_out' THEN 751 WHEN 'array_recv' THEN 2400 WHEN 'array_send' THEN 2401 END,
            (SELECT any_value(df.function_oid) FROM duckdb_functions() df WHERE df.function_name = lower(split_part(replace(CAST(x AS VARCHAR), 'pg_catalog.', ''), '(', 1))))
        """,
        """
        CREATE OR REPLACE TEMP MACRO lakeops_regproc_name(x) AS CASE TRY_CAST(x AS BIGINT)
            WHEN 750 THEN 'array_in' WHEN 751 THEN 'array_out' WHEN 2400 THEN 'array_recv' WHEN 2401 THEN 'array_send'
            ELSE COALESCE((SELECT any_value(df.function_name) FROM duckdb_functions() df WHERE df.function_oid = TRY_CAST(x AS BIGINT)), CAST(x AS VARCHAR)) END
        """,
        // The only role is the DuckDB user (oid 10, as PostgreSQL's bootstrap superuser).
        "CREATE OR REPLACE TEMP MACRO lakeops_regrole(x) AS COALESCE(TRY_CAST(x AS BIGINT), CASE WHEN CAST(x AS VARCHAR) = 'duckdb' THEN 10 END)",
        "CREATE OR REPLACE TEMP MACRO lakeops_regrole_name(x) AS CASE WHEN TRY_CAST(x AS BIGINT) = 10 THEN 'duckdb' ELSE CAST(x AS VARCHAR) END",
    ];

    private static string TypeValues()
    {
        var values = new StringBuilder();
        foreach (PgType t in Types)
        {
            values.Append(values.Length == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture,
                $"({t.Oid}, '{t.Name}', {t.Length}, {(t.ByValue ? "true" : "false")}, '{t.Type}', '{t.Category}', {t.Element}, {t.Array}, {t.Collation})");
        }

        return values.ToString();
    }

    /// <summary>MAP {element oid: array oid}.</summary>
    private static string ArrayOfMap()
    {
        var map = new StringBuilder("MAP {");
        foreach (PgType t in Types)
        {
            if (t.Array != 0 && t.Element == 0)
            {
                map.Append(map.Length == 5 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"{t.Oid}: {t.Array}");
            }
        }

        return map.Append('}').ToString();
    }

    /// <summary>MAP {oid: format_type name}.</summary>
    private static string DisplayMap()
    {
        var map = new StringBuilder("MAP {");
        foreach (PgType t in Types)
        {
            map.Append(map.Length == 5 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"{t.Oid}: '{t.Display}'");
        }

        return map.Append('}').ToString();
    }

    /// <summary>MAP {typname or format_type name: oid}, for 'integer'::regtype and 'int4'::regtype alike.</summary>
    private static string NameMap()
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (PgType t in Types)
        {
            names.TryAdd(t.Name, t.Oid);
            names.TryAdd(t.Display.Replace("\"", "", StringComparison.Ordinal), t.Oid);
        }

        var map = new StringBuilder("MAP {");
        foreach (KeyValuePair<string, int> entry in names)
        {
            map.Append(map.Length == 5 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"'{entry.Key}': {entry.Value}");
        }

        return map.Append('}').ToString();
    }
}
