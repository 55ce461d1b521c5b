using System.Text.Json;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>
/// The audit log of the AOT binary with real clients: psql on DuckDB (Arrow path, per-statement routing),
/// Npgsql passed through to a real PostgreSQL, MySqlConnector passed through to a real MariaDB and on the
/// Arrow path to DuckDB, and a denied statement. Every query carries a marker so its line can be found
/// among the clients' own start-up queries; the file is polled with a deadline (the writer is asynchronous).
/// </summary>
public sealed class AuditTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private PostgresTestServer _postgres = null!;
    private MariaDbTestServer _mariaDb = null!;
    private EdgeProcess _edge = null!;
    private int _mysqlPort;
    private string _config = "";

    private string AuditPath => Path.Combine(_edge.Directory, "audit.jsonl");

    public async Task InitializeAsync()
    {
        _postgres = await PostgresTestServer.GetAsync();
        _mariaDb = await MariaDbTestServer.GetAsync();
        _mysqlPort = EdgeProcess.FreePort();
        _config = $$"""
            listeners:
              pg:
                protocol: postgres
                address: 127.0.0.1:{PORT}
                auth: trust
              my:
                protocol: mysql
                address: 127.0.0.1:{{_mysqlPort}}
                auth: trust
            clusters:
              duck1:
                engine: duckdb
                duckdb:
                  path: "{DIR}/duck.duckdb"
              pg1:
                engine: postgres
                postgres: {{Configs.Engine(_postgres)}}
              maria1:
                engine: mysql
                mysql: {{Configs.Engine(_mariaDb)}}
            groups:
              duck:
                clusters: [duck1]
              pg:
                clusters: [pg1]
              maria:
                clusters: [maria1]
            routing:
              default_group: duck
            routes:
              - name: locked-out
                when: {user: mallory}
                deny: "mallory is locked out"
              - name: psql-on-duck
                when: {application: psql}
                group: duck
              - name: npgsql-on-postgres
                when: {application: audit-npgsql}
                group: pg
              - name: mysql-on-duck
                when: {protocol: mysql, database: duck}
                group: duck
              - name: mysql-on-maria
                when: {protocol: mysql}
                group: maria
            audit:
              enabled: true
              path: audit.jsonl
              include_sql: true
            """;
        _edge = await EdgeProcess.StartAsync(_config);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    [Fact]
    public async Task Psql_on_duckdb_records_rule_group_cluster_and_rows()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "select 'audit-psql-1' as m from (values (1), (2), (3)) v(x)");
        Assert.True(result.ExitCode == 0, result.All);

        JsonElement line = await WaitForLineAsync("audit-psql-1");
        Assert.Equal("postgres", Text(line, "protocol"));
        Assert.Equal("pg", Text(line, "listener"));
        Assert.Equal("edge", Text(line, "user"));
        Assert.Equal("psql", Text(line, "application"));
        Assert.Equal("psql-on-duck", Text(line, "rule"));
        Assert.Contains("psql-on-duck", Text(line, "reason"), StringComparison.Ordinal);
        Assert.Equal("duck", Text(line, "group"));
        Assert.Equal("duck1", Text(line, "cluster"));
        Assert.Equal("select", Text(line, "statement_kind"));
        Assert.Equal("ok", Text(line, "outcome"));
        Assert.Equal(3, line.GetProperty("rows").GetInt64());
        Assert.False(line.TryGetProperty("sqlstate", out _));
        Assert.Matches("^[0-9a-f]{16}$", Text(line, "fingerprint"));
        Assert.StartsWith("127.0.0.1:", Text(line, "client_address"), StringComparison.Ordinal);
        Assert.True(line.GetProperty("duration_us").GetInt64() >= 0);
    }

    [Fact]
    public async Task A_failing_statement_on_duckdb_records_its_sqlstate()
    {
        Tools.Result result = await Tools.RunAsync("psql", ["-X", "-A", "-t", _edge.LibpqConnection(), "-c", "select 'audit-psql-2' from audit_no_such_table"]);
        Assert.NotEqual(0, result.ExitCode);

        JsonElement line = await WaitForLineAsync("audit-psql-2");
        Assert.Equal("error", Text(line, "outcome"));
        Assert.Equal("42P01", Text(line, "sqlstate"));
        Assert.Equal(-1, line.GetProperty("rows").GetInt64());
        Assert.Equal("psql-on-duck", Text(line, "rule"));
    }

    [Fact]
    public async Task Npgsql_passthrough_to_postgres_records_one_line_per_request()
    {
        await using (var connection = new NpgsqlConnection(_edge.ConnectionString(database: "pg", extra: "Application Name=audit-npgsql")))
        {
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand("select 'audit-npgsql-1' as m from generate_series(1, 4)", connection);
            await using (NpgsqlDataReader reader = await select.ExecuteReaderAsync())
            {
                int rows = 0;
                while (await reader.ReadAsync())
                {
                    rows++;
                }

                Assert.Equal(4, rows);
            }

            await using var failing = new NpgsqlCommand("select 'audit-npgsql-2' from audit_no_such_table", connection);
            PostgresException error = await Assert.ThrowsAsync<PostgresException>(() => failing.ExecuteScalarAsync());
            Assert.Equal("42P01", error.SqlState);

            // Still usable after the error, and one more request for the count below.
            await using var after = new NpgsqlCommand("select 'audit-npgsql-3'", connection);
            Assert.Equal("audit-npgsql-3", await after.ExecuteScalarAsync());
        }

        JsonElement ok = await WaitForLineAsync("audit-npgsql-1");
        Assert.Equal("npgsql-on-postgres", Text(ok, "rule"));
        Assert.Equal("pg", Text(ok, "group"));
        Assert.Equal("pg1", Text(ok, "cluster"));
        Assert.Equal("audit-npgsql", Text(ok, "application"));
        Assert.Equal("ok", Text(ok, "outcome"));
        Assert.Equal(4, ok.GetProperty("rows").GetInt64());
        Assert.Equal("select", Text(ok, "statement_kind"));

        JsonElement failed = await WaitForLineAsync("audit-npgsql-2");
        Assert.Equal("error", Text(failed, "outcome"));
        Assert.Equal("42P01", Text(failed, "sqlstate"));
        Assert.Equal("pg1", Text(failed, "cluster"));

        JsonElement third = await WaitForLineAsync("audit-npgsql-3");
        Assert.Equal("ok", Text(third, "outcome"));
        Assert.Equal(1, third.GetProperty("rows").GetInt64());

        // One line per request: each marker once.
        Assert.Single(AuditLog.Read(AuditPath), l => Text(l, "sql")?.Contains("audit-npgsql-1", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_denied_statement_is_recorded_with_the_rule_and_no_group()
    {
        await using (var connection = new NpgsqlConnection(_edge.ConnectionString(user: "mallory")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select 'audit-denied-1'", connection);
            PostgresException error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal("42501", error.SqlState);
        }

        JsonElement line = await WaitForLineAsync("audit-denied-1");
        Assert.Equal("denied", Text(line, "outcome"));
        Assert.Equal("42501", Text(line, "sqlstate"));
        Assert.Equal("locked-out", Text(line, "rule"));
        Assert.Equal("mallory", Text(line, "user"));
        Assert.Equal(JsonValueKind.Null, line.GetProperty("group").ValueKind);
        Assert.Equal(JsonValueKind.Null, line.GetProperty("cluster").ValueKind);
        Assert.Equal(-1, line.GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task MySqlConnector_on_mariadb_passthrough_and_on_duckdb_records_its_queries()
    {
        await using (var maria = new MySqlConnection(MySqlConnectionStrings.For(_mysqlPort, "edge", _mariaDb.Database)))
        {
            await maria.OpenAsync();
            await using var select = new MySqlCommand("SELECT 'audit-mysql-1' AS m UNION ALL SELECT 'x'", maria);
            await using (MySqlDataReader reader = await select.ExecuteReaderAsync())
            {
                int rows = 0;
                while (await reader.ReadAsync())
                {
                    rows++;
                }

                Assert.Equal(2, rows);
            }

            await using var failing = new MySqlCommand("SELECT 'audit-mysql-2' FROM audit_no_such_table", maria);
            MySqlException error = await Assert.ThrowsAsync<MySqlException>(() => failing.ExecuteScalarAsync());
            Assert.Equal("42S02", error.SqlState);
        }

        await using (var duck = new MySqlConnection(MySqlConnectionStrings.For(_mysqlPort, "edge", "duck")))
        {
            await duck.OpenAsync();
            await using var select = new MySqlCommand("SELECT 'audit-mysql-3' AS m FROM (VALUES (1), (2), (3)) v(x)", duck);
            await using MySqlDataReader reader = await select.ExecuteReaderAsync();
            int rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
            }

            Assert.Equal(3, rows);
        }

        JsonElement passthrough = await WaitForLineAsync("audit-mysql-1");
        Assert.Equal("mysql", Text(passthrough, "protocol"));
        Assert.Equal("my", Text(passthrough, "listener"));
        Assert.Equal("mysql-on-maria", Text(passthrough, "rule"));
        Assert.Equal("maria", Text(passthrough, "group"));
        Assert.Equal("maria1", Text(passthrough, "cluster"));
        Assert.Equal("ok", Text(passthrough, "outcome"));
        Assert.Equal(2, passthrough.GetProperty("rows").GetInt64());

        JsonElement failed = await WaitForLineAsync("audit-mysql-2");
        Assert.Equal("error", Text(failed, "outcome"));
        Assert.Equal("42S02", Text(failed, "sqlstate"));

        JsonElement arrow = await WaitForLineAsync("audit-mysql-3");
        Assert.Equal("mysql-on-duck", Text(arrow, "rule"));
        Assert.Equal("duck", Text(arrow, "group"));
        Assert.Equal("duck1", Text(arrow, "cluster"));
        Assert.Equal("ok", Text(arrow, "outcome"));
        Assert.Equal(3, arrow.GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task After_logrotate_renames_the_file_a_reload_starts_a_new_one()
    {
        Assert.Equal(0, (await Tools.PsqlAsync(_edge, "-c", "select 'audit-rotate-1'")).ExitCode);
        await WaitForLineAsync("audit-rotate-1");

        string rotated = AuditPath + ".1";
        File.Move(AuditPath, rotated);
        await _edge.ReloadAsync(_config);
        Assert.Equal(0, (await Tools.PsqlAsync(_edge, "-c", "select 'audit-rotate-2'")).ExitCode);

        JsonElement line = await WaitForLineAsync("audit-rotate-2");
        Assert.Equal("ok", Text(line, "outcome"));
        Assert.DoesNotContain(AuditLog.Read(AuditPath), l => Text(l, "sql")?.Contains("audit-rotate-1", StringComparison.Ordinal) == true);
        string old = await File.ReadAllTextAsync(rotated);
        Assert.Contains("audit-rotate-1", old, StringComparison.Ordinal);
        Assert.DoesNotContain("audit-rotate-2", old, StringComparison.Ordinal);
    }

    private static string? Text(JsonElement line, string name) => line.GetProperty(name).GetString();

    private Task<JsonElement> WaitForLineAsync(string marker) => AuditLog.WaitForLineAsync(AuditPath, marker, Deadline, () => _edge.Log);
}
