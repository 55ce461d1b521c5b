using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>Helpers shared by the MySQL-wire engine tests (all against the real server of <see cref="MariaDbTestServer"/>).</summary>
internal static class MySqlTestSupport
{
    public static RemoteEngineOptions Remote(MariaDbTestServer server, string? user = null, string? password = null, EngineTlsMode tls = EngineTlsMode.Disable, string? database = null) => new()
    {
        Host = server.Host,
        Port = server.Port,
        User = user ?? server.User,
        Password = password ?? server.Password,
        Database = database ?? server.Database,
        Tls = tls,
    };

    public static MySqlConnectOptions Options(MariaDbTestServer server, string? user = null, string? password = null, EngineTlsMode tls = EngineTlsMode.Disable, string? initialPlugin = null) =>
        new("maria", Remote(server, user, password, tls), MySqlEngine.DefaultFormat, initialPlugin);

    public static async Task<MySqlServerConnection> ConnectAsync(MariaDbTestServer server, string? user = null, string? password = null, EngineTlsMode tls = EngineTlsMode.Disable, string? initialPlugin = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await MySqlServerConnection.ConnectAsync(Options(server, user, password, tls, initialPlugin), timeout.Token);
    }

    public static ClusterConfig Cluster(MariaDbTestServer server, int maxSize = 8, string name = "maria") => new()
    {
        Name = name,
        Engine = EngineKind.MySql,
        Remote = Remote(server),
        Pool = new PoolOptions { MaxSize = maxSize, ConnectTimeout = TimeSpan.FromSeconds(10) },
    };

    public static async Task<IEngineSession> OpenAsync(MySqlEngine engine) =>
        await engine.OpenSessionAsync(new EngineSessionOptions("edge", "maria", "tests"), CancellationToken.None);

    /// <summary>Runs a statement and returns every row as object?[] (Arrow values boxed), all batches read.</summary>
    public static async Task<List<object?[]>> RowsAsync(IEngineSession session, string sql)
    {
        await using IQueryResult result = await session.ExecuteAsync(sql, CancellationToken.None);
        return await ReadAllAsync(result);
    }

    public static async Task<List<object?[]>> ReadAllAsync(IQueryResult result)
    {
        var rows = new List<object?[]>();
        while (await result.ReadBatchAsync(CancellationToken.None) is { } batch)
        {
            for (int r = 0; r < batch.Length; r++)
            {
                var row = new object?[batch.ColumnCount];
                for (int c = 0; c < batch.ColumnCount; c++)
                {
                    row[c] = ArrowValue(batch.Column(c), r);
                }

                rows.Add(row);
            }
        }

        return rows;
    }

    public static async Task<object?> ScalarAsync(IEngineSession session, string sql) => (await RowsAsync(session, sql))[0][0];

    /// <summary>One Arrow value as a CLR object (null for NULL).</summary>
    public static object? ArrowValue(IArrowArray array, int index)
    {
        if (array.IsNull(index))
        {
            return null;
        }

        return array switch
        {
            Int8Array a => a.GetValue(index),
            UInt8Array a => a.GetValue(index),
            Int16Array a => a.GetValue(index),
            UInt16Array a => a.GetValue(index),
            Int32Array a => a.GetValue(index),
            UInt32Array a => a.GetValue(index),
            Int64Array a => a.GetValue(index),
            UInt64Array a => a.GetValue(index),
            FloatArray a => a.GetValue(index),
            DoubleArray a => a.GetValue(index),
            Decimal128Array a => a.GetSqlDecimal(index),
            StringArray a => a.GetString(index),
            BinaryArray a => a.GetBytes(index).ToArray(),
            Date32Array a => a.GetDateOnly(index),
            TimestampArray a => a.GetTimestamp(index),
            Time64Array a => TimeOnly.FromTimeSpan(TimeSpan.FromTicks(a.GetMicroSeconds(index)!.Value * 10)),
            _ => throw new NotSupportedException(array.GetType().Name),
        };
    }

    /// <summary>Runs SQL on a raw connection and returns whether it succeeded (errors thrown).</summary>
    public static ValueTask ExecAsync(MySqlServerConnection connection, string sql) =>
        connection.ExecuteSimpleAsync(System.Text.Encoding.UTF8.GetBytes(sql), CancellationToken.None);

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

    public static MySqlCapabilities Caps(MySqlServerConnection c) => c.Capabilities;
}
