using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>
/// A prepared statement of a <see cref="MySqlEngineSession"/>. It belongs to the session, not to a server
/// connection: each execution prepares it (once, then cached) on whichever connection the session has.
/// MySQL does not infer parameter types, so <see cref="ParameterTypes"/> are all null (unknown).
/// </summary>
internal sealed class MySqlPreparedStatement : IPreparedStatement
{
    private readonly MySqlEngineSession _session;

    public MySqlPreparedStatement(MySqlEngineSession session, string sql, IArrowType?[] parameterTypes, MySqlColumnSpec[] columns)
    {
        _session = session;
        Sql = sql;
        Utf8 = Encoding.UTF8.GetBytes(sql);
        ParameterTypes = parameterTypes;
        var fields = new Field[columns.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = columns[i].Field;
        }

        ResultSchema = new Schema(fields, null);
    }

    public string Sql { get; }

    internal byte[] Utf8 { get; }

    public IReadOnlyList<IArrowType?> ParameterTypes { get; }

    public Schema ResultSchema { get; }

    public bool ReturnsRows => ResultSchema.FieldsList.Count > 0;

    internal bool IsDisposed { get; private set; }

    public ValueTask<IQueryResult> ExecuteAsync(ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken) =>
        _session.ExecutePreparedAsync(this, parameters, cancellationToken);

    /// <summary>Forgets the statement; server-side copies stay cached on their connections (they are reused or evicted there).</summary>
    public void Dispose()
    {
        if (!IsDisposed)
        {
            IsDisposed = true;
            _session.Forget(this);
        }
    }
}
