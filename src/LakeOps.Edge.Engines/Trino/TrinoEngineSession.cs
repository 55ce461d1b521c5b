using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// A client session on a Trino cluster (Arrow path). Trino sessions live in the client: this object keeps
/// catalog, schema, session properties, prepared statements and the transaction id (<see cref="TrinoSessionState"/>)
/// and sends them with every statement, so USE, SET SESSION, PREPARE and START TRANSACTION behave as in the Trino CLI.
/// </summary>
/// <remarks>
/// Prepared statements (<see cref="PrepareAsync"/>) are described with Trino's DESCRIBE OUTPUT / DESCRIBE INPUT
/// (the statement travels in X-Trino-Prepared-Statement, nothing is kept on the coordinator) and executed with
/// their parameters inlined as typed SQL literals (<see cref="TrinoSqlLiterals"/>): one round trip per execution.
/// </remarks>
internal sealed class TrinoEngineSession : IEngineSession
{
    /// <summary>Name under which a statement is described; never added to the session's own prepared statements.</summary>
    internal const string DescribeName = "lakeops_edge_describe";

    private readonly TrinoEngine _engine;
    private readonly EngineSessionOptions _options;
    private TrinoQueryResult? _running;
    private int _closed;

    public TrinoEngineSession(TrinoEngine engine, EngineSessionOptions options)
    {
        _engine = engine;
        _options = options;
        State = new TrinoSessionState(engine.Options);
    }

    public TrinoSessionState State { get; }

    public ValueTask<IQueryResult> ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        ExecuteAsync(sql, null, cancellationToken);

    public async ValueTask<IPreparedStatement> PrepareAsync(string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        TrinoSqlLiterals.Placeholders placeholders = TrinoSqlLiterals.FindPlaceholders(sql);
        string described = TrinoSqlLiterals.WithQuestionMarks(sql, placeholders);
        var statement = new KeyValuePair<string, string>(DescribeName, described);

        var outputNames = new List<string>();
        var outputTypes = new List<string>();
        await ReadRowsAsync("DESCRIBE OUTPUT " + DescribeName, statement, 0, 4, outputNames, outputTypes, cancellationToken).ConfigureAwait(false);
        var fields = new Field[outputNames.Count];
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = TrinoColumnBuilder.FieldFor(outputNames[i], TrinoTypeSignatureParser.Parse(outputTypes[i]));
        }

        var parameterTypes = new IArrowType?[placeholders.Count];
        var trinoTypes = new string?[placeholders.Count];
        if (placeholders.Count > 0)
        {
            var positions = new List<string>();
            var inputTypes = new List<string>();
            await ReadRowsAsync("DESCRIBE INPUT " + DescribeName, statement, 0, 1, positions, inputTypes, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < inputTypes.Count; i++)
            {
                // Position p is the p-th '?'; it stands for the parameter written there.
                int index = int.TryParse(positions[i], System.Globalization.CultureInfo.InvariantCulture, out int p) && p < placeholders.Occurrences.Count
                    ? placeholders.Occurrences[p].Parameter : -1;
                if (index >= 0 && trinoTypes[index] is null && !inputTypes[i].Equals("unknown", StringComparison.OrdinalIgnoreCase))
                {
                    trinoTypes[index] = inputTypes[i];
                    parameterTypes[index] = TrinoColumnBuilder.FieldFor("p", TrinoTypeSignatureParser.Parse(inputTypes[i])).DataType;
                }
            }
        }

        return new TrinoPreparedStatement(this, sql, placeholders, parameterTypes, trinoTypes, new Schema(fields, null));
    }

    public void Cancel() => Volatile.Read(ref _running)?.Cancel();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        if (Volatile.Read(ref _running) is { } running)
        {
            await running.DisposeAsync().ConfigureAwait(false);
        }

        _engine.SessionClosed();
    }

    internal async ValueTask<IQueryResult> ExecuteAsync(string sql, KeyValuePair<string, string>? extraPrepared, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        // Statements are independent HTTP queries: an unfinished earlier result stays readable; Cancel targets the newest.
        var result = new TrinoQueryResult(_engine, this);
        Volatile.Write(ref _running, result);
        try
        {
            await result.StartAsync(_engine.CreateStatementRequest(sql, _options.User, State, extraPrepared), cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    internal void StatementEnded(TrinoQueryResult result) => Interlocked.CompareExchange(ref _running, null, result);

    /// <summary>Runs a DESCRIBE and collects two of its columns as text.</summary>
    private async ValueTask ReadRowsAsync(string sql, KeyValuePair<string, string> statement, int first, int second, List<string> firsts, List<string> seconds, CancellationToken cancellationToken)
    {
        IQueryResult result = await ExecuteAsync(sql, statement, cancellationToken).ConfigureAwait(false);
        await using (result.ConfigureAwait(false))
        {
            while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
            {
                for (int row = 0; row < batch.Length; row++)
                {
                    firsts.Add(Text(batch.Column(first), row));
                    seconds.Add(Text(batch.Column(second), row));
                }
            }
        }

        static string Text(IArrowArray array, int row) => array switch
        {
            StringArray text => text.GetString(row) ?? string.Empty,
            Int64Array number => number.GetValue(row)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
            Int32Array number => number.GetValue(row)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
            _ => string.Empty,
        };
    }
}
