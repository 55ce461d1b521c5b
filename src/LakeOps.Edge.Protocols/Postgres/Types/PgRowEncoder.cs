using System.Buffers;
using System.Buffers.Binary;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>One RowDescription field as the result encoder sends it.</summary>
/// <param name="Name">Column name.</param>
/// <param name="TypeOid">PostgreSQL type OID.</param>
/// <param name="TypeSize">typlen (-1 variable).</param>
/// <param name="TypeModifier">atttypmod (-1 none).</param>
/// <param name="FormatCode">0 text, 1 binary.</param>
public readonly record struct PgColumn(string Name, int TypeOid, short TypeSize, int TypeModifier, short FormatCode);

/// <summary>
/// Encodes Arrow record batches as PostgreSQL DataRow messages. Built once per result (the column
/// encoders are chosen here, from the schema), bound to each batch, then <see cref="WriteDataRow"/> per
/// row allocates nothing: each row's size is bounded first, one span is taken from the output, and every
/// value is formatted straight into it with the lengths backfilled.
/// Not thread-safe: one instance per result stream.
/// </summary>
public sealed class PgRowEncoder
{
    private const short TextFormat = 0;
    private const short BinaryFormat = 1;

    private readonly Schema _schema;
    private readonly ValueEncoder[] _encoders;
    private readonly bool[] _binary;
    private readonly PgColumn[] _columns;
    private RecordBatch? _batch;

    private PgRowEncoder(Schema schema, ValueEncoder[] encoders, bool[] binary, PgColumn[] columns)
    {
        _schema = schema;
        _encoders = encoders;
        _binary = binary;
        _columns = columns;
    }

    /// <summary>The RowDescription fields, in column order.</summary>
    public IReadOnlyList<PgColumn> Columns => _columns;

    /// <summary>Rows in the bound batch (0 before the first <see cref="Bind"/>).</summary>
    public int RowCount => _batch?.Length ?? 0;

    /// <summary>
    /// Creates the encoder for a result. <paramref name="resultFormats"/> follows Bind: none means all
    /// text, one applies to every column, otherwise one per column. Codes other than 0/1 or a count that
    /// fits neither rule throw <see cref="PgResultFormatException"/> (a protocol violation, 08P01).
    /// An Arrow type with no PostgreSQL form throws <see cref="PgEncodingException"/>.
    /// </summary>
    /// <param name="schema">The result schema.</param>
    /// <param name="resultFormats">Format codes as in Bind: none (all text), one for all, or one per column.</param>
    /// <param name="timeZone">The session TimeZone for timestamptz text output; null means UTC.</param>
    public static PgRowEncoder Create(Schema schema, ReadOnlySpan<short> resultFormats, TimeZoneInfo? timeZone = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        int count = schema.FieldsList.Count;
        if (resultFormats.Length > 1 && resultFormats.Length != count)
        {
            throw new PgResultFormatException(
                $"bind message has {resultFormats.Length} result formats but query has {count} columns");
        }

        var encoders = new ValueEncoder[count];
        var binary = new bool[count];
        var columns = new PgColumn[count];
        for (int i = 0; i < count; i++)
        {
            short format = resultFormats.Length == 0 ? TextFormat : resultFormats.Length == 1 ? resultFormats[0] : resultFormats[i];
            if (format is not TextFormat and not BinaryFormat)
            {
                throw new PgResultFormatException($"unsupported format code: {format}");
            }

            Field field = schema.FieldsList[i];
            ValueEncoder encoder = ValueEncoderFactory.Create(field, timeZone);
            encoders[i] = encoder;
            binary[i] = format == BinaryFormat;
            columns[i] = new PgColumn(field.Name, encoder.Type.Oid, encoder.Type.Size, encoder.TypeModifier, format);
        }

        return new PgRowEncoder(schema, encoders, binary, columns);
    }

    /// <summary>Binds the next batch of the result; its columns must have the schema's types.</summary>
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

    /// <summary>
    /// Writes DataRow for row <paramref name="row"/> of the bound batch: 'D', int32 length, int16 column
    /// count, then per column int32 length (-1 for NULL) and the value in the column's format.
    /// </summary>
    public void WriteDataRow(int row, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_batch is null || (uint)row >= (uint)_batch.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, "row is outside the bound batch");
        }

        ValueEncoder[] encoders = _encoders;
        bool[] binary = _binary;
        long bound = 7;
        for (int i = 0; i < encoders.Length; i++)
        {
            ValueEncoder encoder = encoders[i];
            bound += 4;
            if (!encoder.IsNull(row))
            {
                bound += binary[i] ? encoder.MaxBinaryLength(row) : encoder.MaxTextLength(row);
            }
        }

        if (bound > int.MaxValue)
        {
            throw new PgEncodingException(SqlStates.ProgramLimitExceeded, "row is too large for one DataRow message");
        }

        Span<byte> span = output.GetSpan((int)bound);
        span[0] = (byte)'D';
        BinaryPrimitives.WriteInt16BigEndian(span[5..], (short)encoders.Length);
        int pos = 7;
        for (int i = 0; i < encoders.Length; i++)
        {
            ValueEncoder encoder = encoders[i];
            if (encoder.IsNull(row))
            {
                BinaryPrimitives.WriteInt32BigEndian(span[pos..], -1);
                pos += 4;
                continue;
            }

            Span<byte> value = span[(pos + 4)..];
            int written = binary[i] ? encoder.WriteBinary(row, value) : encoder.WriteText(row, value);
            BinaryPrimitives.WriteInt32BigEndian(span[pos..], written);
            pos += 4 + written;
        }

        // The length counts itself but not the message type byte.
        BinaryPrimitives.WriteInt32BigEndian(span[1..], pos - 1);
        output.Advance(pos);
    }
}
