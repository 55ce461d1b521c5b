using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// A statement described by the coordinator; each execution sends it with the parameters inlined as
/// literals of the types DESCRIBE INPUT reported (nothing to release on the coordinator).
/// </summary>
internal sealed class TrinoPreparedStatement : IPreparedStatement
{
    private readonly TrinoEngineSession _session;
    private readonly TrinoSqlLiterals.Placeholders _placeholders;
    private readonly string?[] _trinoTypes;

    public TrinoPreparedStatement(TrinoEngineSession session, string sql, TrinoSqlLiterals.Placeholders placeholders, IArrowType?[] parameterTypes, string?[] trinoTypes, Schema resultSchema)
    {
        _session = session;
        _placeholders = placeholders;
        _trinoTypes = trinoTypes;
        Sql = sql;
        ParameterTypes = parameterTypes;
        ResultSchema = resultSchema;
    }

    public string Sql { get; }

    public IReadOnlyList<IArrowType?> ParameterTypes { get; }

    public Schema ResultSchema { get; }

    public bool ReturnsRows => ResultSchema.FieldsList.Count > 0;

    public ValueTask<IQueryResult> ExecuteAsync(ReadOnlyMemory<ParameterValue> parameters, CancellationToken cancellationToken)
    {
        if (parameters.Length < _placeholders.Count)
        {
            throw new EngineException($"the statement needs {_placeholders.Count} parameters, {parameters.Length} were given", SqlStates.ProtocolViolation);
        }

        string sql = _placeholders.Count == 0 ? Sql : TrinoSqlLiterals.Inline(Sql, _placeholders, parameters.Span, _trinoTypes);
        return _session.ExecuteAsync(sql, cancellationToken);
    }

    public void Dispose()
    {
        // Trino prepared statements live in the client; there is nothing to deallocate.
    }
}
