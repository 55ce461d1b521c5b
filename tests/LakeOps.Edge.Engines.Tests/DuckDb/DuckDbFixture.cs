using Apache.Arrow;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

/// <summary>Helpers shared by the DuckDB engine tests (a real embedded DuckDB).</summary>
internal static class DuckDbFixture
{
    public static readonly EngineSessionOptions SessionOptions = new("tester", "db", "tests");

    public static DuckDbEngine Engine(DuckDbOptions? options = null, ClusterLimits? limits = null) => new(new ClusterConfig
    {
        Name = "duck",
        Engine = EngineKind.DuckDb,
        DuckDb = options ?? new DuckDbOptions { Threads = 2 },
        Limits = limits ?? new ClusterLimits(),
    });

    public static async Task<IEngineSession> Session(IEngine engine) => await engine.OpenSessionAsync(SessionOptions, default);

    /// <summary>Runs a statement to completion and returns its rows affected.</summary>
    public static async Task<long> Run(IEngineSession session, string sql)
    {
        await using IQueryResult result = await session.ExecuteAsync(sql, default);
        while (await result.ReadBatchAsync(default) is not null)
        {
        }

        return result.RowsAffected;
    }

    /// <summary>Reads every row of a result, column values converted to CLR objects by <see cref="Value"/>.</summary>
    public static async Task<List<object?[]>> Rows(IQueryResult result)
    {
        var rows = new List<object?[]>();
        while (await result.ReadBatchAsync(default) is RecordBatch batch)
        {
            for (int r = 0; r < batch.Length; r++)
            {
                object?[] row = new object?[batch.ColumnCount];
                for (int c = 0; c < batch.ColumnCount; c++)
                {
                    row[c] = Value(batch.Column(c), r);
                }

                rows.Add(row);
            }
        }

        return rows;
    }

    public static async Task<List<object?[]>> Rows(IEngineSession session, string sql)
    {
        await using IQueryResult result = await session.ExecuteAsync(sql, default);
        return await Rows(result);
    }

    public static async Task<object?> Scalar(IEngineSession session, string sql)
    {
        List<object?[]> rows = await Rows(session, sql);
        return Assert.Single(rows)[0];
    }

    public static async Task<object?> Scalar(IPreparedStatement statement, params ParameterValue[] parameters)
    {
        await using IQueryResult result = await statement.ExecuteAsync(parameters, default);
        List<object?[]> rows = await Rows(result);
        return Assert.Single(rows)[0];
    }

    /// <summary>A cell as a plain CLR value (lists become object?[]), so assertions read naturally.</summary>
    public static object? Value(IArrowArray array, int index)
    {
        if (array.IsNull(index))
        {
            return null;
        }

        return array switch
        {
            BooleanArray a => a.GetValue(index),
            Int8Array a => a.GetValue(index),
            Int16Array a => a.GetValue(index),
            Int32Array a => a.GetValue(index),
            Int64Array a => a.GetValue(index),
            FloatArray a => a.GetValue(index),
            DoubleArray a => a.GetValue(index),
            Decimal128Array a => a.GetValue(index),
            StringArray a => a.GetString(index),
            BinaryArray a => a.GetBytes(index).ToArray(),
            Date32Array a => a.GetDateOnly(index),
            Time64Array a => a.GetMicroSeconds(index),
            TimestampArray a => a.GetTimestamp(index),
            MonthDayNanosecondIntervalArray a => a.GetValue(index),
            ListArray a => List(a, index),
            _ => array.GetType().Name,
        };
    }

    private static object?[] List(ListArray array, int index)
    {
        IArrowArray values = array.GetSlicedValues(index);
        object?[] items = new object?[values.Length];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Value(values, i);
        }

        return items;
    }
}
