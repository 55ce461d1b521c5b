using System.Data.SqlTypes;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Tests.Shared;
using static LakeOps.Edge.Engines.Tests.MySql.MySqlTestSupport;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>MySQL types decoded into Arrow, in the text protocol (ExecuteAsync) and the binary protocol (prepared statements).</summary>
public sealed class MySqlTypeTests : IAsyncLifetime
{
    private const string Columns = """
        id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, i INT, iu INT UNSIGNED,
        bi BIGINT, biu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec1 DECIMAL(10,2), dec2 DECIMAL(38,10), dec3 DECIMAL(65,30),
        c CHAR(5), vc VARCHAR(50), t TEXT, b BINARY(4), vb VARBINARY(10), bl BLOB, dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL,
        tm TIME(6), y YEAR, bit8 BIT(8), bit64 BIT(64), j JSON, e ENUM('a','b'), st SET('x','y')
        """;

    private const string Row1 = """
        (1, -128, 255, -32768, 65535, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
         1.5, -2.25, -12345678.91, 1234567890123456789012345678.0123456789, 12345678901234567890123456789012345.123456789012345678901234567890,
         'ab', 'héllo wörld ✓', 'long text', X'00FF10', X'DEADBEEF', X'0102', '2024-02-29', '1999-12-31 23:59:58.123456', '2038-01-19 03:14:07.999',
         '23:59:59.999999', 2155, b'10100101', b'1111111111111111111111111111111111111111111111111111111111111111', '{"a": [1, 2]}', 'b', 'x,y')
        """;

    private const string Row2 = """
        (2, 127, 0, 32767, 0, 8388607, 2147483647, 0, 9223372036854775807, 0,
         0, 0, 0.01, -0.0000000001, 0,
         '', '', '', X'', X'', X'', '1000-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:01',
         '00:00:00', 1901, b'0', b'0', '[]', 'a', '')
        """;

    private string _table = "";
    private MariaDbTestServer _server = null!;
    private MySqlEngine _engine = null!;
    private IEngineSession _session = null!;

    public async Task InitializeAsync()
    {
        _server = await MariaDbTestServer.GetAsync();
        _engine = new MySqlEngine(Cluster(_server));
        _session = await OpenAsync(_engine);
        _table = "types_" + Guid.NewGuid().ToString("N")[..8];
        await RowsAsync(_session, $"CREATE TABLE {_table} ({Columns})");
        await RowsAsync(_session, $"INSERT INTO {_table} VALUES {Row1}, {Row2}, (3{string.Concat(Enumerable.Repeat(", NULL", 30))})");
    }

    public async Task DisposeAsync()
    {
        await RowsAsync(_session, $"DROP TABLE IF EXISTS {_table}");
        await _session.DisposeAsync();
        await _engine.DisposeAsync();
    }

    [Fact]
    public async Task Columns_map_to_the_documented_arrow_types()
    {
        await using IQueryResult result = await _session.ExecuteAsync($"SELECT * FROM {_table} ORDER BY id", CancellationToken.None);
        Schema schema = result.Schema;
        void Is<T>(string name) => Assert.IsType<T>(schema.GetFieldByName(name).DataType);
        Is<Int8Type>("ti");
        Is<UInt8Type>("tiu");
        Is<Int16Type>("si");
        Is<UInt16Type>("siu");
        Is<Int32Type>("mi");
        Is<Int32Type>("i");
        Is<UInt32Type>("iu");
        Is<Int64Type>("bi");
        Is<UInt64Type>("biu");
        Is<FloatType>("f");
        Is<DoubleType>("d");
        Is<StringType>("c");
        Is<StringType>("vc");
        Is<StringType>("t");
        Is<BinaryType>("b");
        Is<BinaryType>("vb");
        Is<BinaryType>("bl");
        Is<Date32Type>("dt");
        Is<Time64Type>("tm");
        Is<Int16Type>("y");
        Is<Int64Type>("bit8");
        Is<StringType>("j");
        Is<StringType>("e");
        Is<StringType>("st");
        Is<StringType>("dec3"); // DECIMAL(65,30) is wider than Decimal128

        var dec1 = (Decimal128Type)schema.GetFieldByName("dec1").DataType;
        Assert.Equal((10, 2), (dec1.Precision, dec1.Scale));
        var dec2 = (Decimal128Type)schema.GetFieldByName("dec2").DataType;
        Assert.Equal((38, 10), (dec2.Precision, dec2.Scale));
        var dtm = (TimestampType)schema.GetFieldByName("dtm").DataType;
        Assert.Equal((TimeUnit.Microsecond, null), (dtm.Unit, dtm.Timezone));
        var ts = (TimestampType)schema.GetFieldByName("ts").DataType;
        Assert.Equal((TimeUnit.Microsecond, "UTC"), (ts.Unit, ts.Timezone));
        Assert.Equal("INT UNSIGNED", schema.GetFieldByName("iu").Metadata[ArrowConventions.EngineTypeKey]);
        Assert.Equal("DECIMAL(10,2)", schema.GetFieldByName("dec1").Metadata[ArrowConventions.EngineTypeKey]);
        await ReadAllAsync(result);
    }

    [Fact]
    public async Task Values_decode_to_what_was_stored()
    {
        List<object?[]> rows = await RowsAsync(_session, $"SELECT * FROM {_table} ORDER BY id");
        object?[] r = rows[0];
        Assert.Equal((sbyte)-128, r[1]);
        Assert.Equal((byte)255, r[2]);
        Assert.Equal((short)-32768, r[3]);
        Assert.Equal((ushort)65535, r[4]);
        Assert.Equal(-8388608, r[5]);
        Assert.Equal(int.MinValue, r[6]);
        Assert.Equal(uint.MaxValue, r[7]);
        Assert.Equal(long.MinValue, r[8]);
        Assert.Equal(ulong.MaxValue, r[9]);
        Assert.Equal(1.5f, r[10]);
        Assert.Equal(-2.25, r[11]);
        Assert.Equal(SqlDecimal.Parse("-12345678.91"), r[12]);
        Assert.Equal(SqlDecimal.Parse("1234567890123456789012345678.0123456789"), r[13]);
        Assert.Equal("12345678901234567890123456789012345.123456789012345678901234567890", r[14]);
        Assert.Equal("ab", r[15]);
        Assert.Equal("héllo wörld ✓", r[16]);
        Assert.Equal("long text", r[17]);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x10, 0x00 }, r[18]); // BINARY(4) pads with zero bytes
        Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, r[19]);
        Assert.Equal(new byte[] { 1, 2 }, r[20]);
        Assert.Equal(new DateOnly(2024, 2, 29), r[21]);
        Assert.Equal(new DateTimeOffset(1999, 12, 31, 23, 59, 58, TimeSpan.Zero).AddTicks(1234560), r[22]);
        Assert.Equal(new DateTimeOffset(2038, 1, 19, 3, 14, 7, 999, TimeSpan.Zero), r[23]);
        Assert.Equal(new TimeOnly(23, 59, 59, 999, 999), r[24]);
        Assert.Equal((short)2155, r[25]);
        Assert.Equal(0xA5L, r[26]);
        Assert.Equal(-1L, r[27]); // BIT(64) all ones: the bit pattern as Int64
        Assert.Equal("{\"a\": [1, 2]}", r[28]);
        Assert.Equal("b", r[29]);
        Assert.Equal("x,y", r[30]);

        object?[] r2 = rows[1];
        Assert.Equal(SqlDecimal.Parse("0.01"), r2[12]);
        Assert.Equal(SqlDecimal.Parse("-0.0000000001"), r2[13]);
        Assert.Equal("", r2[16]);
        Assert.Equal(System.Array.Empty<byte>(), r2[19]);
        Assert.Equal(new DateOnly(1000, 1, 1), r2[21]);
        Assert.Equal(DateTimeOffset.UnixEpoch, r2[22]);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(1), r2[23]);
        Assert.Equal(TimeOnly.MinValue, r2[24]);

        object?[] nulls = rows[2];
        Assert.Equal(3, nulls[0]);
        Assert.All(nulls.Skip(1), Assert.Null);
    }

    [Fact]
    public async Task Decoded_values_print_as_the_server_prints_them()
    {
        // The server's own text for each value (CAST AS CHAR, HEX for bytes) next to the decoded value.
        string[] printable = ["ti", "tiu", "si", "siu", "mi", "i", "iu", "bi", "biu", "dec1", "dec2", "c", "vc", "dt", "dtm", "tm", "y", "e", "st"];
        string select = string.Join(", ", printable.Select(c => $"{c}, CAST({c} AS CHAR)"));
        List<object?[]> rows = await RowsAsync(_session, $"SELECT {select}, HEX(vb), vb, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), ts FROM {_table} ORDER BY id");
        foreach (object?[] row in rows)
        {
            for (int c = 0; c < printable.Length; c++)
            {
                Assert.Equal((string?)row[(2 * c) + 1], Print(row[2 * c]));
            }

            int n = printable.Length * 2;
            Assert.Equal((string?)row[n], row[n + 1] is byte[] bytes ? Convert.ToHexString(bytes) : null);
            Assert.Equal((string?)row[n + 2], row[n + 3] is DateTimeOffset ts ? ts.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) : null);
        }
    }

    [Fact]
    public async Task The_binary_protocol_decodes_the_same_values_as_the_text_protocol()
    {
        List<object?[]> text = await RowsAsync(_session, $"SELECT * FROM {_table} ORDER BY id");
        using IPreparedStatement prepared = await _session.PrepareAsync($"SELECT * FROM {_table} WHERE id >= ? ORDER BY id", CancellationToken.None);
        Assert.Equal(31, prepared.ResultSchema.FieldsList.Count);
        await using IQueryResult result = await prepared.ExecuteAsync(new[] { ParameterValue.FromInt32(0) }, CancellationToken.None);
        List<object?[]> binary = await ReadAllAsync(result);
        Assert.Equal(text.Count, binary.Count);
        for (int r = 0; r < text.Count; r++)
        {
            for (int c = 0; c < text[r].Length; c++)
            {
                Assert.Equal(text[r][c], binary[r][c]);
            }
        }
    }

    [Fact]
    public async Task Expressions_without_a_table_decode()
    {
        List<object?[]> rows = await RowsAsync(_session, "SELECT 1, 2.50, 'x', NULL, 1e3, CAST('2001-02-03' AS DATE), CAST(1 AS UNSIGNED), X'41'");
        Assert.Equal(1, Convert.ToInt32(rows[0][0], CultureInfo.InvariantCulture));
        Assert.Equal(SqlDecimal.Parse("2.50"), rows[0][1]);
        Assert.Equal("x", rows[0][2]);
        Assert.Null(rows[0][3]);
        Assert.Equal(1000.0, rows[0][4]);
        Assert.Equal(new DateOnly(2001, 2, 3), rows[0][5]);
        Assert.Equal(1U, rows[0][6]); // MariaDB types CAST(1 AS UNSIGNED) as INT UNSIGNED
        Assert.Equal(new byte[] { 0x41 }, rows[0][7]);
    }

    [Fact]
    public async Task An_empty_result_has_its_schema_and_no_batches()
    {
        await using IQueryResult result = await _session.ExecuteAsync($"SELECT id, vc FROM {_table} WHERE id < 0", CancellationToken.None);
        Assert.True(result.ReturnsRows);
        Assert.Equal(["id", "vc"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.Null(await result.ReadBatchAsync(CancellationToken.None));
        Assert.Null(await result.ReadBatchAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Zero_dates_read_as_null()
    {
        List<object?[]> rows = await RowsAsync(_session, "SELECT CAST('0000-00-00' AS DATE), CAST('2020-00-00' AS DATETIME)");
        Assert.Null(rows[0][0]);
        Assert.Null(rows[0][1]);
    }

    [Fact]
    public async Task A_time_outside_one_day_fails_with_22008_and_the_session_goes_on()
    {
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await RowsAsync(_session, "SELECT CAST('25:00:00' AS TIME)"));
        Assert.Equal("22008", error.SqlState);
        Assert.Contains("CAST it AS CHAR", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, Convert.ToInt64(await ScalarAsync(_session, "SELECT 1"), CultureInfo.InvariantCulture));
    }

    private static string? Print(object? value) => value switch
    {
        null => null,
        SqlDecimal d => d.ToString(),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
