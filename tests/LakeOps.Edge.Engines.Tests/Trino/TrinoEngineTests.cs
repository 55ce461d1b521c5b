using System.Net;
using System.Net.Sockets;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Scalars;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Health;
using LakeOps.Edge.Engines.Trino;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.Trino;

/// <summary>The Trino engine adapter against <see cref="FakeTrinoCoordinator"/> (a fake: replays documented Trino responses).</summary>
public sealed class TrinoEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly FakeTrinoCoordinator _fake = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task FollowsQueuedAndRunningPagesToTheEnd()
    {
        string columns = TrinoPages.Columns(("id", "bigint"), ("name", "varchar"));
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued()),
            new FakePage(TrinoPages.Queued()),
            new FakePage(TrinoPages.Running()),
            new FakePage(TrinoPages.Running(columns, """[[1,"a"],[2,"b"]]""")),
            new FakePage(TrinoPages.Running(columns)),
            new FakePage(TrinoPages.Running(columns, """[[3,null]]""")),
            new FakePage(TrinoPages.Finished(columns)));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);

        await using IQueryResult result = await session.ExecuteAsync("SELECT id, name FROM t", Ct);
        Assert.True(result.ReturnsRows);
        Assert.Equal(["id", "name"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.IsType<Apache.Arrow.Types.Int64Type>(result.Schema.FieldsList[0].DataType);
        (List<long?> ids, List<string?> names) = await ReadAll(result);

        Assert.Equal([1L, 2L, 3L], ids);
        Assert.Equal(["a", "b", null], names);
        Assert.Equal(7, _fake.Requests.Count(r => r.Path.StartsWith("/v1/statement", StringComparison.Ordinal)));
        Assert.Empty(_fake.Deletes);
    }

    [Fact]
    public async Task SendsCredentialsUserSourceAndStatement()
    {
        await using TrinoEngine engine = Engine(o => o with { ClientTags = ["bi", "edge"], SessionProperties = [new("query_max_run_time", "10m")], Catalog = "tpch", Schema = "tiny" });
        await using IEngineSession session = await Open(engine);
        await using (await session.ExecuteAsync("CREATE TABLE x (a int)", Ct))
        {
        }

        FakeTrinoRequest post = Assert.Single(_fake.Statements);
        Assert.Equal("CREATE TABLE x (a int)", post.Body);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("edge:secret")), post.Header("Authorization"));
        Assert.Equal("edge", post.Header("X-Trino-User"));
        Assert.Equal("lakeops-edge", post.Header("X-Trino-Source"));
        Assert.Equal("bi,edge", post.Header("X-Trino-Client-Tags"));
        Assert.Equal("query_max_run_time=10m", post.Header("X-Trino-Session"));
        Assert.Equal("tpch", post.Header("X-Trino-Catalog"));
        Assert.Equal("tiny", post.Header("X-Trino-Schema"));
        Assert.Equal("UTC", post.Header("X-Trino-Time-Zone"));
    }

    [Fact]
    public async Task SendsBearerTokenAndForwardsTheClientUserWhenConfigured()
    {
        await using TrinoEngine engine = Engine(o => o with { AccessToken = "tok.en", ForwardUser = true });
        await using IEngineSession session = await engine.OpenSessionAsync(new EngineSessionOptions("alice", "db", "psql"), Ct);
        await using (await session.ExecuteAsync("SELECT 1", Ct))
        {
        }

        FakeTrinoRequest post = Assert.Single(_fake.Statements);
        Assert.Equal("Bearer tok.en", post.Header("Authorization"));
        Assert.Equal("alice", post.Header("X-Trino-User"));
    }

    [Fact]
    public async Task DecodesEveryTypeIntoArrow()
    {
        string columns = TrinoPages.Columns(
            ("b", "boolean"), ("t", "tinyint"), ("s", "smallint"), ("i", "integer"), ("g", "bigint"), ("r", "real"), ("d", "double"),
            ("dec", "decimal(10,2)"), ("v", "varchar(5)"), ("c", "char(4)"), ("bin", "varbinary"), ("j", "json"), ("dt", "date"),
            ("tm", "time(6)"), ("ts", "timestamp(6)"), ("tz", "timestamp(3) with time zone"), ("ids", "interval day to second"),
            ("iym", "interval year to month"), ("u", "uuid"), ("arr", "array(integer)"), ("m", "map(varchar, integer)"),
            ("row", "row(x integer, y varchar)"), ("n", "unknown"), ("ttz", "time(3) with time zone"), ("big", "decimal(38,0)"),
            ("neg", "timestamp(3) with time zone"));
        string row = """
            [true,-12,1234,-123456,1234567890123,1.5,"NaN","-123.45","h\u00e9\"l","ab  ","AAEC/w==","{\"a\":1}","2024-02-29",
             "13:14:15.123456","2024-02-29 13:14:15.123456","2024-02-29 13:14:15.123 America/New_York","-2 03:04:05.678","1-2",
             "12151fd2-7586-11e9-8f9e-2a86e4085a59",[1,2,null],{"k":1},[1,"x"],null,"10:00:00.000+05:30",
             "12345678901234567890123456789012345678","1969-12-31 23:59:59.999 +01:00"]
            """;
        string nulls = "[" + string.Join(',', Enumerable.Repeat("null", 26)) + "]";
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Finished(columns, "[" + row + "," + nulls + "]")));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        await using IQueryResult result = await session.ExecuteAsync("SELECT everything", Ct);
        RecordBatch batch = Assert.IsType<RecordBatch>(await result.ReadBatchAsync(Ct));
        Assert.Equal(2, batch.Length);

        Assert.True(((BooleanArray)batch.Column("b")).GetValue(0));
        Assert.Equal((sbyte)-12, ((Int8Array)batch.Column("t")).GetValue(0));
        Assert.Equal((short)1234, ((Int16Array)batch.Column("s")).GetValue(0));
        Assert.Equal(-123456, ((Int32Array)batch.Column("i")).GetValue(0));
        Assert.Equal(1234567890123L, ((Int64Array)batch.Column("g")).GetValue(0));
        Assert.Equal(1.5f, ((FloatArray)batch.Column("r")).GetValue(0));
        Assert.True(double.IsNaN(((DoubleArray)batch.Column("d")).GetValue(0)!.Value));
        Assert.Equal(-123.45m, ((Decimal128Array)batch.Column("dec")).GetValue(0));
        Assert.Equal("hé\"l", ((StringArray)batch.Column("v")).GetString(0));
        Assert.Equal("ab  ", ((StringArray)batch.Column("c")).GetString(0));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, ((BinaryArray)batch.Column("bin")).GetBytes(0).ToArray());
        Assert.Equal("{\"a\":1}", ((StringArray)batch.Column("j")).GetString(0));
        Assert.Equal(ArrowConventions.JsonExtension, batch.Schema.GetFieldByName("j").Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal(new DateOnly(2024, 2, 29).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber, ((Date32Array)batch.Column("dt")).GetValue(0));
        Assert.Equal(new TimeSpan(0, 13, 14, 15, 123, 456).Ticks / 10, ((Time64Array)batch.Column("tm")).GetValue(0));
        Assert.Equal(new DateTimeOffset(2024, 2, 29, 13, 14, 15, 123, 456, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000 + 456, ((TimestampArray)batch.Column("ts")).GetValue(0));
        Assert.Equal(new DateTimeOffset(2024, 2, 29, 18, 14, 15, 123, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000, ((TimestampArray)batch.Column("tz")).GetValue(0));
        MonthDayNanosecondInterval dayToSecond = ((MonthDayNanosecondIntervalArray)batch.Column("ids")).GetValue(0)!.Value;
        Assert.Equal((0, -2, -((3L * 3600 + 4 * 60 + 5) * 1_000_000_000 + 678_000_000)), (dayToSecond.Months, dayToSecond.Days, dayToSecond.Nanoseconds));
        MonthDayNanosecondInterval yearToMonth = ((MonthDayNanosecondIntervalArray)batch.Column("iym")).GetValue(0)!.Value;
        Assert.Equal((14, 0, 0L), (yearToMonth.Months, yearToMonth.Days, yearToMonth.Nanoseconds));
        Assert.Equal("12151fd2-7586-11e9-8f9e-2a86e4085a59", ((StringArray)batch.Column("u")).GetString(0));
        Assert.Equal(ArrowConventions.UuidExtension, batch.Schema.GetFieldByName("u").Metadata[ArrowConventions.ExtensionNameKey]);
        Assert.Equal("[1,2,null]", ((StringArray)batch.Column("arr")).GetString(0));
        Assert.Equal("{\"k\":1}", ((StringArray)batch.Column("m")).GetString(0));
        Assert.Equal("[1,\"x\"]", ((StringArray)batch.Column("row")).GetString(0));
        Assert.Equal("row(x integer, y varchar)", batch.Schema.GetFieldByName("row").Metadata[ArrowConventions.EngineTypeKey]);
        Assert.True(batch.Column("n").IsNull(0));
        Assert.Equal("10:00:00.000+05:30", ((StringArray)batch.Column("ttz")).GetString(0));
        Assert.Equal(System.Numerics.BigInteger.Parse("12345678901234567890123456789012345678", System.Globalization.CultureInfo.InvariantCulture),
            new System.Numerics.BigInteger(((Decimal128Array)batch.Column("big")).ValueBuffer.Span.Slice(0, 16), isUnsigned: false));
        Assert.Equal(new DateTimeOffset(1969, 12, 31, 22, 59, 59, 999, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000, ((TimestampArray)batch.Column("neg")).GetValue(0));

        for (int column = 0; column < batch.ColumnCount; column++)
        {
            Assert.True(batch.Column(column).IsNull(1), $"column {batch.Schema.FieldsList[column].Name} row 2 should be NULL");
        }

        Assert.Null(await result.ReadBatchAsync(Ct));
    }

    [Fact]
    public async Task StreamsPagesThatArriveInSmallChunksIntoBoundedBatches()
    {
        string columns = TrinoPages.Columns(("n", "bigint"), ("s", "varchar"));
        string Rows(int from, int count) => "[" + string.Join(',', Enumerable.Range(from, count).Select(i => $"[{i},\"row \\\"{i}\\\" {new string('x', i % 7)}\"]")) + "]";
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued(), ChunkSize: 3),
            new FakePage(TrinoPages.Running(columns, Rows(0, 25)), ChunkSize: 7),
            new FakePage(TrinoPages.Finished(columns, Rows(25, 10)), ChunkSize: 1));
        await using TrinoEngine engine = Engine(o => o with { BatchRows = 4 });
        await using IEngineSession session = await Open(engine);
        await using IQueryResult result = await session.ExecuteAsync("SELECT n, s FROM t", Ct);

        var lengths = new List<int>();
        var values = new List<string>();
        while (await result.ReadBatchAsync(Ct) is { } batch)
        {
            lengths.Add(batch.Length);
            for (int i = 0; i < batch.Length; i++)
            {
                values.Add($"{((Int64Array)batch.Column(0)).GetValue(i)}={((StringArray)batch.Column(1)).GetString(i)}");
            }
        }

        Assert.Equal(Enumerable.Range(0, 35).Select(i => $"{i}=row \"{i}\" {new string('x', i % 7)}"), values);
        // The page that shows the columns is read whole (Trino writes updateType after data, and it decides whether
        // rows come back); after that, batches hold at most batch_rows rows.
        Assert.Equal([25, 4, 4, 2], lengths);
    }

    [Theory]
    [InlineData("SYNTAX_ERROR", 1, "USER_ERROR", "42601")]
    [InlineData("TABLE_NOT_FOUND", 46, "USER_ERROR", "42P01")]
    [InlineData("DIVISION_BY_ZERO", 8, "USER_ERROR", "22012")]
    [InlineData("GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR", "XX000")]
    [InlineData("EXCEEDED_GLOBAL_MEMORY_LIMIT", 131073, "INSUFFICIENT_RESOURCES", "53000")]
    public async Task FailedQueriesBecomeEngineErrorsWithTheCoordinatorsMessage(string errorName, int code, string errorType, string sqlState)
    {
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued()),
            new FakePage(TrinoPages.Failed("line 1:8: something about " + errorName, code, errorName, errorType)));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);

        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await session.ExecuteAsync("SELECT nope", Ct));
        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal("line 1:8: something about " + errorName, error.Message);

        // The session stays usable.
        _fake.OnStatement = (_, _) => FakeQuery.Finished();
        await using (await session.ExecuteAsync("SELECT 1", Ct))
        {
        }
    }

    [Fact]
    public async Task AnErrorAfterRowsSurfacesFromReadBatch()
    {
        string columns = TrinoPages.Columns(("n", "integer"));
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Running(columns, "[[1],[2]]")),
            new FakePage(TrinoPages.Failed("Division by zero", 8, "DIVISION_BY_ZERO", "USER_ERROR")));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        await using IQueryResult result = await session.ExecuteAsync("SELECT 1/(n-2)", Ct);

        RecordBatch? first = await result.ReadBatchAsync(Ct);
        Assert.Equal(2, first!.Length);
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await result.ReadBatchAsync(Ct));
        Assert.Equal("22012", error.SqlState);
    }

    [Fact]
    public async Task CancelInterruptsAWaitingQueryAndDeletesItOnTheCoordinator()
    {
        var hold = new TaskCompletionSource();
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued()),
            new FakePage(TrinoPages.Queued()) { Hold = hold },
            new FakePage(TrinoPages.Finished()));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);

        Task<IQueryResult> running = session.ExecuteAsync("SELECT slow()", Ct).AsTask();
        Assert.True(await FakeTrinoCoordinator.WaitUntilAsync(() => _fake.Requests.Count(r => r.Method == "GET") >= 1, Deadline));
        session.Cancel();

        EngineException error = await Assert.ThrowsAsync<EngineException>(() => running);
        Assert.Equal(SqlStates.QueryCanceled, error.SqlState);
        Assert.True(await FakeTrinoCoordinator.WaitUntilAsync(() => !_fake.Deletes.IsEmpty, Deadline));
        Assert.StartsWith("/v1/statement/executing/", _fake.Deletes.First(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposingAResultEarlyDeletesTheQuery()
    {
        string columns = TrinoPages.Columns(("n", "integer"));
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Running(columns, "[[1],[2]]")),
            new FakePage(TrinoPages.Running(columns, "[[3]]")),
            new FakePage(TrinoPages.Finished(columns, "[[4]]")));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        IQueryResult result = await session.ExecuteAsync("SELECT n FROM big", Ct);
        Assert.NotNull(await result.ReadBatchAsync(Ct));

        await result.DisposeAsync();

        Assert.True(await FakeTrinoCoordinator.WaitUntilAsync(() => _fake.Deletes.Count == 1, Deadline));
        Assert.EndsWith("/1", _fake.Deletes.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFinishedResultIsNotDeleted()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Finished(TrinoPages.Columns(("n", "integer")), "[[1]]")));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        await using (IQueryResult result = await session.ExecuteAsync("SELECT 1", Ct))
        {
            while (await result.ReadBatchAsync(Ct) is not null)
            {
            }
        }

        Assert.Empty(_fake.Deletes);
    }

    [Fact]
    public async Task ConnectionRefusedIs08006NamingClusterAndAddress()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using TrinoEngine engine = Engine(o => o with { Port = port });
        await using IEngineSession session = await Open(engine);
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await session.ExecuteAsync("SELECT 1", Ct));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("cluster 'trino-a'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RejectedCredentialsAre28000()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage("Unauthorized", Status: 401));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await session.ExecuteAsync("SELECT 1", Ct));
        Assert.Equal(SqlStates.InvalidAuthorizationSpecification, error.SqlState);
    }

    [Fact]
    public async Task RetriesServiceUnavailable()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued()),
            new FakePage("busy", Status: 503),
            new FakePage(TrinoPages.Finished(TrinoPages.Columns(("n", "integer")), "[[7]]")));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        await using IQueryResult result = await session.ExecuteAsync("SELECT 7", Ct);
        (List<long?> values, _) = await ReadAll(result);
        Assert.Equal([7L], values);
    }

    [Fact]
    public async Task UpdateStatementsReportTheirCountAndNoRows()
    {
        string columns = TrinoPages.Columns(("rows", "bigint"));
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Running(updateType: "INSERT")),
            new FakePage(TrinoPages.Running(columns, "[[3]]", updateType: "INSERT")),
            new FakePage(TrinoPages.Finished(columns, updateType: "INSERT", updateCount: 3)));
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        await using IQueryResult result = await session.ExecuteAsync("INSERT INTO t VALUES 1, 2, 3", Ct);

        Assert.False(result.ReturnsRows);
        Assert.Empty(result.Schema.FieldsList);
        Assert.Null(await result.ReadBatchAsync(Ct));
        Assert.Equal(3, result.RowsAffected);
    }

    [Fact]
    public async Task SessionHeadersFromResponsesAreSentWithTheNextStatement()
    {
        _fake.OnStatement = (sql, _) => sql switch
        {
            "USE hive.sales" => new FakeQuery(new FakePage(TrinoPages.Finished(updateType: "USE"), Headers: [new("X-Trino-Set-Catalog", "hive"), new("X-Trino-Set-Schema", "sales")])),
            "SET SESSION join_distribution_type = 'BROADCAST'" => new FakeQuery(new FakePage(TrinoPages.Finished(updateType: "SET SESSION"), Headers: [new("X-Trino-Set-Session", "join_distribution_type=BROADCAST")])),
            "PREPARE q FROM SELECT ?" => new FakeQuery(new FakePage(TrinoPages.Finished(updateType: "PREPARE"), Headers: [new("X-Trino-Added-Prepare", "q=SELECT+%3F")])),
            "START TRANSACTION" => new FakeQuery(new FakePage(TrinoPages.Finished(updateType: "START TRANSACTION"), Headers: [new("X-Trino-Started-Transaction-Id", "tx-1")])),
            "RESET SESSION join_distribution_type" => new FakeQuery(new FakePage(TrinoPages.Finished(updateType: "RESET SESSION"), Headers: [new("X-Trino-Clear-Session", "join_distribution_type")])),
            _ => FakeQuery.Finished(),
        };
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);
        foreach (string sql in new[] { "USE hive.sales", "SET SESSION join_distribution_type = 'BROADCAST'", "PREPARE q FROM SELECT ?", "START TRANSACTION", "SELECT 1", "RESET SESSION join_distribution_type", "SELECT 2" })
        {
            await using IQueryResult result = await session.ExecuteAsync(sql, Ct);
            Assert.Null(await result.ReadBatchAsync(Ct));
        }

        FakeTrinoRequest select1 = _fake.Statements.Single(r => r.Body == "SELECT 1");
        Assert.Equal("hive", select1.Header("X-Trino-Catalog"));
        Assert.Equal("sales", select1.Header("X-Trino-Schema"));
        Assert.Equal("join_distribution_type=BROADCAST", select1.Header("X-Trino-Session"));
        Assert.Equal("q=SELECT%20%3F", select1.Header("X-Trino-Prepared-Statement"));
        Assert.Equal("tx-1", select1.Header("X-Trino-Transaction-Id"));
        Assert.Equal("NONE", _fake.Statements.Single(r => r.Body == "USE hive.sales").Header("X-Trino-Transaction-Id"));
        Assert.Null(_fake.Statements.Single(r => r.Body == "SELECT 2").Header("X-Trino-Session"));
    }

    [Fact]
    public async Task PreparedStatementsAreDescribedAndRunWithInlinedParameters()
    {
        string describeOutput = TrinoPages.Columns(("Column Name", "varchar"), ("Catalog", "varchar"), ("Schema", "varchar"), ("Table", "varchar"), ("Type", "varchar"), ("Type Size", "bigint"), ("Aliased", "boolean"));
        string describeInput = TrinoPages.Columns(("Position", "bigint"), ("Type", "varchar"));
        _fake.OnStatement = (sql, request) => sql switch
        {
            "DESCRIBE OUTPUT lakeops_edge_describe" => new FakeQuery(new FakePage(TrinoPages.Finished(describeOutput, """[["id","tpch","tiny","orders","bigint",8,false],["day","","","","date",4,true]]"""))),
            "DESCRIBE INPUT lakeops_edge_describe" => new FakeQuery(new FakePage(TrinoPages.Finished(describeInput, """[[0,"bigint"],[1,"date"],[2,"varchar"]]"""))),
            _ => new FakeQuery(new FakePage(TrinoPages.Finished(TrinoPages.Columns(("id", "bigint"), ("day", "date")), "[[5,\"2024-01-02\"]]"))),
        };
        await using TrinoEngine engine = Engine();
        await using IEngineSession session = await Open(engine);

        using IPreparedStatement statement = await session.PrepareAsync("SELECT id, d AS day FROM orders WHERE id = $1 AND d > $2 AND note <> $3 AND '$1' <> '?' /* $2 ? */", Ct);
        Assert.Equal(["id", "day"], statement.ResultSchema.FieldsList.Select(f => f.Name));
        Assert.IsType<Apache.Arrow.Types.Date32Type>(statement.ResultSchema.FieldsList[1].DataType);
        Assert.Equal(3, statement.ParameterTypes.Count);
        Assert.IsType<Apache.Arrow.Types.Int64Type>(statement.ParameterTypes[0]);
        FakeTrinoRequest describe = _fake.Statements.First();
        Assert.Equal("lakeops_edge_describe=" + Uri.EscapeDataString("SELECT id, d AS day FROM orders WHERE id = ? AND d > ? AND note <> ? AND '$1' <> '?' /* $2 ? */"), describe.Header("X-Trino-Prepared-Statement"));

        ParameterValue[] values = [ParameterValue.FromText("5"), ParameterValue.FromDate(19724), ParameterValue.FromText("it's")];
        await using (IQueryResult result = await statement.ExecuteAsync(values, Ct))
        {
            (List<long?> ids, _) = await ReadAll(result);
            Assert.Equal([5L], ids);
        }

        Assert.Equal("SELECT id, d AS day FROM orders WHERE id = CAST('5' AS bigint) AND d > DATE '2024-01-02' AND note <> 'it''s' AND '$1' <> '?' /* $2 ? */", _fake.Statements.Last().Body);
    }

    [Fact]
    public async Task PassthroughReturnsTheCoordinatorsBytesAndParsedState()
    {
        string columns = TrinoPages.Columns(("n", "integer"));
        string first = TrinoPages.Running(columns, "[[1],[2]]");
        _fake.OnStatement = (_, _) => new FakeQuery(
            new FakePage(TrinoPages.Queued(), Headers: [new("X-Trino-Set-Catalog", "tpch")]),
            new FakePage(first),
            new FakePage(TrinoPages.Finished(columns)));
        await using TrinoEngine engine = Engine(o => o with { Catalog = "system" });
        ITrinoHttpEngine http = engine;

        var request = new TrinoUpstreamRequest("SELECT n FROM t", [
            new("X-Trino-User", "mallory"), new("X-Trino-Schema", "tiny"), new("X-Presto-Client-Tags", "legacy"), new("X-Trino-Extra-Credential", "k=v"), new("Cookie", "x=y"),
        ]);
        using (TrinoUpstreamPage page = await http.SubmitAsync(request, Ct))
        {
            Assert.Equal(200, page.StatusCode);
            Assert.Equal("QUEUED", page.State);
            Assert.NotNull(page.NextUri);
            Assert.Contains(page.Headers, h => h.Key.Equals("X-Trino-Set-Catalog", StringComparison.OrdinalIgnoreCase) && h.Value == "tpch");
            Assert.Contains("\"state\":\"QUEUED\"", Encoding.UTF8.GetString(page.Body.Span), StringComparison.Ordinal);

            using TrinoUpstreamPage second = await http.FetchAsync(page.NextUri!, Ct);
            Assert.Equal("RUNNING", second.State);
            // Byte for byte what the coordinator sent.
            Assert.Equal(_fake.SentPages.ElementAt(1), Encoding.UTF8.GetString(second.Body.Span));
            Assert.Contains("\"data\":[[1],[2]]", Encoding.UTF8.GetString(second.Body.Span), StringComparison.Ordinal);

            await http.CancelAsync(second.NextUri!, Ct);
            Assert.True(await FakeTrinoCoordinator.WaitUntilAsync(() => _fake.Deletes.Count == 1, Deadline));
        }

        FakeTrinoRequest post = Assert.Single(_fake.Statements);
        Assert.Equal("edge", post.Header("X-Trino-User"));
        Assert.Equal("tiny", post.Header("X-Trino-Schema"));
        Assert.Equal("system", post.Header("X-Trino-Catalog"));
        Assert.Equal("legacy", post.Header("X-Trino-Client-Tags"));
        Assert.Null(post.Header("X-Trino-Extra-Credential"));
        Assert.Null(post.Header("Cookie"));
        Assert.StartsWith("Basic ", post.Header("Authorization"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PassthroughRefusesNextUrisOfOtherHosts()
    {
        await using TrinoEngine engine = Engine();
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () =>
            await ((ITrinoHttpEngine)engine).FetchAsync(new Uri("http://169.254.169.254/latest/meta-data"), Ct));
        Assert.Equal(SqlStates.ProtocolViolation, error.SqlState);
        Assert.Empty(_fake.Requests);
    }

    [Fact]
    public async Task HealthProbeChecksThatTheCoordinatorIsNotStarting()
    {
        await using TrinoEngine engine = Engine();
        var probe = ClusterProbes.Create(engine);
        Assert.NotNull(probe);

        _fake.Starting = true;
        EngineException starting = await Assert.ThrowsAsync<EngineException>(async () => await probe.ProbeAsync(Ct));
        Assert.Contains("starting", starting.Message, StringComparison.Ordinal);

        _fake.Starting = false;
        await probe.ProbeAsync(Ct);
        Assert.Contains(_fake.Requests, r => r.Method == "GET" && r.Path == "/v1/info" && r.Header("Authorization") is not null);
    }

    [Fact]
    public async Task HealthProbeFailsWhenTheCoordinatorIsDown()
    {
        await using TrinoEngine engine = Engine(o => o with { Port = 1 });
        var probe = ClusterProbes.Create(engine)!;
        EngineException error = await Assert.ThrowsAsync<EngineException>(async () => await probe.ProbeAsync(Ct));
        Assert.Equal(SqlStates.ConnectionFailure, error.SqlState);
    }

    private TrinoEngine Engine(Func<TrinoEngineOptions, TrinoEngineOptions>? configure = null)
    {
        var options = new TrinoEngineOptions { Host = "127.0.0.1", Port = _fake.Port, User = "edge", Password = "secret" };
        options = configure?.Invoke(options) ?? options;
        return new TrinoEngine(new ClusterConfig { Name = "trino-a", Engine = EngineKind.Trino, Trino = options });
    }

    private static ValueTask<IEngineSession> Open(TrinoEngine engine) =>
        engine.OpenSessionAsync(new EngineSessionOptions("bob", "analytics", "tests"), Ct);

    private static async Task<(List<long?> First, List<string?> Second)> ReadAll(IQueryResult result)
    {
        var first = new List<long?>();
        var second = new List<string?>();
        while (await result.ReadBatchAsync(Ct) is { } batch)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                first.Add(batch.Column(0) switch
                {
                    Int64Array a => a.GetValue(i),
                    Int32Array a => a.GetValue(i),
                    _ => null,
                });
                if (batch.ColumnCount > 1)
                {
                    second.Add(batch.Column(1) is StringArray s ? s.GetString(i) : null);
                }
            }
        }

        return (first, second);
    }
}
