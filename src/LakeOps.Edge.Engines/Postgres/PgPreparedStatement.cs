using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// A statement prepared on the PostgreSQL server under a pool-wide unique name. The session parses it
/// again (with the parameter types first reported) on any server connection that has not seen it.
/// </summary>
internal sealed class PgPreparedStatement : IPreparedStatement
{
    private readonly PgEngineSession _session;
    private bool _disposed;

    public PgPreparedStatement(PgEngineSession session, string name, string sql, int[] parameterOids, PgColumnSpec[] columns, bool returnsRows, PgStatementEffect effect)
    {
        _session = session;
        Name = name;
        Sql = sql;
        ParameterOids = parameterOids;
        Columns = columns;
        ReturnsRows = returnsRows;
        Effect = effect;
        ResultFormats = PgEngineSession.ResultFormats(columns);
        ResultSchema = PgColumnSpec.SchemaOf(columns);
        var types = new IArrowType?[parameterOids.Length];
        for (int i = 0; i < types.Length; i++)
        {
            types[i] = PgColumnSpec.ParameterType(parameterOids[i]);
        }

        ParameterTypes = types;
    }

    public string Name { get; }

    public string Sql { get; }

    public int[] ParameterOids { get; }

    public PgColumnSpec[] Columns { get; }

    public short[] ResultFormats { get; }

    public PgStatementEffect Effect { get; }

    public IReadOnlyList<IArrowType?> ParameterTypes { get; }

    public Schema ResultSchema { get; }

    public bool ReturnsRows { get; }

    public ValueTask<IQueryResult> ExecuteAsync(ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _session.ExecutePreparedAsync(this, parameters, cancellationToken);
    }

    /// <summary>
    /// Forgets the statement. Copies already parsed on pooled server connections stay until those close or
    /// Edge evicts its statements there (<see cref="PgEngineSession.MaxPreparedPerConnection"/>).
    /// </summary>
    public void Dispose() => _disposed = true;
}
