using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Matrix;
using LakeOps.Edge.IntegrationTests.Matrix.Clients;
using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests.Trino;

/// <summary>
/// The npm trino-client or presto-client (run by Trino/trino-client-runner.js) as a matrix client: the catalog
/// names the group, Trino's JSON values become canonical text by column kind (decimals arrive as strings,
/// varbinary as base64, bigint extremes as quoted digits because the runner parses integers losslessly).
/// </summary>
public sealed class TrinoMatrixClient(string package) : IMatrixClient
{
    public static readonly string RunnerDirectory = Path.Combine(EdgeProcess.RepositoryRoot, "tests", "LakeOps.Edge.IntegrationTests", "Trino");

    public static bool Installed => Directory.Exists(Path.Combine(RunnerDirectory, "node", "node_modules", "trino-client"));

    public string Name => package + " (npm)";

    public bool SpeaksPostgres => false;

    public async Task<MatrixOutcome> RunAsync(MatrixEndpoint endpoint, MatrixQuery query)
    {
        JsonElement result = await RunRawAsync(package, $"http://{endpoint.Host}:{endpoint.Port}", endpoint.User, endpoint.Database, query.Sql);
        JsonElement error = result.GetProperty("error");
        if (query.Shape == QueryShape.Error)
        {
            if (error.ValueKind == JsonValueKind.Null)
            {
                return MatrixOutcome.Failed("expected an error, got rows");
            }

            string message = error.GetProperty("message").GetString() ?? "";
            bool native = error.TryGetProperty("errorName", out JsonElement name) && name.ValueKind == JsonValueKind.String && name.GetString() != "CLIENT";
            JsonElement after = await RunRawAsync(package, $"http://{endpoint.Host}:{endpoint.Port}", endpoint.User, endpoint.Database, MatrixQuery.AfterErrorSql);
            List<string[]> rows = [[MatrixOutcome.ErrorCell(message, query.ErrorMentions!, native)], .. Rows(after, MatrixQuery.AfterErrorColumns)];
            return MatrixOutcome.Ok(null, rows, native ? name.GetString() : null);
        }

        if (error.ValueKind != JsonValueKind.Null)
        {
            return MatrixOutcome.Failed($"{package}: {error.GetRawText()}");
        }

        List<string>? columns = result.GetProperty("columns").ValueKind == JsonValueKind.Array
            ? [.. result.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)]
            : null;
        return MatrixOutcome.Ok(columns, Rows(result, query.Columns));
    }

    public static async Task<JsonElement> RunRawAsync(string package, string server, string user, string catalog, string sql, string password = "-")
    {
        var info = new ProcessStartInfo("node", [Path.Combine(RunnerDirectory, "trino-client-runner.js"), package == "presto-client" ? "presto" : "trino", server, user, password, catalog, sql])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{package} runner did not finish within 60 s");
        }

        string text = await output;
        if (text.Length == 0)
        {
            throw new InvalidOperationException($"{package} runner printed nothing: {await errors}");
        }

        using JsonDocument document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static List<string[]> Rows(JsonElement result, IReadOnlyList<MatrixColumn> columns)
    {
        var rows = new List<string[]>();
        foreach (JsonElement row in result.GetProperty("rows").EnumerateArray())
        {
            var cells = new string[row.GetArrayLength()];
            int i = 0;
            foreach (JsonElement cell in row.EnumerateArray())
            {
                cells[i] = i < columns.Count ? Cell(columns[i].Kind, cell) : "!extra " + cell.GetRawText();
                i++;
            }

            rows.Add(cells);
        }

        return rows;
    }

    private static string Cell(ColumnKind kind, JsonElement cell)
    {
        if (cell.ValueKind == JsonValueKind.Null)
        {
            return Canonical.Null;
        }

        string text = cell.ValueKind == JsonValueKind.String ? cell.GetString()! : cell.GetRawText();
        return kind switch
        {
            ColumnKind.Double when cell.ValueKind == JsonValueKind.Number => cell.GetDouble().ToString("R", CultureInfo.InvariantCulture),
            ColumnKind.Bytes => cell.ValueKind == JsonValueKind.String ? Convert.ToHexStringLower(Convert.FromBase64String(text)) : "!Bytes? " + text,
            _ => Canonical.FromText(kind, text),
        };
    }
}
