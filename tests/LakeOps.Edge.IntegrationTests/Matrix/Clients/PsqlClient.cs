using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>
/// psql (libpq, simple query protocol), unaligned and tuples-only, with separators that no value
/// contains (ASCII unit / record separators) and a NULL marker, so every cell can be recovered.
/// </summary>
public sealed partial class PsqlClient : IMatrixClient
{
    private const string FieldSeparator = "\u001f";
    private const string RecordSeparator = "\u001e";

    public string Name => "psql";

    public bool SpeaksPostgres => true;

    public async Task<MatrixOutcome> RunAsync(MatrixEndpoint endpoint, MatrixQuery query)
    {
        try
        {
            return await RunCoreAsync(endpoint, query);
        }
        catch (TimeoutException ex)
        {
            return MatrixOutcome.Failed(ex.Message);
        }
    }

    private static async Task<MatrixOutcome> RunCoreAsync(MatrixEndpoint endpoint, MatrixQuery query)
    {
        string connection = string.Create(CultureInfo.InvariantCulture, $"host={endpoint.Host} port={endpoint.Port} user={endpoint.User} dbname={endpoint.Database}");
        List<string> arguments =
        [
            "-X", "-A", "-t", "-q", "-F", FieldSeparator, "-R", RecordSeparator, "-P", "null=" + Canonical.Null, "-P", "footer=off",
            "-v", "VERBOSITY=verbose", "-d", connection,
        ];
        var environment = new Dictionary<string, string> { ["PGCONNECT_TIMEOUT"] = "10", ["PSQLRC"] = "/dev/null", ["PGPASSWORD"] = endpoint.Password };

        if (query.Shape != QueryShape.Error)
        {
            CliProcess.Result result = await CliProcess.RunAsync("psql", [.. arguments, "-v", "ON_ERROR_STOP=1", "-c", query.Sql], environment, stdin: null);
            return result.ExitCode != 0
                ? MatrixOutcome.Failed($"psql exit {result.ExitCode}: {result.StdErr.Trim()}")
                : MatrixOutcome.Ok(null, ParseRows(result.StdOut, query.Columns));
        }

        // Without ON_ERROR_STOP psql reports the error and goes on with the next statement on the same connection.
        CliProcess.Result script = await CliProcess.RunAsync("psql", arguments, environment, stdin: query.Sql + ";\n" + MatrixQuery.AfterErrorSql + ";\n");
        Match error = ServerError().Match(script.StdErr);
        if (!error.Success)
        {
            return MatrixOutcome.Failed($"psql exit {script.ExitCode}, no server error: {script.StdErr.Trim()}");
        }

        List<string[]> rows = [[MatrixOutcome.ErrorCell(error.Groups[2].Value, query.ErrorMentions!, native: true)], .. ParseRows(script.StdOut, MatrixQuery.AfterErrorColumns)];
        return MatrixOutcome.Ok(null, rows, "SQLSTATE " + error.Groups[1].Value);
    }

    private static List<string[]> ParseRows(byte[] stdout, IReadOnlyList<MatrixColumn> columns)
    {
        string text = Encoding.UTF8.GetString(stdout);
        var rows = new List<string[]>();
        if (text.Length == 0)
        {
            return rows;
        }

        // Records are separated by RS; the last one ends with a newline.
        text = text.EndsWith('\n') ? text[..^1] : text;
        foreach (string record in text.Split(RecordSeparator))
        {
            string[] fields = record.Split(FieldSeparator);
            var row = new string[fields.Length];
            for (int i = 0; i < fields.Length; i++)
            {
                row[i] = fields[i] == Canonical.Null ? Canonical.Null
                    : i < columns.Count ? Canonical.FromText(columns[i].Kind, fields[i])
                    : "!extra " + fields[i];
            }

            rows.Add(row);
        }

        return rows;
    }

    [GeneratedRegex(@"ERROR:\s+([0-9A-Z]{5}): ([^\n]*)")]
    private static partial Regex ServerError();
}
