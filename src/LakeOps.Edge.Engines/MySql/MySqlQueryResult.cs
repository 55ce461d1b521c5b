using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// The result of one statement on a MySQL-wire engine, streamed from the server connection into Arrow
/// batches of up to <see cref="MaxBatchRows"/> rows or about <see cref="TargetBatchBytes"/> of values.
/// The connection stays with the result until the last row (or disposal), then goes back to the session.
/// </summary>
/// <remarks>
/// A statement that returns several results (CALL, compound statements) yields its first result set;
/// OK results before it add to <see cref="RowsAffected"/>, and results after it are read and dropped
/// (an error among them is thrown by the last <see cref="ReadBatchAsync"/>).
/// </remarks>
internal sealed class MySqlQueryResult : IQueryResult
{
    public const int MaxBatchRows = 1024;
    public const int TargetBatchBytes = 1 << 20;

    // A result abandoned early is drained when little is left; beyond this it closes the connection instead.
    private const int MaxDrainPackets = 4096;

    private static readonly Schema EmptySchema = new([], null);

    private readonly MySqlEngineSession _session;
    private readonly MySqlColumnSpec[] _specs;
    private readonly MySqlColumnBuilder[] _builders;
    private readonly bool _binary;
    private MySqlServerConnection? _connection;
    private long _rowsAffected;

    private MySqlQueryResult(MySqlEngineSession session, MySqlServerConnection? connection, Schema schema, MySqlColumnSpec[] specs, bool binary, long rowsAffected)
    {
        _session = session;
        _connection = connection;
        Schema = schema;
        _specs = specs;
        _binary = binary;
        _rowsAffected = rowsAffected;
        _builders = new MySqlColumnBuilder[specs.Length];
        for (int i = 0; i < specs.Length; i++)
        {
            _builders[i] = new MySqlColumnBuilder(specs[i]);
        }
    }

    public Schema Schema { get; }

    public bool ReturnsRows => _specs.Length > 0;

    public long RowsAffected => _connection is null && _specs.Length == 0 ? _rowsAffected : -1;

    /// <summary>A finished statement without rows.</summary>
    public static MySqlQueryResult NoRows(MySqlEngineSession session, long rowsAffected) =>
        new(session, null, EmptySchema, [], binary: false, rowsAffected);

    /// <summary>
    /// Reads the response to COM_QUERY or COM_STMT_EXECUTE from <paramref name="connection"/> up to the first
    /// row. The connection is handed back to the session when the statement is done (here for results
    /// without rows or on error; at the end of the rows otherwise).
    /// </summary>
    public static async ValueTask<MySqlQueryResult> StartAsync(MySqlEngineSession session, MySqlServerConnection connection, bool binary, CancellationToken cancellationToken)
    {
        long affected = 0;
        while (true)
        {
            ReadOnlyMemory<byte> packet;
            try
            {
                packet = await connection.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                session.OnStatementFinished(connection, succeeded: false);
                throw;
            }

            byte header = packet.Span[0];
            if (header == MySqlPacketHeader.Err)
            {
                EngineException error = MySqlErrors.FromErr(connection, packet.Span);
                connection.ReleasePacket();
                session.OnStatementFinished(connection, succeeded: false);
                throw error;
            }

            if (header == MySqlPacketHeader.Ok)
            {
                MySqlOkPacket ok = MySqlOkPacket.Parse(packet.Span, connection.Capabilities);
                connection.Status = ok.Status;
                affected += (long)ok.AffectedRows;
                connection.ReleasePacket();
                if ((ok.Status & MySqlServerStatus.MoreResultsExist) == 0)
                {
                    session.OnStatementFinished(connection, succeeded: true);
                    return NoRows(session, affected);
                }

                continue;
            }

            if (header == 0xFB)
            {
                connection.ReleasePacket();
                connection.MarkBroken();
                session.OnStatementFinished(connection, succeeded: false);
                throw new EngineException("the server asked for a LOCAL INFILE, which Edge does not allow", SqlStates.FeatureNotSupported);
            }

            MySqlColumnSpec[] specs;
            try
            {
                specs = await ReadColumnsAsync(connection, packet, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                session.OnStatementFinished(connection, succeeded: false);
                throw;
            }

            var fields = new Field[specs.Length];
            for (int i = 0; i < specs.Length; i++)
            {
                fields[i] = specs[i].Field;
            }

            return new MySqlQueryResult(session, connection, new Schema(fields, null), specs, binary, affected);
        }
    }

    /// <summary>Column count packet (already read), then the definitions and, without DEPRECATE_EOF, an EOF.</summary>
    internal static async ValueTask<MySqlColumnSpec[]> ReadColumnsAsync(MySqlServerConnection connection, ReadOnlyMemory<byte> countPacket, CancellationToken cancellationToken)
    {
        ulong count = ReadColumnCount(countPacket.Span);
        connection.ReleasePacket();
        if (count is 0 or > 4096)
        {
            connection.MarkBroken();
            throw new EngineException($"cluster '{connection.ClusterName}': the server announced {count} columns", SqlStates.ProtocolViolation);
        }

        var specs = new MySqlColumnSpec[(int)count];
        for (int i = 0; i < specs.Length; i++)
        {
            ReadOnlyMemory<byte> definition = await connection.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            specs[i] = MySqlColumnSpec.Map(MySqlColumnDefinition.Parse(definition.Span));
        }

        await connection.SkipDefinitionsEofAsync(cancellationToken).ConfigureAwait(false);
        return specs;
    }

    private static ulong ReadColumnCount(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "column count");
        return reader.ReadLengthEncodedInteger("column count");
    }

    public async ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        MySqlServerConnection? connection = _connection;
        if (connection is null)
        {
            return null;
        }

        foreach (MySqlColumnBuilder builder in _builders)
        {
            builder.Reset();
        }

        int rows = 0;
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> packet = await connection.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
                if (!DecodeRow(connection, packet.Span, out MySqlServerStatus status))
                {
                    connection.ReleasePacket();
                    await FinishAsync(connection, status, cancellationToken).ConfigureAwait(false);
                    break;
                }

                rows++;
                if (rows >= MaxBatchRows || ValueBytes() >= TargetBatchBytes)
                {
                    connection.ReleasePacket();
                    break;
                }
            }
        }
        catch (MySqlProtocolException ex)
        {
            connection.MarkBroken();
            await AbandonAsync().ConfigureAwait(false);
            throw new EngineException($"cluster '{connection.ClusterName}': {ex.Message}", SqlStates.ProtocolViolation, ex);
        }
        catch
        {
            await AbandonAsync().ConfigureAwait(false);
            throw;
        }

        if (rows == 0)
        {
            return null;
        }

        var arrays = new IArrowArray[_builders.Length];
        for (int i = 0; i < arrays.Length; i++)
        {
            arrays[i] = _builders[i].Build();
        }

        return new RecordBatch(Schema, arrays, rows);
    }

    private int ValueBytes()
    {
        int total = 0;
        foreach (MySqlColumnBuilder builder in _builders)
        {
            total += builder.ValueBytes;
        }

        return total;
    }

    /// <summary>Appends a row to the builders; false (with the final status) when the packet ends the rows.</summary>
    private bool DecodeRow(MySqlServerConnection connection, ReadOnlySpan<byte> payload, out MySqlServerStatus status)
    {
        status = MySqlServerStatus.None;
        byte first = payload[0];
        if (first == MySqlPacketHeader.Err)
        {
            // The server ended the result with an error (KILL QUERY, a runtime error): the connection is idle again.
            _midResult = false;
            throw MySqlErrors.FromErr(connection, payload);
        }

        if (first == MySqlPacketHeader.Eof && MySqlPacketHeader.IsEndOfRows(payload, connection.Capabilities))
        {
            _midResult = false;
            status = connection.DeprecateEof ? MySqlOkPacket.Parse(payload, connection.Capabilities).Status : MySqlEofPacket.Parse(payload).Status;
            return false;
        }

        var reader = new MySqlPayloadReader(payload, _binary ? "binary row" : "text row");
        if (_binary)
        {
            reader.ReadByte("row header");
            int bitmapLength = (_builders.Length + 7 + 2) / 8;
            ReadOnlySpan<byte> nulls = reader.ReadBytes(bitmapLength, "null bitmap");
            for (int i = 0; i < _builders.Length; i++)
            {
                int bit = i + 2;
                if ((nulls[bit >> 3] & (1 << (bit & 7))) != 0)
                {
                    _builders[i].AppendNull();
                }
                else
                {
                    _builders[i].AppendBinary(ref reader);
                }
            }
        }
        else
        {
            for (int i = 0; i < _builders.Length; i++)
            {
                if (reader.TryReadLengthEncodedBytes(out ReadOnlySpan<byte> value, "value"))
                {
                    _builders[i].AppendText(value);
                }
                else
                {
                    _builders[i].AppendNull();
                }
            }
        }

        return true;
    }

    // True while rows of this result may still arrive from the server.
    private bool _midResult = true;

    /// <summary>After the end-of-rows packet: further results are drained, then the connection goes back.</summary>
    private async ValueTask FinishAsync(MySqlServerConnection connection, MySqlServerStatus status, CancellationToken cancellationToken)
    {
        connection.Status = status;
        bool succeeded = false;
        try
        {
            if ((status & MySqlServerStatus.MoreResultsExist) != 0)
            {
                await connection.ReadOkAsync(cancellationToken).ConfigureAwait(false);
            }

            succeeded = true;
        }
        finally
        {
            _connection = null;
            _session.OnStatementFinished(connection, succeeded);
        }
    }

    /// <summary>The result stops early (error or disposal): drain what is left, or drop the connection.</summary>
    private async ValueTask AbandonAsync()
    {
        MySqlServerConnection? connection = _connection;
        _connection = null;
        if (connection is null)
        {
            return;
        }

        if (_midResult && !connection.IsBroken)
        {
            await DrainAsync(connection).ConfigureAwait(false);
        }

        _session.OnStatementFinished(connection, succeeded: false);
    }

    private async ValueTask DrainAsync(MySqlServerConnection connection)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            for (int i = 0; i < MaxDrainPackets; i++)
            {
                ReadOnlyMemory<byte> packet = await connection.ReadPacketAsync(timeout.Token).ConfigureAwait(false);
                ReadOnlySpan<byte> span = packet.Span;
                if (span[0] == MySqlPacketHeader.Err)
                {
                    connection.ReleasePacket();
                    return;
                }

                if (MySqlPacketHeader.IsEndOfRows(span, connection.Capabilities))
                {
                    MySqlServerStatus status = connection.DeprecateEof ? MySqlOkPacket.Parse(span, connection.Capabilities).Status : MySqlEofPacket.Parse(span).Status;
                    connection.ReleasePacket();
                    connection.Status = status;
                    if ((status & MySqlServerStatus.MoreResultsExist) != 0)
                    {
                        await connection.ReadOkAsync(timeout.Token).ConfigureAwait(false);
                    }

                    return;
                }
            }

            // Too much left: closing the connection is cheaper than reading it all.
            connection.Abort();
        }
        catch (EngineException)
        {
            // A later result failed; the connection itself is idle again (or marked broken by the read).
        }
        catch (Exception ex) when (ex is OperationCanceledException or MySqlProtocolException)
        {
            connection.MarkBroken();
        }
    }

    public ValueTask DisposeAsync() => AbandonAsync();
}
