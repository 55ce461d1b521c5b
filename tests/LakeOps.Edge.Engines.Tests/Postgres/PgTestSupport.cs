using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.Postgres;

/// <summary>Helpers shared by the PostgreSQL engine tests (all against the real server of <see cref="PostgresTestServer"/>).</summary>
internal static class PgTestSupport
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public static RemoteEngineOptions Remote(PostgresTestServer server, string? user = null, string? password = null, EngineTlsMode tls = EngineTlsMode.Disable) => new()
    {
        Host = server.Host,
        Port = server.Port,
        User = user ?? server.User,
        Password = password ?? server.Password,
        Database = server.Database,
        Tls = tls,
    };

    public static ValueTask<PgServerConnection> ConnectAsync(PostgresTestServer server, string? user = null, string? password = null, EngineTlsMode tls = EngineTlsMode.Disable) =>
        PgServerConnection.ConnectAsync("pg", Remote(server, user, password, tls), [new("application_name", "edge-tests")], ConnectTimeout, CancellationToken.None);

    public static ClusterConfig Cluster(PostgresTestServer server, int maxSize = 8, string name = "pg") => new()
    {
        Name = name,
        Engine = EngineKind.Postgres,
        Remote = Remote(server),
        Pool = new PoolOptions { MaxSize = maxSize, HealthCheckAfterIdle = TimeSpan.FromSeconds(30) },
    };

    /// <summary>Runs one simple query on a raw connection and returns the first column of each row as text.</summary>
    public static async Task<List<string?>> SimpleQueryAsync(PgServerConnection connection, string sql)
    {
        PgFrontendWriter.WriteQuery(connection.Output, sql);
        await connection.Output.FlushAsync();
        var values = new List<string?>();
        PgError? error = null;
        while (true)
        {
            byte type = await connection.Messages.ReadAsync(CancellationToken.None);
            switch (type)
            {
                case PgMessageTypes.DataRow:
                    byte[]?[] row = DataRowMessage.Parse(connection.Messages.Body.Span);
                    values.Add(row[0] is null ? null : System.Text.Encoding.UTF8.GetString(row[0]!));
                    break;
                case PgMessageTypes.ErrorResponse:
                    error = ErrorResponseMessage.Parse(connection.Messages.Body.Span);
                    break;
                case PgMessageTypes.ReadyForQuery:
                    connection.TransactionStatus = ReadyForQueryMessage.Parse(connection.Messages.Body.Span);
                    connection.Messages.Release();
                    if (error is { } e)
                    {
                        throw new InvalidOperationException(e.SqlState + ": " + e.Message);
                    }

                    return values;
            }
        }
    }

    public static ValueTask<IEngineSession> OpenAsync(PostgresEngine engine) =>
        engine.OpenSessionAsync(new EngineSessionOptions("tester", "db", "edge-tests"), CancellationToken.None);

    /// <summary>Runs a statement and returns every batch's columns (copied: batches are valid only until the next read).</summary>
    public static async Task<List<IArrowArray[]>> ReadAllAsync(IEngineSession session, string sql)
    {
        await using IQueryResult result = await session.ExecuteAsync(sql, CancellationToken.None);
        return await ReadAllAsync(result);
    }

    public static async Task<List<IArrowArray[]>> ReadAllAsync(IQueryResult result)
    {
        var batches = new List<IArrowArray[]>();
        while (await result.ReadBatchAsync(CancellationToken.None) is { } batch)
        {
            var columns = new IArrowArray[batch.ColumnCount];
            for (int i = 0; i < columns.Length; i++)
            {
                columns[i] = Copy(batch.Column(i));
            }

            batches.Add(columns);
        }

        return batches;
    }

    /// <summary>Runs a statement to its end and returns RowsAffected.</summary>
    public static async Task<long> DrainAsync(IEngineSession session, string sql)
    {
        await using IQueryResult result = await session.ExecuteAsync(sql, CancellationToken.None);
        while (await result.ReadBatchAsync(CancellationToken.None) is not null)
        {
        }

        return result.RowsAffected;
    }

    /// <summary>The first column of the first row, through <see cref="PgArrowText"/> for text, or the raw value.</summary>
    public static async Task<T> ScalarAsync<T>(IEngineSession session, string sql)
    {
        List<IArrowArray[]> batches = await ReadAllAsync(session, sql);
        IArrowArray array = batches[0][0];
        object? value = array switch
        {
            Int32Array a => a.GetValue(0),
            Int64Array a => a.GetValue(0),
            StringArray a => a.GetString(0),
            BooleanArray a => a.GetValue(0),
            _ => PgArrowText.Format(array, 0),
        };
        return (T)value!;
    }

    /// <summary>A deep copy through Arrow's own slicing-free path: serialize the array data into fresh buffers.</summary>
    private static IArrowArray Copy(IArrowArray array) => ArrowArrayFactory.BuildArray(CopyData(array.Data));

    private static ArrayData CopyData(ArrayData data)
    {
        var buffers = new ArrowBuffer[data.Buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new ArrowBuffer(data.Buffers[i].Memory.ToArray());
        }

        ArrayData[] children = data.Children is null ? [] : System.Array.ConvertAll(data.Children, CopyData);
        return new ArrayData(data.DataType, data.Length, data.NullCount, data.Offset, buffers, children);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met before the deadline");
            }

            await Task.Delay(20);
        }
    }
}
