using System.Globalization;
using LakeOps.Edge.IntegrationTests.Support;
using MySqlConnector;
using Npgsql;
using Com = LakeOps.Edge.Protocols.MySql.MySqlCommand;
using Wire = LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// Routing rules in real sessions: four DuckDB clusters, each on its own file, so
/// <c>select current_database()</c> names the cluster (group) that ran the statement.
/// </summary>
public sealed class RoutingTests : IAsyncLifetime
{
    private const string Config = """
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:{PORT}
            auth: trust
          my:
            protocol: mysql
            address: 127.0.0.1:{MYPORT}
            auth: trust
        clusters:
          alpha:
            engine: duckdb
            duckdb:
              path: "{DIR}/alpha.duckdb"
          beta:
            engine: duckdb
            duckdb:
              path: "{DIR}/beta.duckdb"
          gamma:
            engine: duckdb
            duckdb:
              path: "{DIR}/gamma.duckdb"
          delta:
            engine: duckdb
            duckdb:
              path: "{DIR}/delta.duckdb"
        groups:
          alpha:
            clusters: [alpha]
          beta:
            clusters: [beta]
          gamma:
            clusters: [gamma]
          delta:
            clusters: [delta]
        routing:
          default_group: alpha
        routes:
          - name: no-forbidden-drops
            when: {sql_regex: '(?i)drop\s+table\s+forbidden'}
            deny: "dropping forbidden is not allowed"
          - name: locked-out
            when: {user: mallory}
            deny: "mallory is locked out"
          - name: nightly
            when: {tags: nightly}
            group: delta
          - name: psql
            when: {application: psql}
            group: beta
          - name: mysql-reports
            when: {protocol: mysql, database: reports}
            group: beta
          - name: mysql-clients
            when: {protocol: mysql}
            group: gamma
          - name: main-schema
            when: {all: [{application: schema-test}, {schema: main}]}
            group: gamma
          - name: ramp
            when: {application: ramp}
            split: {alpha: 90, beta: 10}
        """;

    private EdgeProcess _edge = null!;
    private int _mysqlPort;

    public async Task InitializeAsync()
    {
        _mysqlPort = EdgeProcess.FreePort();
        _edge = await EdgeProcess.StartAsync(
            Config.Replace("{MYPORT}", _mysqlPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
            runArguments: ["--log-level", "debug"]);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    private async Task<NpgsqlConnection> PgAsync(string extra = "", string user = "edge")
    {
        var connection = new NpgsqlConnection(_edge.ConnectionString(user: user, extra: extra));
        await connection.OpenAsync();
        return connection;
    }

    private async Task<MySqlConnection> MySqlAsync(string user = "edge")
    {
        var connection = new MySqlConnection(MySqlConnectionStrings.For(_mysqlPort, user, "alpha", "Allow User Variables=true"));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private static async Task<string?> ScalarAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlConnector.MySqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private Task<Tools.Result> MysqlCliAsync(string sql) =>
        Tools.RunAsync("mysql", ["--protocol=TCP", "-h127.0.0.1", $"-P{_mysqlPort}", "-uedge", "--batch", "--raw", "--skip-ssl", "-A", "alpha", "-e", sql]);

    [Fact]
    public async Task A_reload_applies_new_routes_to_the_next_statement_of_an_open_session()
    {
        // Every session here routes per statement (the config has a sql_regex rule), so the reload's
        // routes decide the very next statement of a connection opened before it.
        await using NpgsqlConnection connection = await PgAsync(extra: "Application Name=reload-test");
        Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));

        string reloaded = Config.Replace("{MYPORT}", _mysqlPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("\nroutes:\n", "\nroutes:\n  - name: reloaded\n    when: {application: reload-test}\n    group: gamma\n", StringComparison.Ordinal);
        Assert.Contains("name: reloaded", reloaded, StringComparison.Ordinal);
        await _edge.ReloadAsync(reloaded);

        Assert.Equal("gamma", await ScalarAsync(connection, "select current_database()"));
        await using NpgsqlConnection fresh = await PgAsync(extra: "Application Name=reload-test");
        Assert.Equal("gamma", await ScalarAsync(fresh, "select current_database()"));
    }

    [Fact]
    public async Task Psql_runs_on_its_group_and_a_hint_tag_wins_over_it()
    {
        Tools.Result plain = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "select current_database()");
        Assert.True(plain.ExitCode == 0, plain.All);
        Assert.Equal("beta", plain.StdOut.Trim());

        Tools.Result hinted = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "/* edge: tags=nightly */ select current_database()");
        Assert.True(hinted.ExitCode == 0, hinted.All);
        Assert.Equal("delta", hinted.StdOut.Trim());

        // Debug logging names the rule and the group of rule-routed statements.
        Assert.Contains("rule 'psql': group 'beta'", _edge.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Npgsql_tags_from_set_and_from_startup_options_route_to_the_tagged_group()
    {
        await using NpgsqlConnection connection = await PgAsync();
        Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));

        await ScalarAsync(connection, "SET edge.tags = 'etl, nightly'");
        Assert.Equal("etl, nightly", await ScalarAsync(connection, "SHOW edge.tags"));
        Assert.Equal("delta", await ScalarAsync(connection, "select current_database()"));

        await ScalarAsync(connection, "RESET edge.tags");
        Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));

        await using NpgsqlConnection tagged = await PgAsync("Options=-c edge.tags=nightly");
        Assert.Equal("delta", await ScalarAsync(tagged, "select current_database()"));
    }

    [Fact]
    public async Task The_routing_schema_is_the_first_search_path_element_from_startup_and_set()
    {
        await using NpgsqlConnection connection = await PgAsync("Application Name=schema-test");
        Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));

        await ScalarAsync(connection, "SET search_path = 'main'");
        Assert.Equal("gamma", await ScalarAsync(connection, "select current_database()"));

        await ScalarAsync(connection, "RESET search_path");
        Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));

        await using NpgsqlConnection startup = await PgAsync("Application Name=schema-test;Options=-c search_path=main");
        Assert.Equal("gamma", await ScalarAsync(startup, "select current_database()"));
    }

    [Fact]
    public async Task Mysql_prepared_explain_route_is_answered_by_routing()
    {
        await using MySqlConnection connection = await MySqlAsync();
        await using var explain = new MySqlConnector.MySqlCommand("EXPLAIN ROUTE select * from sales.orders", connection);
        await explain.PrepareAsync();
        (string Rule, string Group, string Tables) row = await ExplainAsync(explain);
        Assert.Equal(("mysql-clients", "gamma", "sales.orders"), row);

        Assert.Equal(row, await ExplainAsync(explain));
    }

    [Fact]
    public async Task Mysql_set_edge_tags_through_prepare_and_execute_is_seen_by_routing()
    {
        // MySqlConnector turns @names into placeholders when it prepares, so the raw client sends this one.
        await using MySqlRawClient client = await MySqlRawClient.ConnectAsync(_mysqlPort, database: "alpha");
        Assert.Equal("gamma", await RawScalarAsync(client, "select current_database()"));

        await client.SendAsync([(byte)Com.StmtPrepare, .. "SET @edge_tags = 'nightly'"u8]);
        Wire.MySqlPrepareOk prepared = Wire.MySqlPrepareOk.Parse((await client.ReadAsync()).Payload);
        Assert.Equal((0, 0), (prepared.ParameterCount, prepared.ColumnCount));
        await client.SendAsync([(byte)Com.StmtExecute, .. BitConverter.GetBytes(prepared.StatementId), 0, 1, 0, 0, 0]);
        Assert.True(Wire.MySqlPacketHeader.IsOk((await client.ReadAsync()).Payload));

        Assert.Equal("delta", await RawScalarAsync(client, "select current_database()"));
    }

    private static async Task<string?> RawScalarAsync(MySqlRawClient client, string sql)
    {
        await client.SendAsync([(byte)Com.Query, .. System.Text.Encoding.UTF8.GetBytes(sql)]);
        (_, List<string?[]> rows, _) = await client.ReadResultSetAsync((await client.ReadAsync()).Payload);
        return Assert.Single(rows)[0];
    }

    private static async Task<(string Rule, string Group, string Tables)> ExplainAsync(MySqlConnector.MySqlCommand command)
    {
        await using MySqlDataReader reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        (string, string, string) row = (reader.GetString(reader.GetOrdinal("rule")), reader.GetString(reader.GetOrdinal("group")), reader.GetString(reader.GetOrdinal("tables")));
        Assert.False(await reader.ReadAsync());
        return row;
    }

    [Fact]
    public async Task A_transaction_stays_on_the_group_where_it_began()
    {
        await using NpgsqlConnection connection = await PgAsync();
        await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync())
        {
            Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));
            await ScalarAsync(connection, "SET edge.tags = 'nightly'");
            Assert.Equal("alpha", await ScalarAsync(connection, "select current_database()"));
            await transaction.CommitAsync();
        }

        Assert.Equal("delta", await ScalarAsync(connection, "select current_database()"));
    }

    [Fact]
    public async Task Prepared_statements_stay_on_the_group_they_were_prepared_on()
    {
        await using NpgsqlConnection connection = await PgAsync();
        await using var prepared = new NpgsqlCommand("select current_database()", connection);
        await prepared.PrepareAsync();
        await ScalarAsync(connection, "SET edge.tags = 'nightly'");

        Assert.Equal("alpha", (await prepared.ExecuteScalarAsync())?.ToString());
        Assert.Equal("delta", await ScalarAsync(connection, "select current_database()"));
    }

    [Fact]
    public async Task Mysql_clients_run_on_their_group_and_at_edge_tags_moves_them()
    {
        Tools.Result cli = await MysqlCliAsync("select current_database() as db");
        Assert.True(cli.ExitCode == 0, cli.All);
        Assert.Equal(["db", "gamma"], cli.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await using MySqlConnection connection = await MySqlAsync();
        Assert.Equal("gamma", await ScalarAsync(connection, "select current_database()"));
        await ScalarAsync(connection, "SET @edge_tags = 'nightly'");
        Assert.Equal("delta", await ScalarAsync(connection, "select current_database()"));
        await ScalarAsync(connection, "SET @edge_tags = NULL");
        Assert.Equal("gamma", await ScalarAsync(connection, "select current_database()"));
    }

    [Fact]
    public async Task Mysql_use_reroutes_and_prepared_statements_stay_on_their_group()
    {
        await using MySqlConnection connection = await MySqlAsync();
        // MySqlConnector runs every command with a prepared statement's text as that statement: other text below.
        await using var prepared = new MySqlConnector.MySqlCommand("select current_database() as prepared", connection);
        await prepared.PrepareAsync();

        await connection.ChangeDatabaseAsync("reports");
        Assert.Equal("beta", await ScalarAsync(connection, "select current_database() as adhoc"));
        await ScalarAsync(connection, "USE alpha");
        Assert.Equal("gamma", await ScalarAsync(connection, "select current_database() as adhoc"));

        await ScalarAsync(connection, "SET @edge_tags = 'nightly'");
        Assert.Equal("gamma", (await prepared.ExecuteScalarAsync())?.ToString());
        Assert.Equal("delta", await ScalarAsync(connection, "select current_database() as adhoc"));
    }

    [Fact]
    public async Task A_denied_statement_gets_a_native_error_naming_the_rule_and_the_session_goes_on()
    {
        await using NpgsqlConnection pg = await PgAsync();
        PostgresException pgError = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(pg, "DROP TABLE forbidden"));
        Assert.Equal("42501", pgError.SqlState);
        Assert.Contains("denied by routing rule 'no-forbidden-drops': dropping forbidden is not allowed", pgError.MessageText, StringComparison.Ordinal);
        Assert.Equal("alpha", await ScalarAsync(pg, "select current_database()"));

        await using MySqlConnection my = await MySqlAsync();
        MySqlException myError = await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(my, "drop table forbidden"));
        Assert.Equal(1227, myError.Number);
        Assert.Equal("42000", myError.SqlState);
        Assert.Contains("no-forbidden-drops", myError.Message, StringComparison.Ordinal);
        Assert.Equal("gamma", await ScalarAsync(my, "select current_database()"));
    }

    [Fact]
    public async Task A_user_denied_by_a_rule_still_connects_and_each_statement_is_denied()
    {
        await using NpgsqlConnection pg = await PgAsync(user: "mallory");
        PostgresException pgError = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(pg, "select 1"));
        Assert.Equal("42501", pgError.SqlState);
        Assert.Contains("mallory is locked out", pgError.MessageText, StringComparison.Ordinal);

        await using MySqlConnection my = await MySqlAsync(user: "mallory");
        MySqlException myError = await Assert.ThrowsAsync<MySqlException>(() => ScalarAsync(my, "select 1"));
        Assert.Equal(1227, myError.Number);
    }

    [Fact]
    public async Task A_90_10_split_sends_about_a_tenth_of_10000_queries_to_the_smaller_group()
    {
        await using NpgsqlConnection connection = await PgAsync("Application Name=ramp");
        await using var command = new NpgsqlCommand("select current_database()", connection);
        int beta = 0;
        const int Queries = 10_000;
        for (int i = 0; i < Queries; i++)
        {
            string? group = (string?)await command.ExecuteScalarAsync();
            Assert.True(group is "alpha" or "beta", group);
            if (group == "beta")
            {
                beta++;
            }
        }

        // Binomial(10000, 0.1): standard deviation 30; 8.5%-11.5% is five of them each way.
        Assert.InRange(beta, 850, 1150);
    }

    [Fact]
    public async Task Explain_route_answers_from_psql_and_mysql_without_running_the_statement()
    {
        Tools.Result psql = await Tools.PsqlAsync(_edge, "-A", "-F", "|", "-c", "EXPLAIN ROUTE select * from sales.orders where id in (1, 2)");
        Assert.True(psql.ExitCode == 0, psql.All);
        string[] lines = psql.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("rule|group|denied|reason|conditions_held|tag_rules|tags|kind|tables|hint|fingerprint", lines[0]);
        string[] row = lines[1].Split('|');
        Assert.Equal("psql", row[0]);
        Assert.Equal("beta", row[1]);
        Assert.Equal("application in [psql]", row[4]);
        Assert.Equal("select", row[7]);
        Assert.Equal("sales.orders", row[8]);
        Assert.Matches("^[0-9a-f]{16}$", row[10]);

        // The same decision the explain verb prints for the same request.
        string configPath = Path.Combine(_edge.Directory, "explain.yaml");
        await File.WriteAllTextAsync(configPath, Config.Replace("{PORT}", "1", StringComparison.Ordinal).Replace("{MYPORT}", "2", StringComparison.Ordinal).Replace("{DIR}", _edge.Directory, StringComparison.Ordinal));
        Tools.Result verb = await Tools.RunAsync(EdgeProcess.BinaryPath,
            ["explain", "--config", configPath, "--application", "psql", "--user", "edge", "--database", "local", "select * from sales.orders where id in (1, 2)"]);
        Assert.True(verb.ExitCode == 0, verb.All);
        Assert.Contains("fingerprint: " + row[10], verb.StdOut, StringComparison.Ordinal);
        Assert.Contains("rule:        psql", verb.StdOut, StringComparison.Ordinal);

        Tools.Result denied = await Tools.PsqlAsync(_edge, "-A", "-t", "-F", "|", "-c", "EXPLAIN ROUTE drop table forbidden");
        Assert.True(denied.ExitCode == 0, denied.All);
        Assert.StartsWith("no-forbidden-drops||dropping forbidden is not allowed|", denied.StdOut.Trim(), StringComparison.Ordinal);

        Tools.Result mysql = await MysqlCliAsync("EXPLAIN ROUTE select 1");
        Assert.True(mysql.ExitCode == 0, mysql.All);
        string[] mysqlLines = mysql.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("rule\tgroup\tdenied\treason", mysqlLines[0], StringComparison.Ordinal);
        Assert.StartsWith("mysql-clients\tgamma\t", mysqlLines[1], StringComparison.Ordinal);
    }
}
