using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Edge chained to Edge, both the real AOT binary: instance B serves DuckDB behind its Trino front door;
/// instance A has only Trino clusters pointing at B. psql and the mysql CLI against A therefore reach the
/// Trino engine adapter's Arrow path (HTTP to B, pages decoded into Arrow, encoded for PG / MySQL).
/// </summary>
public sealed class TrinoEngineChainedTests : IAsyncLifetime
{
    private EdgeProcess _b = null!;
    private EdgeProcess _a = null!;
    private int _mysqlPort;

    public async Task InitializeAsync()
    {
        int trinoPort = EdgeProcess.FreePort();
        int trinoAuthPort = EdgeProcess.FreePort();
        string verifier = Core.Security.PasswordHashing.CreateScramVerifier("s3cret");
        _b = await EdgeProcess.StartAsync($$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
              trino:
                protocol: trino
                address: 127.0.0.1:{{trinoPort}}
                auth: trust
              trinoauth:
                protocol: trino
                address: 127.0.0.1:{{trinoAuthPort}}
                auth: password
            users:
              alice:
                scram: "{{verifier}}"
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """);

        _mysqlPort = EdgeProcess.FreePort();
        try
        {
            _a = await EdgeProcess.StartAsync($$"""
                listeners:
                  pg:
                    protocol: postgres
                    address: 127.0.0.1:{PORT}
                    auth: trust
                  mysql:
                    protocol: mysql
                    address: 127.0.0.1:{{_mysqlPort}}
                    auth: trust
                clusters:
                  lake:
                    engine: trino
                    trino:
                      host: 127.0.0.1
                      port: {{trinoPort}}
                      user: edge-a
                      batch_rows: 1000
                  lakeauth:
                    engine: trino
                    trino:
                      host: 127.0.0.1
                      port: {{trinoAuthPort}}
                      user: alice
                      password: s3cret
                groups:
                  local:
                    clusters: [lake]
                  authed:
                    clusters: [lakeauth]
                routing:
                  default_group: local
                """);
        }
        catch
        {
            await _b.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task Psql_gets_typed_rows_through_the_trino_engine()
    {
        Tools.Result result = await Tools.PsqlAsync(_a, "-A", "-c",
            "SELECT 42 AS answer, 'héllo' AS s, DATE '2024-02-29' AS d, CAST(12.345 AS DECIMAL(10,3)) AS amount, true AS flag, NULL::INTEGER AS nothing, 2.5::DOUBLE AS dbl, TIMESTAMP '2001-02-03 04:05:06.789' AS ts");
        Assert.True(result.ExitCode == 0, result.All + "\nB:\n" + _b.Log);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("answer|s|d|amount|flag|nothing|dbl|ts", lines[0]);
        Assert.Equal("42|héllo|2024-02-29|12.345|t||2.5|2001-02-03 04:05:06.789", lines[1]);
    }

    [Fact]
    public async Task Psql_streams_a_result_of_many_pages()
    {
        Tools.Result result = await Tools.PsqlAsync(_a, "-A", "-t", "-c", "SELECT i, 'row ' || i AS s FROM range(200000) t(i) ORDER BY i");
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(200000, lines.Length);
        Assert.Equal("0|row 0", lines[0]);
        Assert.Equal("199999|row 199999", lines[^1]);
    }

    [Fact]
    public async Task Psql_sees_the_coordinators_error_and_the_session_goes_on()
    {
        Tools.Result result = await Tools.RunAsync("psql", ["-X", _a.LibpqConnection()], stdin: "SELECT * FROM no_such_table;\nSELECT 'still here' AS after;\n");
        Assert.Contains("no_such_table", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("still here", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mysql_cli_gets_rows_through_the_trino_engine()
    {
        Tools.Result result = await Tools.RunAsync("mysql",
            ["--protocol=TCP", "-h127.0.0.1", $"-P{_mysqlPort}", "-uedge", "--batch", "--raw", "--skip-ssl", "local", "-e",
             "select 42 as answer, 'hi' as greeting, DATE '2024-02-29' AS d, CAST(1.50 AS DECIMAL(5,2)) AS amount"]);
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["answer\tgreeting\td\tamount", "42\thi\t2024-02-29\t1.50"], lines);
    }

    [Fact]
    public async Task Basic_auth_to_the_coordinator_works()
    {
        // B's 'trinoauth' listener refuses requests without alice's password.
        Tools.Result result = await Tools.RunAsync("psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", _a.LibpqConnection(database: "authed"), "-c", "SELECT 7 * 6"]);
        Assert.True(result.ExitCode == 0, result.All + "\nB:\n" + _b.Log);
        Assert.Equal("42", result.StdOut.Trim());
    }
}
