using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Apache.Arrow;

namespace LakeOps.Edge.Protocols.Trino;

/// <summary>A result column: its name and Trino type.</summary>
public sealed record TrinoColumn(string Name, TrinoType Type);

/// <summary>The <c>stats</c> object of a page (times in milliseconds).</summary>
public readonly record struct TrinoQueryStats(
    string State,
    long ElapsedMillis,
    long QueuedMillis,
    long ProcessedRows,
    long ProcessedBytes)
{
    public bool Queued => State == TrinoQueryStates.Queued;
}

/// <summary>Trino's query state names.</summary>
public static class TrinoQueryStates
{
    public const string Queued = "QUEUED";
    public const string Running = "RUNNING";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
}

/// <summary>
/// Writes a Trino <c>QueryResults</c> document with <see cref="Utf8JsonWriter"/>, member by member in
/// Trino's order: id, infoUri, partialCancelUri, nextUri, columns, data, stats, error, warnings,
/// updateType, updateCount. The caller calls Start, then the optional parts in that order, then End.
/// Pure: no I/O; the writer's output is the caller's buffer.
/// </summary>
public static class TrinoQueryResultsWriter
{
    /// <summary>Writer options for pages: no validation cost per value, non-ASCII text left as UTF-8.</summary>
    public static JsonWriterOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static void Start(Utf8JsonWriter writer, string id, string infoUri, string? nextUri, string? partialCancelUri = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("infoUri"u8, infoUri);
        if (partialCancelUri is not null)
        {
            writer.WriteString("partialCancelUri"u8, partialCancelUri);
        }

        if (nextUri is not null)
        {
            writer.WriteString("nextUri"u8, nextUri);
        }
    }

    public static void WriteColumns(Utf8JsonWriter writer, IReadOnlyList<TrinoColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(columns);
        writer.WriteStartArray("columns"u8);
        foreach (TrinoColumn column in columns)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, column.Name);
            writer.WriteString("type"u8, column.Type.Name);
            writer.WritePropertyName("typeSignature"u8);
            column.Type.WriteSignature(writer);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static void StartData(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartArray("data"u8);
    }

    /// <summary>
    /// Rows <paramref name="start"/>..start+count of <paramref name="batch"/>, one JSON array each. Each column's
    /// array is looked at once per call (common flat types get a direct path), so write rows in runs, not one by one.
    /// </summary>
    public static void WriteRows(Utf8JsonWriter writer, IReadOnlyList<TrinoColumn> columns, RecordBatch batch, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(batch);
        int width = columns.Count;
        TrinoColumnReader[] readers = ArrayPool<TrinoColumnReader>.Shared.Rent(width);
        try
        {
            for (int c = 0; c < width; c++)
            {
                readers[c] = new TrinoColumnReader(columns[c].Type, batch.Column(c));
            }

            for (int row = start; row < start + count; row++)
            {
                writer.WriteStartArray();
                for (int c = 0; c < width; c++)
                {
                    readers[c].Write(writer, row);
                }

                writer.WriteEndArray();
            }
        }
        finally
        {
            System.Array.Clear(readers, 0, width);
            ArrayPool<TrinoColumnReader>.Shared.Return(readers);
        }
    }

    /// <summary>One row of already-known values (answers the gateway computes itself).</summary>
    public static void WriteTextRow(Utf8JsonWriter writer, IReadOnlyList<string?> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(values);
        writer.WriteStartArray();
        foreach (string? value in values)
        {
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(value);
            }
        }

        writer.WriteEndArray();
    }

    public static void EndData(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteEndArray();
    }

    public static void WriteStats(Utf8JsonWriter writer, in TrinoQueryStats stats)
    {
        ArgumentNullException.ThrowIfNull(writer);
        bool done = stats.State is TrinoQueryStates.Finished or TrinoQueryStates.Failed;
        writer.WriteStartObject("stats"u8);
        writer.WriteString("state"u8, stats.State);
        writer.WriteBoolean("queued"u8, stats.Queued);
        writer.WriteBoolean("scheduled"u8, !stats.Queued);
        writer.WriteNumber("progressPercentage"u8, done ? 100 : 0);
        writer.WriteNumber("runningPercentage"u8, 0);
        writer.WriteNumber("nodes"u8, stats.Queued ? 0 : 1);
        writer.WriteNumber("totalSplits"u8, 0);
        writer.WriteNumber("queuedSplits"u8, 0);
        writer.WriteNumber("runningSplits"u8, 0);
        writer.WriteNumber("completedSplits"u8, 0);
        writer.WriteNumber("cpuTimeMillis"u8, 0);
        writer.WriteNumber("wallTimeMillis"u8, stats.ElapsedMillis);
        writer.WriteNumber("queuedTimeMillis"u8, stats.QueuedMillis);
        writer.WriteNumber("elapsedTimeMillis"u8, stats.ElapsedMillis);
        writer.WriteNumber("processedRows"u8, stats.ProcessedRows);
        writer.WriteNumber("processedBytes"u8, stats.ProcessedBytes);
        writer.WriteNumber("physicalInputBytes"u8, stats.ProcessedBytes);
        writer.WriteNumber("peakMemoryBytes"u8, 0);
        writer.WriteNumber("spilledBytes"u8, 0);
        writer.WriteEndObject();
    }

    public static void WriteError(Utf8JsonWriter writer, TrinoError error)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(error);
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, error.Message);
        if (error.SqlState is not null)
        {
            writer.WriteString("sqlState"u8, error.SqlState);
        }

        writer.WriteNumber("errorCode"u8, error.ErrorCode);
        writer.WriteString("errorName"u8, error.ErrorName);
        writer.WriteString("errorType"u8, error.ErrorType);

        // JDBC and the Python client read the message from failureInfo too.
        writer.WriteStartObject("failureInfo"u8);
        writer.WriteString("type"u8, "io.trino.spi.TrinoException"u8);
        writer.WriteString("message"u8, error.Message);
        writer.WriteStartArray("suppressed"u8);
        writer.WriteEndArray();
        writer.WriteStartArray("stack"u8);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static void WriteUpdate(Utf8JsonWriter writer, string updateType, long? updateCount)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartArray("warnings"u8);
        writer.WriteEndArray();
        writer.WriteString("updateType"u8, updateType);
        if (updateCount is { } count)
        {
            writer.WriteNumber("updateCount"u8, count);
        }
    }

    public static void End(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteEndObject();
    }
}
