using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Routing rules and same-protocol passthrough against a real PostgreSQL: a session whose decision
/// cannot depend on the statement keeps the passthrough; one with statement-level rules uses the Arrow
/// path and routes each statement, to the PostgreSQL cluster or to DuckDB.
/// </summary>
public sealed class RoutingPassthroughTests : IAsyncLifetime
{
    private PostgresTestServer _postgres = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        _edge = await EdgeProcess.StartAsync($$"""
            server:
              postgres_server_version: "16.4"
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              pg:
                engine: postgres
                postgres:
                  host: {{_postgres.Host}}
                  port: {{_postgres.Port}}
                  user: {{_postgres.User}}
                  password: "{{_postgres.Password}}"
                  database: {{_postgres.Database}}
              duck:
                engine: duckdb
                duckdb:
                  path: "{DIR}/duck.duckdb"
            groups:
              pg:
                clusters: [pg]
              duck:
                clusters: [duck]
            routing:
              default_group: pg
            routes:
              - name: psql-to-postgres
                when: {application: psql}
                group: pg
              - name: marked-for-duck
                when: {all: [{application: mixed}, {sql_regex: 'for-duck'}]}
                group: duck
            """);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    [Fact]
    public async Task A_statement_independent_session_keeps_the_passthrough()
    {
        // Passthrough: the server's own server_version (15.x), not the gateway's 16.4.
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "show server_version");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.StartsWith("15.", result.StdOut.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_route_is_answered_in_a_passthrough_session_in_order_and_in_the_transaction()
    {
        // psql sends simple Query messages; EXPLAIN ROUTE must not reach PostgreSQL as such, and the rows
        // around it (and the open transaction) must be undisturbed.
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t",
            "-c", "begin", "-c", "select 'before'", "-c", "EXPLAIN ROUTE select * from sales.orders where id = 7",
            "-c", "select 'after', current_setting('transaction_isolation') is not null", "-c", "commit");
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("before", lines);
        string explained = Assert.Single(lines, l => l.StartsWith("psql-to-postgres|", StringComparison.Ordinal));
        Assert.Contains("|pg|", explained, StringComparison.Ordinal);
        Assert.Contains("sales.orders", explained, StringComparison.Ordinal);
        Assert.Contains("after|t", lines);
        Assert.True(Array.IndexOf(lines, "before") < Array.IndexOf(lines, explained));
        Assert.True(Array.IndexOf(lines, explained) < Array.IndexOf(lines, "after|t"));
    }

    [Fact]
    public async Task A_session_with_statement_level_rules_routes_each_statement_on_the_arrow_path()
    {
        await using var connection = new NpgsqlConnection(_edge.ConnectionString(database: "pg", extra: "Application Name=mixed"));
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand("show server_version", connection);
        Assert.Equal("16.4", (await show.ExecuteScalarAsync())?.ToString());

        await using var onPostgres = new NpgsqlCommand("select current_database()", connection);
        Assert.Equal(_postgres.Database, (await onPostgres.ExecuteScalarAsync())?.ToString());

        await using var onDuck = new NpgsqlCommand("select current_database() -- for-duck", connection);
        Assert.Equal("duck", (await onDuck.ExecuteScalarAsync())?.ToString());

        Assert.Equal(_postgres.Database, (await onPostgres.ExecuteScalarAsync())?.ToString());
    }
}

/// <summary>The MySQL twin: passthrough to a real MariaDB kept for a statement-independent session.</summary>
public sealed class RoutingMySqlPassthroughTests : IAsyncLifetime
{
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _mariaDb = await MariaDbTestServer.GetAsync();
        _edge = await EdgeProcess.StartAsync($$"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{PORT}
                auth: trust
            clusters:
              maria:
                engine: mysql
                mysql:
                  host: {{_mariaDb.Host}}
                  port: {{_mariaDb.Port}}
                  user: {{_mariaDb.User}}
                  password: "{{_mariaDb.Password}}"
                  database: {{_mariaDb.Database}}
              duck:
                engine: duckdb
                duckdb:
                  path: "{DIR}/duck.duckdb"
            groups:
              maria:
                clusters: [maria]
              duck:
                clusters: [duck]
            routing:
              default_group: maria
            routes:
              - name: mixer-marked-for-duck
                when: {all: [{user: mixer}, {sql_regex: 'for-duck'}]}
                group: duck
              - name: edge-to-maria
                when: {user: edge}
                group: maria
            """);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    private async Task<string?> ScalarAsync(string user, string sql)
    {
        await using var connection = new MySqlConnector.MySqlConnection(MySqlConnectionStrings.For(_edge.Port, user, "maria"));
        await connection.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    [Fact]
    public async Task A_statement_independent_session_keeps_the_passthrough()
    {
        // Passthrough: MariaDB answers @@version itself.
        Assert.Contains("MariaDB", await ScalarAsync("edge", "select @@version"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_with_statement_level_rules_routes_each_statement_on_the_arrow_path()
    {
        await using var connection = new MySqlConnector.MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "mixer", "maria"));
        await connection.OpenAsync();
        async Task<string?> Scalar(string sql)
        {
            await using var command = new MySqlConnector.MySqlCommand(sql, connection);
            return (await command.ExecuteScalarAsync())?.ToString();
        }

        // The Arrow path: the gateway answers @@version.
        Assert.DoesNotContain("MariaDB", await Scalar("select @@version"), StringComparison.Ordinal);
        Assert.Equal("duck", await Scalar("select current_database() -- for-duck"));
        Assert.True(long.Parse(await Scalar("select count(*) from information_schema.plugins") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}
