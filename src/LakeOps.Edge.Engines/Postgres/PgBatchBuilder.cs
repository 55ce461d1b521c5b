using Apache.Arrow;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>Turns DataRow bodies into record batches of a fixed schema, reusing its column buffers batch after batch.</summary>
internal sealed class PgBatchBuilder
{
    /// <summary>A batch closes at this many rows...</summary>
    public const int MaxRows = 1024;

    /// <summary>...or once its rows' wire size passes this, whichever comes first.</summary>
    public const int MaxBytes = 1024 * 1024;

    private readonly PgColumnBuilder[] _columns;
    private readonly IArrowArray[] _arrays;
    private long _bytes;

    public PgBatchBuilder(PgColumnSpec[] columns)
    {
        Columns = columns;
        Schema = PgColumnSpec.SchemaOf(columns);
        _columns = new PgColumnBuilder[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            _columns[i] = new PgColumnBuilder(columns[i]);
        }

        _arrays = new IArrowArray[columns.Length];
    }

    public PgColumnSpec[] Columns { get; }

    public Schema Schema { get; }

    public int Rows { get; private set; }

    public bool IsFull => Rows >= MaxRows || _bytes >= MaxBytes;

    public void AppendRow(ReadOnlySpan<byte> body)
    {
        var row = new PgDataRowReader(body);
        if (row.ColumnCount != _columns.Length)
        {
            throw new PgProtocolException($"DataRow has {row.ColumnCount} values but RowDescription announced {_columns.Length} columns");
        }

        for (int i = 0; i < _columns.Length; i++)
        {
            ReadOnlySpan<byte> value = row.Next(out bool isNull);
            if (isNull)
            {
                _columns[i].AppendNull();
            }
            else
            {
                _columns[i].Append(value);
            }
        }

        row.End();
        Rows++;
        _bytes += body.Length;
    }

    /// <summary>The rows appended since the last build, as a batch; the builder starts over.</summary>
    public RecordBatch Build()
    {
        for (int i = 0; i < _columns.Length; i++)
        {
            _arrays[i] = _columns[i].Build();
        }

        var batch = new RecordBatch(Schema, (IArrowArray[])_arrays.Clone(), Rows);
        Reset();
        return batch;
    }

    public void Reset()
    {
        foreach (PgColumnBuilder column in _columns)
        {
            column.Reset();
        }

        Rows = 0;
        _bytes = 0;
    }
}
