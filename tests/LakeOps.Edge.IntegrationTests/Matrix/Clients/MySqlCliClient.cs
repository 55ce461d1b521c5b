using System.Globalization;
using System.Text.RegularExpressions;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>
/// The mysql CLI (MariaDB 10.11's client) in batch mode: --raw (no escaping), no column names, utf8mb4.
/// Rows end with a newline, fields are separated by tabs, NULL prints as NULL and binary columns print
/// as raw bytes, so stdout is split as bytes. (--binary-as-hex is not used: it prints NULL blobs as "0x",
/// the same as empty ones.)
/// </summary>
public sealed partial class MySqlCliClient : IMatrixClient
{
    public string Name => "mysql CLI";

    public bool SpeaksPostgres => false;

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
        List<string> arguments =
        [
            "--no-defaults", "--protocol=TCP", "-h", endpoint.Host, "-P", endpoint.Port.ToString(CultureInfo.InvariantCulture),
            "-u", endpoint.User, "-D", endpoint.Database, "--batch", "--raw", "--skip-column-names",
            "--default-character-set=utf8mb4", "--skip-ssl", "--connect-timeout=10",
        ];
        if (endpoint.Password.Length > 0)
        {
            arguments.Add("-p" + endpoint.Password);
        }

        if (query.Shape != QueryShape.Error)
        {
            CliProcess.Result result = await CliProcess.RunAsync("mariadb", [.. arguments, "-e", query.Sql], null, stdin: null);
            return result.ExitCode != 0
                ? MatrixOutcome.Failed($"mysql exit {result.ExitCode}: {result.StdErr.Trim()}")
                : MatrixOutcome.Ok(null, ParseRows(result.StdOut, query.Columns));
        }

        // --force: report the error and go on with the next statement on the same connection.
        CliProcess.Result script = await CliProcess.RunAsync("mariadb", [.. arguments, "--force"], null, stdin: query.Sql + ";\n" + MatrixQuery.AfterErrorSql + ";\n");
        Match error = ServerError().Match(script.StdErr);
        if (!error.Success)
        {
            return MatrixOutcome.Failed($"mysql exit {script.ExitCode}, no server error: {script.StdErr.Trim()}");
        }

        List<string[]> rows = [[MatrixOutcome.ErrorCell(error.Groups[3].Value, query.ErrorMentions!, native: true)], .. ParseRows(script.StdOut, MatrixQuery.AfterErrorColumns)];
        return MatrixOutcome.Ok(null, rows, $"ERROR {error.Groups[1].Value} ({error.Groups[2].Value})");
    }

    private static List<string[]> ParseRows(byte[] stdout, IReadOnlyList<MatrixColumn> columns)
    {
        var rows = new List<string[]>();
        ReadOnlySpan<byte> rest = stdout;
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];

            var row = new List<string>(columns.Count);
            while (true)
            {
                int tab = line.IndexOf((byte)'\t');
                ReadOnlySpan<byte> field = tab < 0 ? line : line[..tab];
                int i = row.Count;
                row.Add(field.SequenceEqual("NULL"u8) ? Canonical.Null
                    : i < columns.Count ? Canonical.FromRawBytes(columns[i].Kind, field)
                    : "!extra " + Convert.ToHexStringLower(field));
                if (tab < 0)
                {
                    break;
                }

                line = line[(tab + 1)..];
            }

            rows.Add([.. row]);
        }

        return rows;
    }

    [GeneratedRegex(@"ERROR ([0-9]+) \(([0-9A-Z]{5})\)(?: at line [0-9]+)?: ([^\n]*)")]
    private static partial Regex ServerError();
}
