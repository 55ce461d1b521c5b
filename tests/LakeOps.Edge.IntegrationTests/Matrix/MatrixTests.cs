using System.Diagnostics;
using System.Text;
using LakeOps.Edge.IntegrationTests.Matrix.Clients;
using Xunit.Abstractions;

namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>
/// Every combination: psql, Npgsql, the mysql CLI and MySqlConnector (text protocol, and prepared:
/// binary protocol), each through Edge to DuckDB, PostgreSQL and MariaDB, run the shared query set and
/// must all see what the engines themselves return. The reference is each network engine queried
/// directly by the same clients (no Edge): those five results must agree first (otherwise the query
/// set or a normaliser is wrong, not Edge), then all fifteen combinations through Edge must equal them.
/// One test case per query; the output lists every combination with its time and native error code.
/// </summary>
[Collection(MatrixCollection.Name)]
public sealed class MatrixTests(MatrixFixture fixture, ITestOutputHelper output)
{
    private static readonly MatrixEngine[] Engines = [MatrixEngine.DuckDb, MatrixEngine.Postgres, MatrixEngine.MariaDb];

    public static TheoryData<string> QueryNames
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (MatrixQuery query in MatrixData.Queries)
            {
                names.Add(query.Name);
            }

            return names;
        }
    }

    [Theory]
    [MemberData(nameof(QueryNames))]
    public async Task Every_client_sees_the_same_result_from_every_engine(string queryName)
    {
        MatrixQuery query = MatrixData.Query(queryName);
        output.WriteLine($"query {query.Name}: {query.Sql}");

        // Direct runs (reference) and Edge runs, a few at a time.
        var direct = new List<(string Label, Task<MatrixOutcome> Outcome)>();
        foreach (IMatrixClient client in fixture.Clients)
        {
            MatrixEngine engine = client.SpeaksPostgres ? MatrixEngine.Postgres : MatrixEngine.MariaDb;
            direct.Add(($"{client.Name} -> {engine} (direct)", RunAsync(client, fixture.Direct(engine)!, query)));
        }

        var throughEdge = new List<(string Label, Task<MatrixOutcome> Outcome)>();
        foreach (IMatrixClient client in fixture.Clients)
        {
            foreach (MatrixEngine engine in Engines)
            {
                throughEdge.Add(($"{client.Name} -> Edge -> {engine}", RunAsync(client, fixture.ThroughEdge(client, engine), query)));
            }
        }

        await Task.WhenAll([.. direct.Select(d => d.Outcome), .. throughEdge.Select(e => e.Outcome)]);

        // The reference: Npgsql straight to PostgreSQL; it must report the declared column names.
        MatrixOutcome reference = await direct[1].Outcome;
        var referenceProblems = new StringBuilder();
        if (query.Shape != QueryShape.Error && reference.Columns is { } names && !names.SequenceEqual(query.Columns.Select(c => c.Name)))
        {
            referenceProblems.AppendLine($"  Npgsql -> Postgres (direct): column names [{string.Join(", ", names)}], declared [{string.Join(", ", query.Columns.Select(c => c.Name))}]");
        }

        foreach ((string label, Task<MatrixOutcome> outcome) in direct)
        {
            Report(label, await outcome, reference, query, referenceProblems);
        }

        Assert.True(referenceProblems.Length == 0,
            $"query {query.Name}: the engines' own results (no Edge) disagree; fix the query set or a normaliser, not Edge:\n{referenceProblems}");

        var mismatches = new StringBuilder();
        foreach ((string label, Task<MatrixOutcome> outcome) in throughEdge)
        {
            Report(label, await outcome, reference, query, mismatches);
        }

        Assert.True(mismatches.Length == 0, $"query {query.Name} ({query.Sql}): results through Edge differ from the engines' own:\n{mismatches}");
    }

    /// <summary>Bounds concurrent client runs: each may be a process; the machine is small.</summary>
    private static readonly SemaphoreSlim Slots = new(4, 4);

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(40);

    private static async Task<MatrixOutcome> RunAsync(IMatrixClient client, MatrixEndpoint endpoint, MatrixQuery query)
    {
        await Slots.WaitAsync();
        try
        {
            // A hung combination must not hide the others: it becomes a failed outcome. The clients have
            // their own (shorter) timeouts and end their processes and connections themselves.
            long started = Stopwatch.GetTimestamp();
            Task<MatrixOutcome> run = client.RunAsync(endpoint, query);
            if (await Task.WhenAny(run, Task.Delay(RunTimeout)) != run)
            {
                return MatrixOutcome.Failed($"no result within {RunTimeout.TotalSeconds:0} s");
            }

            MatrixOutcome outcome = await run;
            outcome.Elapsed = Stopwatch.GetElapsedTime(started);
            return query.Shape == QueryShape.Large ? outcome.Summarised() : outcome;
        }
        finally
        {
            Slots.Release();
        }
    }

    private void Report(string label, MatrixOutcome outcome, MatrixOutcome reference, MatrixQuery query, StringBuilder problems)
    {
        IReadOnlyList<MatrixColumn> columns = query.Shape == QueryShape.Error ? MatrixQuery.AfterErrorColumns : query.Columns;
        List<string> diffs = outcome.Differences(reference, columns);
        string native = outcome.NativeError is null ? "" : $" [{outcome.NativeError}]";
        output.WriteLine($"{label}: {(diffs.Count == 0 ? "same" : diffs.Count + " difference(s)")}{native} ({outcome.Elapsed.TotalMilliseconds:0} ms)");
        foreach (string diff in diffs)
        {
            output.WriteLine("    " + diff);
            problems.Append("  ").Append(label).Append(": ").AppendLine(diff);
        }
    }
}
