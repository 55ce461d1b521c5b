using Apache.Arrow;

namespace LakeOps.Edge.Protocols.MySql.Types;

/// <summary>
/// Encodes Arrow record batches as MySQL result rows: text rows (COM_QUERY) and binary rows (COM_STMT_EXECUTE).
/// Built once per result shape (column definitions pre-encoded), bound to each batch, then one row costs one
/// packet reservation sized from the values' bounds, with every value formatted straight into it: nothing is
/// allocated per row. Rows of 16 MiB or more are split into continuation packets by the packet writer.
/// Not thread-safe: one instance per result stream.
/// </summary>
public sealed class MySqlRowEncoder
{
    private readonly Schema _schema;
    private readonly MySqlValueEncoder[] _encoders;
    private readonly MySqlColumnDefinition[] _columns;
    private readonly byte[][] _encodedColumns;
    private RecordBatch? _batch;

    private MySqlRowEncoder(Schema schema, MySqlValueEncoder[] encoders, MySqlColumnDefinition[] columns)
    {
        _schema = schema;
        _encoders = encoders;
        _columns = columns;
        _encodedColumns = new byte[columns.Length][];
        for (int i = 0; i < columns.Length; i++)
        {
            _encodedColumns[i] = columns[i].Encode();
        }
    }

    public IReadOnlyList<MySqlColumnDefinition> Columns => _columns;

    /// <summary>Rows in the bound batch (0 before the first <see cref="Bind"/>).</summary>
    public int RowCount => _batch?.Length ?? 0;

    /// <summary>Creates the encoder for a result schema; <paramref name="textCharset"/> is the collation id of text columns.</summary>
    /// <exception cref="MySqlEncodingException">A column's Arrow type has no MySQL form.</exception>
    public static MySqlRowEncoder Create(Schema schema, ushort textCharset = MySqlCharacterSet.Utf8Mb4)
    {
        ArgumentNullException.ThrowIfNull(schema);
        int count = schema.FieldsList.Count;
        var encoders = new MySqlValueEncoder[count];
        var columns = new MySqlColumnDefinition[count];
        for (int i = 0; i < count; i++)
        {
            columns[i] = MySqlTypeMapper.Map(schema.FieldsList[i], textCharset, out encoders[i]);
        }

        return new MySqlRowEncoder(schema, encoders, columns);
    }

    /// <summary>Writes one ColumnDefinition41 packet per column (not the count or the EOF after them).</summary>
    public void WriteColumnDefinitions(MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (byte[] column in _encodedColumns)
        {
            writer.WritePacket(column);
        }
    }

    /// <summary>Binds the next batch; its columns must have the schema's types.</summary>
    public void Bind(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.ColumnCount != _encoders.Length)
        {
            throw new ArgumentException($"batch has {batch.ColumnCount} columns, the result has {_encoders.Length}", nameof(batch));
        }

        for (int i = 0; i < _encoders.Length; i++)
        {
            IArrowArray column = batch.Column(i);
            if (column.Data.DataType.TypeId != _schema.FieldsList[i].DataType.TypeId)
            {
                throw new ArgumentException(
                    $"batch column {i} is {column.Data.DataType.Name}, the result schema says {_schema.FieldsList[i].DataType.Name}", nameof(batch));
            }

            _encoders[i].Bind(column);
        }

        _batch = batch;
    }

    /// <summary>ProtocolText::ResultsetRow: each value a length-encoded string, NULL as 0xFB.</summary>
    public void WriteTextRow(int row, MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckRow(row);
        MySqlValueEncoder[] encoders = _encoders;
        long bound = 0;
        for (int i = 0; i < encoders.Length; i++)
        {
            bound += encoders[i].IsNull(row) ? 1 : 9 + encoders[i].MaxTextLength(row);
        }

        MySqlPayloadWriter payload = writer.BeginPacket(CheckBound(bound));
        for (int i = 0; i < encoders.Length; i++)
        {
            MySqlValueEncoder encoder = encoders[i];
            if (encoder.IsNull(row))
            {
                payload.WriteNull();
            }
            else
            {
                payload.Advance(encoder.WriteLengthEncodedText(row, payload.FreeSpan));
            }
        }

        writer.EndPacket(payload);
    }

    /// <summary>ProtocolBinary::ResultsetRow: 0x00, NULL bitmap (offset 2), then the non-NULL values in binary form.</summary>
    public void WriteBinaryRow(int row, MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CheckRow(row);
        MySqlValueEncoder[] encoders = _encoders;
        int bitmapLength = (encoders.Length + 7 + 2) / 8;
        long bound = 1 + bitmapLength;
        for (int i = 0; i < encoders.Length; i++)
        {
            if (!encoders[i].IsNull(row))
            {
                bound += encoders[i].MaxBinaryLength(row);
            }
        }

        MySqlPayloadWriter payload = writer.BeginPacket(CheckBound(bound));
        payload.WriteByte(MySqlPacketHeader.Ok);
        Span<byte> bitmap = payload.FreeSpan[..bitmapLength];
        bitmap.Clear();
        payload.Advance(bitmapLength);
        for (int i = 0; i < encoders.Length; i++)
        {
            MySqlValueEncoder encoder = encoders[i];
            if (encoder.IsNull(row))
            {
                int bit = i + 2;
                bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            }
            else
            {
                payload.Advance(encoder.WriteBinary(row, payload.FreeSpan));
            }
        }

        writer.EndPacket(payload);
    }

    private void CheckRow(int row)
    {
        if (_batch is null || (uint)row >= (uint)_batch.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, "row is outside the bound batch");
        }
    }

    private static int CheckBound(long bound)
    {
        // One row must fit a byte array; MySQL's own limit (max_allowed_packet, 1 GB) is lower still.
        if (bound > System.Array.MaxLength - MySqlPacketScanner.HeaderLength)
        {
            throw new MySqlEncodingException("result row is larger than 2 GB", MySqlErrorCode.NetPacketTooLarge);
        }

        return (int)bound;
    }
}
