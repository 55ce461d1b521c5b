using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Routing rules and same-protocol passthrough against a real PostgreSQL: a session whose decision
/// cannot depend on the statement keeps the passthrough; one with statement-level rules uses the Arrow
/// path and routes each statement, to the PostgreSQL cluster or to DuckDB. Two PostgreSQL clusters
/// (two databases of one server) show where a passthrough session moved after a SET.
/// </summary>
public sealed class RoutingPassthroughTests : IAsyncLifetime
{
    private const string SecondDatabase = "edge_route_two";

    private PostgresTestServer _postgres = null!;
    private EdgeProcess _edge = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        await using (var admin = new NpgsqlConnection(_postgres.ConnectionString()))
        {
            await admin.OpenAsync();
            await using var exists = new NpgsqlCommand($"select count(*) from pg_database where datname = '{SecondDatabase}'", admin);
            if ((long)(await exists.ExecuteScalarAsync())! == 0)
            {
                await using var create = new NpgsqlCommand($"create database {SecondDatabase}", admin);
                try
                {
                    await create.ExecuteNonQueryAsync();
                }
                catch (PostgresException ex) when (ex.SqlState == "42P04")
                {
                    // Created meanwhile by another fixture.
                }
            }
        }

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
                postgres: {{Configs.Engine(_postgres)}}
              pg2:
                engine: postgres
                postgres:
                  host: {{_postgres.Host}}
                  port: {{_postgres.Port}}
                  user: {{_postgres.User}}
                  password: "{{_postgres.Password}}"
                  database: {{SecondDatabase}}
              duck:
                engine: duckdb
                duckdb:
                  path: "{DIR}/duck.duckdb"
            groups:
              pg:
                clusters: [pg]
              pg2:
                clusters: [pg2]
              duck:
                clusters: [duck]
            routing:
              default_group: pg
            routes:
              - name: psql-to-postgres
                when: {application: psql}
                group: pg
              - name: reports-to-pg2
                when: {application: reports}
                group: pg2
              - name: duck-app
                when: {application: duckapp}
                group: duck
              - name: blocked-app
                when: {application: blocked}
                deny: "application 'blocked' may not query"
              - name: sales-schema
                when: {all: [{application: schema-test}, {schema: sales}]}
                group: pg2
              - name: marked-for-duck
                when: {all: [{application: mixed}, {sql_regex: 'for-duck'}]}
                group: duck
            """);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    private async Task<NpgsqlConnection> OpenAsync(string extra)
    {
        var connection = new NpgsqlConnection(_edge.ConnectionString(database: "pg", extra: extra));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private static async Task<Dictionary<string, string>> ExplainAsync(NpgsqlCommand command)
    {
        var row = new Dictionary<string, string>(StringComparer.Ordinal);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        for (int i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.GetString(i);
        }

        Assert.False(await reader.ReadAsync());
        return row;
    }

    [Fact]
    public async Task Explain_route_in_the_extended_protocol_is_answered_in_a_passthrough_session_prepared_or_not()
    {
        await using NpgsqlConnection connection = await OpenAsync("Application Name=psql");
        Assert.StartsWith("15.", await ScalarAsync(connection, "show server_version"), StringComparison.Ordinal);

        await using var unprepared = new NpgsqlCommand("EXPLAIN ROUTE select * from sales.orders where id = 7", connection);
        Dictionary<string, string> row = await ExplainAsync(unprepared);
        Assert.Equal("psql-to-postgres", row["rule"]);
        Assert.Equal("pg", row["group"]);
        Assert.Equal("sales.orders", row["tables"]);
        Assert.Equal("select", row["kind"]);

        await using var prepared = new NpgsqlCommand("EXPLAIN ROUTE delete from sales.orders", connection);
        await prepared.PrepareAsync();
        for (int i = 0; i < 3; i++)
        {
            row = await ExplainAsync(prepared);
            Assert.Equal("psql-to-postgres", row["rule"]);
            Assert.Equal("delete", row["kind"]);
        }

        // Nothing was deleted or planned on the server: the session goes on as before.
        Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));
    }

    [Fact]
    public async Task A_passthrough_session_follows_set_application_name_at_the_next_transaction()
    {
        await using NpgsqlConnection connection = await OpenAsync("Application Name=psql");
        Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));

        // Inside a transaction nothing moves; the next transaction runs on the new group's cluster.
        await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync())
        {
            await ScalarAsync(connection, "SET application_name = 'reports'");
            Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));
            await transaction.CommitAsync();
        }

        Assert.Equal(SecondDatabase, await ScalarAsync(connection, "select current_database()"));
        Assert.Equal("reports", await ScalarAsync(connection, "show application_name"));

        // edge.tags is a placeholder parameter on PostgreSQL: SET and SHOW work through the passthrough.
        await ScalarAsync(connection, "SET edge.tags = 'etl,nightly'");
        Assert.Equal("etl,nightly", await ScalarAsync(connection, "show edge.tags"));
        Assert.Equal(SecondDatabase, await ScalarAsync(connection, "select current_database()"));

        // A group the passthrough cannot serve: a clear error; SET/SHOW still work, so the client can go back.
        await ScalarAsync(connection, "SET application_name = 'duckapp'");
        PostgresException duck = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, "select current_database()"));
        Assert.Equal("0A000", duck.SqlState);
        Assert.Contains("group 'duck'", duck.MessageText, StringComparison.Ordinal);
        Assert.Contains("not PostgreSQL", duck.MessageText, StringComparison.Ordinal);
        Assert.Equal("duckapp", await ScalarAsync(connection, "show application_name"));

        await ScalarAsync(connection, "SET application_name = 'blocked'");
        PostgresException denied = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, "select 1"));
        Assert.Equal("42501", denied.SqlState);
        Assert.Contains("denied by routing rule 'blocked-app'", denied.MessageText, StringComparison.Ordinal);

        await ScalarAsync(connection, "SET application_name = 'mixed'");
        PostgresException perStatement = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, "select 1"));
        Assert.Contains("depends on each statement", perStatement.MessageText, StringComparison.Ordinal);

        await ScalarAsync(connection, "RESET application_name");
        Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));
    }

    [Fact]
    public async Task The_routing_schema_is_the_first_search_path_element_at_startup_and_after_set()
    {
        await using NpgsqlConnection connection = await OpenAsync("Application Name=schema-test");
        Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));

        await ScalarAsync(connection, "SET search_path = sales, public");
        Assert.Equal(SecondDatabase, await ScalarAsync(connection, "select current_database()"));
        await using (var explain = new NpgsqlCommand("EXPLAIN ROUTE select * from orders", connection))
        {
            Assert.Equal("sales-schema", (await ExplainAsync(explain))["rule"]);
        }

        await ScalarAsync(connection, "RESET search_path");
        Assert.Equal(_postgres.Database, await ScalarAsync(connection, "select current_database()"));

        await using NpgsqlConnection startup = await OpenAsync("Application Name=schema-test;Options=-c search_path=sales");
        Assert.Equal(SecondDatabase, await ScalarAsync(startup, "select current_database()"));
    }

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
                mysql: {{Configs.Engine(_mariaDb)}}
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

    private static async Task<Dictionary<string, string>> ExplainAsync(MySqlConnector.MySqlCommand command)
    {
        var row = new Dictionary<string, string>(StringComparer.Ordinal);
        await using MySqlConnector.MySqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        for (int i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.GetString(i);
        }

        Assert.False(await reader.ReadAsync());
        return row;
    }

    [Fact]
    public async Task Explain_route_is_answered_in_a_passthrough_session_as_a_query_and_as_a_prepared_statement()
    {
        await using var connection = new MySqlConnector.MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria"));
        await connection.OpenAsync();
        await using (var version = new MySqlConnector.MySqlCommand("select @@version", connection))
        {
            Assert.Contains("MariaDB", (await version.ExecuteScalarAsync())?.ToString(), StringComparison.Ordinal);
        }

        // A table name with a quote and a backslash: the answer's literals must carry both unchanged.
        const string Sql = "EXPLAIN ROUTE select * from sales.`it's\\here` where id = 1";
        await using var query = new MySqlConnector.MySqlCommand(Sql, connection);
        Dictionary<string, string> row = await ExplainAsync(query);
        Assert.Equal("edge-to-maria", row["rule"]);
        Assert.Equal("maria", row["group"]);
        Assert.Equal("user in [edge]", row["conditions_held"]);
        Assert.Contains("it's\\here", row["tables"], StringComparison.Ordinal);
        Assert.Contains("'maria'", row["reason"], StringComparison.Ordinal);

        await using var prepared = new MySqlConnector.MySqlCommand(Sql, connection);
        await prepared.PrepareAsync();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(row, await ExplainAsync(prepared));
        }

        Tools.Result cli = await Tools.RunAsync("mysql",
            ["--protocol=TCP", "-h127.0.0.1", $"-P{_edge.Port}", "-uedge", "--batch", "--raw", "--skip-ssl", "-A", "maria",
             "-e", "select 'before'; EXPLAIN ROUTE select 1; select 'after'"]);
        Assert.True(cli.ExitCode == 0, cli.All);
        string[] lines = cli.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["before", "before"], lines[..2]);
        Assert.StartsWith("rule\tgroup\tdenied\treason", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("edge-to-maria\tmaria\t\t", lines[3], StringComparison.Ordinal);
        Assert.Equal(["after", "after"], lines[4..]);
    }

    [Fact]
    public async Task Set_edge_tags_in_a_passthrough_session_is_answered_by_edge_and_does_not_pin_the_connection()
    {
        await using var first = new MySqlConnector.MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria", "Allow User Variables=true"));
        await first.OpenAsync();
        await using var second = new MySqlConnector.MySqlConnection(MySqlConnectionStrings.For(_edge.Port, "edge", "maria"));
        await second.OpenAsync();
        async Task<string?> Scalar(MySqlConnector.MySqlConnection connection, string sql)
        {
            await using var command = new MySqlConnector.MySqlCommand(sql, connection);
            return (await command.ExecuteScalarAsync())?.ToString();
        }

        string? server = await Scalar(first, "select connection_id()");
        await Scalar(first, "SET @edge_tags = 'etl'");

        // A user variable on the server would pin that connection to the first session; the pool hands
        // its most recently returned connection out first, so the second session gets the same one.
        Assert.Equal(server, await Scalar(second, "select connection_id()"));
        Assert.Contains("MariaDB", await Scalar(first, "select @@version"), StringComparison.Ordinal);
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
