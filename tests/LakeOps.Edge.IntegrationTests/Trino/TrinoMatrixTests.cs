using System.Text;
using LakeOps.Edge.IntegrationTests.Matrix;
using LakeOps.Edge.IntegrationTests.Matrix.Clients;
using Xunit.Abstractions;

namespace LakeOps.Edge.IntegrationTests.Trino;

/// <summary>
/// The shared query set through Edge's Trino front door with the npm trino-client and presto-client, to
/// DuckDB, PostgreSQL and MariaDB (the catalog names the group), against the same reference as the other
/// matrix clients: Npgsql straight to PostgreSQL.
/// </summary>
[Collection(MatrixCollection.Name)]
public sealed class TrinoMatrixTests(MatrixFixture fixture, ITestOutputHelper output)
{
    private static readonly MatrixEngine[] Engines = [MatrixEngine.DuckDb, MatrixEngine.Postgres, MatrixEngine.MariaDb];
    private static readonly IMatrixClient[] Clients = [new TrinoMatrixClient("trino-client"), new TrinoMatrixClient("presto-client")];

    public static TheoryData<string> QueryNames => MatrixTests.QueryNames;

    [Theory]
    [MemberData(nameof(QueryNames))]
    public async Task Trino_clients_see_what_the_engines_return(string queryName)
    {
        Assert.True(TrinoMatrixClient.Installed, "npm clients missing: ./build.sh test installs them into tests/LakeOps.Edge.IntegrationTests/Trino/node");
        MatrixQuery query = MatrixData.Query(queryName);
        MatrixOutcome reference = await new NpgsqlClient().RunAsync(fixture.Direct(MatrixEngine.Postgres)!, query);
        if (query.Shape == QueryShape.Large)
        {
            reference = reference.Summarised();
        }

        var runs = new List<(string Label, Task<MatrixOutcome> Outcome)>();
        foreach (IMatrixClient client in Clients)
        {
            foreach (MatrixEngine engine in Engines)
            {
                var endpoint = new MatrixEndpoint("127.0.0.1", fixture.TrinoPort, MatrixFixture.EdgeUser, "", MatrixData.GroupOf(engine));
                runs.Add(($"{client.Name} -> Edge (trino) -> {engine}", client.RunAsync(endpoint, query)));
            }
        }

        var mismatches = new StringBuilder();
        IReadOnlyList<MatrixColumn> columns = query.Shape == QueryShape.Error ? MatrixQuery.AfterErrorColumns : query.Columns;
        foreach ((string label, Task<MatrixOutcome> run) in runs)
        {
            MatrixOutcome outcome = await run;
            if (query.Shape == QueryShape.Large)
            {
                outcome = outcome.Summarised();
            }

            List<string> diffs = outcome.Differences(reference, columns);
            output.WriteLine($"{label}: {(diffs.Count == 0 ? "same" : diffs.Count + " difference(s)")}");
            foreach (string diff in diffs)
            {
                output.WriteLine("    " + diff);
                mismatches.Append("  ").Append(label).Append(": ").AppendLine(diff);
            }
        }

        Assert.True(mismatches.Length == 0, $"query {query.Name} ({query.Sql}): Trino clients through Edge differ from PostgreSQL's own result:\n{mismatches}");
    }
}
