using System.Globalization;
using System.Text;

namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>The three engines behind Edge; the group name is the database name clients connect to.</summary>
public enum MatrixEngine
{
    DuckDb,
    Postgres,
    MariaDb,
}

/// <summary>
/// The test data and the shared query set. Only the DDL and one binary value per engine are engine
/// specific; every INSERT and every query is the same text everywhere.
/// Column names avoid words one of the dialects reserves (MySQL: DEC; DuckDB: AT), hence
/// <c>amount</c> and <c>ts</c>. No value contains a tab or a newline: the mysql CLI's --raw batch
/// output separates fields and rows with them.
/// </summary>
public static class MatrixData
{
    public static string GroupOf(MatrixEngine engine) => engine switch
    {
        MatrixEngine.DuckDb => "duckdb",
        MatrixEngine.Postgres => "postgres",
        MatrixEngine.MariaDb => "mariadb",
        _ => throw new ArgumentOutOfRangeException(nameof(engine)),
    };

    public const string BinaryHex = "00017f80ff";

    /// <summary>Engine-specific setup: drop, native DDL, then the binary value that has no portable literal.</summary>
    public static IReadOnlyList<string> Setup(MatrixEngine engine) => engine switch
    {
        MatrixEngine.Postgres =>
        [
            "DROP TABLE IF EXISTS matrix_types",
            "DROP TABLE IF EXISTS matrix_numbers",
            "CREATE TABLE matrix_types (id integer, small smallint, big bigint, amount numeric(12,3), dbl double precision, flag boolean, "
                + "name varchar(40), note text, day date, ts timestamp(6), bin bytea)",
            "CREATE TABLE matrix_numbers (n integer)",
            .. PortableInserts,
            $"UPDATE matrix_types SET bin = decode('{BinaryHex}', 'hex') WHERE id = 1",
        ],
        MatrixEngine.MariaDb =>
        [
            "DROP TABLE IF EXISTS matrix_types",
            "DROP TABLE IF EXISTS matrix_numbers",
            "CREATE TABLE matrix_types (id int, small smallint, big bigint, amount decimal(12,3), dbl double, flag boolean, "
                + "name varchar(40), note text, day date, ts datetime(6), bin blob) DEFAULT CHARSET=utf8mb4",
            "CREATE TABLE matrix_numbers (n int)",
            .. PortableInserts,
            $"UPDATE matrix_types SET bin = UNHEX('{BinaryHex}') WHERE id = 1",
        ],
        MatrixEngine.DuckDb =>
        [
            "DROP TABLE IF EXISTS matrix_types",
            "DROP TABLE IF EXISTS matrix_numbers",
            "CREATE TABLE matrix_types (id INTEGER, small SMALLINT, big BIGINT, amount DECIMAL(12,3), dbl DOUBLE, flag BOOLEAN, "
                + "name VARCHAR(40), note TEXT, day DATE, ts TIMESTAMP, bin BLOB)",
            "CREATE TABLE matrix_numbers (n INTEGER)",
            .. PortableInserts,
            $"UPDATE matrix_types SET bin = unhex('{BinaryHex}') WHERE id = 1",
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(engine)),
    };

    /// <summary>
    /// Portable INSERTs. Strings use only '' escaping; a backslash comes from chr(92) (a backslash inside a
    /// literal means different things in MySQL and PostgreSQL). Bytes are ASCII text here (valid as bytea,
    /// BLOB and DuckDB BLOB input alike); the non-text bytes come from the per-engine UPDATE above.
    /// </summary>
    public static IReadOnlyList<string> PortableInserts { get; } = BuildInserts();

    private static List<string> BuildInserts()
    {
        const string Columns = "INSERT INTO matrix_types (id, small, big, amount, dbl, flag, name, note, day, ts, bin) VALUES ";
        var rows = new List<string>
        {
            // The smallest values each type allows (dates/timestamps: MariaDB's supported minimum).
            "(-2147483648, -32768, -9223372036854775808, -999999999.999, -1.7976931348623157e308, FALSE, 'min', 'smallest values', '1000-01-01', '1000-01-01 00:00:00', '')",

            // A typical row (bin replaced by 00 01 7f 80 ff per engine).
            "(1, 12, 1234567890123, 123.450, 3.141592653589793, TRUE, 'alpha', 'a typical row', '2024-02-29', '2024-02-29 13:45:56.123456', 'abc')",

            // Zeros and empty strings; the epoch.
            "(2, 0, 0, 0.000, 0, FALSE, '', '', '1970-01-01', '1970-01-01 00:00:00', 'x')",

            // Negative small values, unicode (2-, 3- and 4-byte UTF-8), a quote and a backslash, just before the epoch.
            "(3, -1, -1, -0.001, -2.5e-300, TRUE, 'héllo ✓', CONCAT('it''s a quote, a backslash ', chr(92), ' and 😀'), '1969-12-31', '1969-12-31 23:59:59.999999', 'xyz')",

            // Everything but the key is NULL.
            "(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",

            // Round-trip doubles and a sub-second timestamp with fewer than six digits.
            "(5, 7, 42, 0.100, 0.1, FALSE, 'beta', 'tenth', '2000-01-01', '2000-01-01 12:00:00.5', 'y')",

            // The largest values; a 40-character name and a 6000-character note (MySQL length prefix 0xFC).
            "(2147483647, 32767, 9223372036854775807, 999999999.999, 1.7976931348623157e308, TRUE, REPEAT('n', 40), REPEAT('ab', 3000), '9999-12-31', '9999-12-31 23:59:59.999999', 'max')",
        };
        var inserts = new List<string>(rows.Count + 1);
        foreach (string row in rows)
        {
            inserts.Add(Columns + row);
        }

        var numbers = new StringBuilder("INSERT INTO matrix_numbers (n) VALUES ");
        for (int n = 0; n < NumbersCount; n++)
        {
            numbers.Append(n == 0 ? "" : ",").Append('(').Append(n.ToString(CultureInfo.InvariantCulture)).Append(')');
        }

        inserts.Add(numbers.ToString());
        return inserts;
    }

    public const int NumbersCount = 1000;

    private static MatrixColumn C(string name, ColumnKind kind) => new(name, kind);

    /// <summary>The shared query set.</summary>
    public static IReadOnlyList<MatrixQuery> Queries { get; } =
    [
        new("all_rows",
            "SELECT id, small, big, amount, dbl, flag, name, note, day, ts, bin FROM matrix_types ORDER BY id",
            QueryShape.Rows,
            [C("id", ColumnKind.Int), C("small", ColumnKind.Int), C("big", ColumnKind.Int), C("amount", ColumnKind.Decimal),
             C("dbl", ColumnKind.Double), C("flag", ColumnKind.Bool), C("name", ColumnKind.Text), C("note", ColumnKind.Text),
             C("day", ColumnKind.Date), C("ts", ColumnKind.Timestamp), C("bin", ColumnKind.Bytes)]),

        // Arithmetic stays in range for the extremes (small + 100000 widens in DuckDB, which keeps SMALLINT * 2 a SMALLINT),
        // CONCAT gets no NULL argument (MySQL's CONCAT is NULL then, PostgreSQL's and DuckDB's skip it), and no division of integers.
        new("expressions",
            "SELECT id, small + 100000 AS widened, big - small AS diff, id + 0.5 AS half_up, amount * 2 AS twice, dbl / 2 AS halved, "
                + "CONCAT(COALESCE(name, '?'), '/', id) AS label, COALESCE(note, 'none') AS note_or, COALESCE(amount, 0.000) AS amount_or, "
                + "CASE WHEN flag THEN 'yes' WHEN NOT flag THEN 'no' ELSE 'unknown' END AS flag_word, small > 0 AS positive, "
                + "CHAR_LENGTH(name) AS chars FROM matrix_types ORDER BY id",
            QueryShape.Rows,
            [C("id", ColumnKind.Int), C("widened", ColumnKind.Int), C("diff", ColumnKind.Int), C("half_up", ColumnKind.Decimal),
             C("twice", ColumnKind.Decimal), C("halved", ColumnKind.Double), C("label", ColumnKind.Text), C("note_or", ColumnKind.Text),
             C("amount_or", ColumnKind.Decimal), C("flag_word", ColumnKind.Text), C("positive", ColumnKind.Bool), C("chars", ColumnKind.Int)]),

        new("aggregates",
            "SELECT COUNT(*) AS n, COUNT(name) AS named, SUM(small) AS total, MIN(day) AS first_day, MAX(ts) AS last_ts, "
                + "MIN(amount) AS low, MAX(dbl) AS high FROM matrix_types",
            QueryShape.Rows,
            [C("n", ColumnKind.Int), C("named", ColumnKind.Int), C("total", ColumnKind.Int), C("first_day", ColumnKind.Date),
             C("last_ts", ColumnKind.Timestamp), C("low", ColumnKind.Decimal), C("high", ColumnKind.Double)]),

        new("unicode_filter",
            "SELECT id, name FROM matrix_types WHERE name = 'héllo ✓' OR name LIKE 'al%' ORDER BY id",
            QueryShape.Rows,
            [C("id", ColumnKind.Int), C("name", ColumnKind.Text)]),

        new("empty_result",
            "SELECT id, name FROM matrix_types WHERE 1 = 0",
            QueryShape.Rows,
            [C("id", ColumnKind.Int), C("name", ColumnKind.Text)]),

        new("single_null",
            "SELECT NULL AS nothing",
            QueryShape.Rows,
            [C("nothing", ColumnKind.Text)]),

        new("unknown_table",
            "SELECT * FROM matrix_missing",
            QueryShape.Error,
            [],
            ErrorMentions: "matrix_missing"),

        new("large_result",
            "SELECT a.n * 1000 + b.n AS v FROM matrix_numbers a, matrix_numbers b WHERE b.n < 100",
            QueryShape.Large,
            [C("v", ColumnKind.Int)]),
    ];

    public static MatrixQuery Query(string name)
    {
        foreach (MatrixQuery query in Queries)
        {
            if (query.Name == name)
            {
                return query;
            }
        }

        throw new ArgumentException("no matrix query " + name, nameof(name));
    }
}
