using System.Diagnostics;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Telemetry.Audit;

namespace LakeOps.Edge.Telemetry.Tests;

public sealed class AuditLogTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("edge-audit-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string FilePath => Path.Combine(_directory, "audit.jsonl");

    private AuditConfig Config(bool includeSql = false, int maxSqlLength = AuditConfig.DefaultMaxSqlLength, int bufferSize = 1024) =>
        new() { Enabled = true, Path = FilePath, IncludeSql = includeSql, MaxSqlLength = maxSqlLength, BufferSize = bufferSize };

    private static AuditRecord Sample(string? sql = null, AuditOutcome outcome = AuditOutcome.Ok, string? sqlState = null, long queryId = 7)
    {
        long start = Stopwatch.GetTimestamp();
        return new AuditRecord
        {
            QueryId = queryId,
            StartTimestamp = start,

            // 2.5 ms later, in Stopwatch ticks.
            EndTimestamp = start + (Stopwatch.Frequency * 25 / 10_000),
            Protocol = "postgres",
            Listener = "pg",
            User = "alice",
            Database = "sales",
            Application = "psql",
            ClientAddress = "127.0.0.1:50000",
            Group = "olap",
            Cluster = "duck1",
            Rule = "reports",
            Reason = "rule 'reports': group 'olap'",
            Fingerprint = 0x00ab_cdef_0123_4567UL,
            StatementKind = "select",
            Rows = 42,
            Outcome = outcome,
            SqlState = sqlState,
            Sql = sql,
        };
    }

    private string[] Lines() => File.Exists(FilePath) ? File.ReadAllLines(FilePath) : [];

    [Fact]
    public void A_record_is_one_json_line_with_every_field()
    {
        AuditRecord record = Sample(sql: "SELECT secret FROM t");
        using (var log = new AuditLog(Config()))
        {
            Assert.True(log.TryWrite(record));
            Assert.True(log.Flush(Wait));
            Assert.Equal(1, log.Written);
        }

        string line = Assert.Single(Lines());
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        Assert.Equal(7, root.GetProperty("query_id").GetInt64());
        DateTime start = root.GetProperty("start_time").GetDateTime();
        Assert.Equal(DateTimeKind.Utc, start.Kind);
        Assert.True(Math.Abs((DateTime.UtcNow - start).TotalMinutes) < 1, $"start_time {start:O} is not about now");
        Assert.Equal("postgres", root.GetProperty("protocol").GetString());
        Assert.Equal("pg", root.GetProperty("listener").GetString());
        Assert.Equal("alice", root.GetProperty("user").GetString());
        Assert.Equal("sales", root.GetProperty("database").GetString());
        Assert.Equal("psql", root.GetProperty("application").GetString());
        Assert.Equal("127.0.0.1:50000", root.GetProperty("client_address").GetString());
        Assert.Equal("olap", root.GetProperty("group").GetString());
        Assert.Equal("duck1", root.GetProperty("cluster").GetString());
        Assert.Equal("reports", root.GetProperty("rule").GetString());
        Assert.Equal("rule 'reports': group 'olap'", root.GetProperty("reason").GetString());
        Assert.Equal("00abcdef01234567", root.GetProperty("fingerprint").GetString());
        Assert.Equal("select", root.GetProperty("statement_kind").GetString());
        Assert.Equal(2500, root.GetProperty("duration_us").GetInt64());
        Assert.Equal(42, root.GetProperty("rows").GetInt64());
        Assert.Equal("ok", root.GetProperty("outcome").GetString());

        // Not ok: no sqlstate. include_sql is off: the text stays out.
        Assert.False(root.TryGetProperty("sqlstate", out _));
        Assert.False(root.TryGetProperty("sql", out _));
        Assert.DoesNotContain("secret", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_and_denied_records_carry_their_sqlstate_and_nulls_stay_null()
    {
        using (var log = new AuditLog(Config()))
        {
            Assert.True(log.TryWrite(Sample(outcome: AuditOutcome.Error, sqlState: "42P01")));
            Assert.True(log.TryWrite(Sample(outcome: AuditOutcome.Denied, sqlState: "42501") with { Group = null, Cluster = null }));
            Assert.True(log.TryWrite(Sample(outcome: AuditOutcome.Cancelled, sqlState: "57014")));
            Assert.True(log.Flush(Wait));
        }

        string[] lines = Lines();
        Assert.Equal(3, lines.Length);
        using JsonDocument error = JsonDocument.Parse(lines[0]);
        Assert.Equal("error", error.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("42P01", error.RootElement.GetProperty("sqlstate").GetString());
        using JsonDocument denied = JsonDocument.Parse(lines[1]);
        Assert.Equal("denied", denied.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("42501", denied.RootElement.GetProperty("sqlstate").GetString());
        Assert.Equal(JsonValueKind.Null, denied.RootElement.GetProperty("group").ValueKind);
        Assert.Equal(JsonValueKind.Null, denied.RootElement.GetProperty("cluster").ValueKind);
        using JsonDocument cancelled = JsonDocument.Parse(lines[2]);
        Assert.Equal("cancelled", cancelled.RootElement.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("SELECT 'it''s' AS \"quoted \"\"name\"\"\"")]
    [InlineData("SELECT 1\n-- comment\r\nFROM t\twhere x = '\\'")]
    [InlineData("SELECT 'héllo wörld', '日本語', '🦆 duck'")]
    [InlineData("SELECT '\u0001\u001f\u007f' /* control characters */")]
    [InlineData("SELECT '</script><script>alert(1)</script>' & '+'")]
    public void Odd_sql_survives_the_round_trip(string sql)
    {
        using (var log = new AuditLog(Config(includeSql: true)))
        {
            Assert.True(log.TryWrite(Sample(sql: sql)));
            Assert.True(log.Flush(Wait));
        }

        string line = Assert.Single(Lines());
        using JsonDocument document = JsonDocument.Parse(line);
        Assert.Equal(sql, document.RootElement.GetProperty("sql").GetString());
    }

    [Fact]
    public void Sql_is_cut_to_max_sql_length_without_splitting_a_surrogate_pair()
    {
        using (var log = new AuditLog(Config(includeSql: true, maxSqlLength: 10)))
        {
            Assert.True(log.TryWrite(Sample(sql: "SELECT 1234567890")));

            // "SELECT '" is 8 chars, then the duck is a surrogate pair at 8..9, and 10 cuts after it; 9 would cut inside.
            Assert.True(log.TryWrite(Sample(sql: "SELECT '🦆'")));
            Assert.True(log.TryWrite(Sample(sql: "SELECT  '🦆'")));
            Assert.True(log.Flush(Wait));
        }

        string[] lines = Lines();
        Assert.Equal(3, lines.Length);
        Assert.Equal("SELECT 123", Sql(lines[0]));
        Assert.Equal("SELECT '🦆", Sql(lines[1]));
        Assert.Equal("SELECT  '", Sql(lines[2]));

        static string? Sql(string line)
        {
            using JsonDocument document = JsonDocument.Parse(line);
            return document.RootElement.GetProperty("sql").GetString();
        }
    }

    [Fact]
    public void A_full_queue_drops_and_counts_and_warns_once()
    {
        var output = new StringWriter();
        TextWriter previous = Log.Output;
        Log.Output = TextWriter.Synchronized(output);
        try
        {
            using (var log = new AuditLog(Config(bufferSize: 16), startWriter: false))
            {
                int accepted = 0;
                for (int i = 0; i < 20; i++)
                {
                    accepted += log.TryWrite(Sample(queryId: i)) ? 1 : 0;
                }

                Assert.Equal(16, accepted);
                Assert.Equal(4, log.Dropped);

                log.StartWriter();
                Assert.True(log.Flush(Wait));
                Assert.Equal(16, log.Written);

                // Room again once the writer drained the queue.
                Assert.True(log.TryWrite(Sample(queryId: 100)));
                Assert.True(log.Flush(Wait));
            }

            string[] lines = Lines();
            Assert.Equal(17, lines.Length);
            using (JsonDocument first = JsonDocument.Parse(lines[0]))
            {
                Assert.Equal(0, first.RootElement.GetProperty("query_id").GetInt64());
            }

            string logged = output.ToString();
            Assert.Contains("4 records dropped", logged, StringComparison.Ordinal);
            Assert.Single(logged.Split('\n'), l => l.Contains("[4001 AuditDropped]", StringComparison.Ordinal));
        }
        finally
        {
            Log.Output = previous;
        }
    }

    [Fact]
    public void TryWrite_allocates_nothing()
    {
        AuditRecord record = Sample(sql: "SELECT 1");
        using var disabled = new AuditLog(new AuditConfig());
        using var enabled = new AuditLog(Config(bufferSize: 4096), startWriter: false);

        // Warm up (JIT) first.
        disabled.TryWrite(record);
        enabled.TryWrite(record);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            disabled.TryWrite(record);
            enabled.TryWrite(record);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.False(disabled.Enabled);
        Assert.Equal(0, disabled.Dropped);
        Assert.False(File.Exists(FilePath) && new FileInfo(FilePath).Length > 0);
    }

    [Fact]
    public void Reconfigure_reopens_the_file_so_logrotate_works()
    {
        string rotated = FilePath + ".1";
        using (var log = new AuditLog(Config()))
        {
            Assert.True(log.TryWrite(Sample(queryId: 1)));
            Assert.True(log.Flush(Wait));

            // logrotate renames the file; the writer keeps its handle until told to reopen.
            File.Move(FilePath, rotated);
            Assert.True(log.TryWrite(Sample(queryId: 2)));
            Assert.True(log.Flush(Wait));
            log.Reconfigure(Config());
            Assert.True(log.TryWrite(Sample(queryId: 3)));
            Assert.True(log.Flush(Wait));
        }

        Assert.Equal([1, 2], QueryIds(File.ReadAllLines(rotated)));
        Assert.Equal([3], QueryIds(Lines()));
    }

    [Fact]
    public void Reconfigure_turns_the_log_on_and_off()
    {
        using var log = new AuditLog(new AuditConfig());
        Assert.False(log.TryWrite(Sample(queryId: 1)));

        log.Reconfigure(Config());
        Assert.True(log.Enabled);
        Assert.True(log.TryWrite(Sample(queryId: 2)));
        Assert.True(log.Flush(Wait));

        log.Reconfigure(new AuditConfig { Enabled = false, Path = FilePath });
        Assert.False(log.TryWrite(Sample(queryId: 3)));
        Assert.True(log.Flush(Wait));

        Assert.Equal([2], QueryIds(Lines()));
        Assert.Equal(0, log.Dropped);
    }

    [Fact]
    public void Dispose_writes_what_is_queued()
    {
        var log = new AuditLog(Config(bufferSize: 4096), startWriter: false);
        for (int i = 0; i < 500; i++)
        {
            Assert.True(log.TryWrite(Sample(queryId: i)));
        }

        log.StartWriter();
        log.Dispose();

        long[] ids = QueryIds(Lines());
        Assert.Equal(500, ids.Length);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), ids);
    }

    [Fact]
    public void Concurrent_writers_lose_nothing_that_was_accepted()
    {
        const int threads = 4;
        const int perThread = 5000;
        int accepted = 0;
        using (var log = new AuditLog(Config(bufferSize: 1024)))
        {
            Parallel.For(0, threads, t =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    if (log.TryWrite(Sample(queryId: (t * perThread) + i)))
                    {
                        Interlocked.Increment(ref accepted);
                    }
                }
            });
            Assert.True(log.Flush(Wait));
            Assert.Equal(threads * perThread, accepted + log.Dropped);
        }

        long[] ids = QueryIds(Lines());
        Assert.Equal(accepted, ids.Length);
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public void Query_ids_increase()
    {
        long first = AuditLog.NextQueryId();
        long second = AuditLog.NextQueryId();
        Assert.True(second > first);
    }

    private static long[] QueryIds(string[] lines) => lines.Select(line =>
    {
        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("query_id").GetInt64();
    }).ToArray();
}
