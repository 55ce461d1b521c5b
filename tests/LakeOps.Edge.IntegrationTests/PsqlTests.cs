using LakeOps.Edge.IntegrationTests.Support;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>psql (libpq, simple query protocol) against the AOT binary over embedded DuckDB.</summary>
[Collection(EdgeCollection.Name)]
public sealed class PsqlTests(EdgeFixture fixture)
{
    private readonly EdgeProcess _edge = fixture.Edge;

    [Fact]
    public async Task Select_42_prints_42()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "select 42");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("42", result.StdOut.Trim());
    }

    [Fact]
    public async Task Multi_statement_query_returns_every_result()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-q", "-A", "-t", "-c", "create temp table m(x int); insert into m values (1),(2); select sum(x) from m; select 'done'");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["3", "done"], result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Dt_lists_tables_and_d_describes_columns()
    {
        Tools.Result create = await Tools.PsqlAsync(_edge, "-c", "create table if not exists psql_orders(id integer, customer text, amount decimal(10,2))");
        Assert.Equal(0, create.ExitCode);

        Tools.Result list = await Tools.PsqlAsync(_edge, "-c", @"\dt");
        Assert.True(list.ExitCode == 0, list.All);
        Assert.Contains("psql_orders", list.StdOut, StringComparison.Ordinal);
        Assert.Contains("table", list.StdOut, StringComparison.Ordinal);

        Tools.Result describe = await Tools.PsqlAsync(_edge, "-c", @"\d psql_orders");
        Assert.True(describe.ExitCode == 0, describe.All);
        Assert.Contains("customer", describe.StdOut, StringComparison.Ordinal);
        Assert.Contains("amount", describe.StdOut, StringComparison.Ordinal);
        Assert.Contains("integer", describe.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task L_lists_databases()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-c", @"\l");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("Name", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_error_keeps_message_and_sqlstate()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-v", "VERBOSITY=verbose", "-c", "select * from no_such_table");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("42P01", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("no_such_table", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Syntax_error_is_42601_and_session_continues()
    {
        Tools.Result result = await Tools.RunAsync("psql", ["-X", _edge.LibpqConnection(), "-v", "VERBOSITY=verbose", "-A", "-t"], stdin: "selec 1;\nselect 7;\n");
        Assert.Contains("42601", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("7", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_set_and_current_setting_work()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "set application_name = 'psql-test'", "-c", "show application_name", "-c", "show DateStyle", "-c", "select current_setting('application_name') || '!'", "-c", "set time zone 'Asia/Tokyo'", "-c", "reset time zone", "-c", "show timezone");
        Assert.True(result.ExitCode == 0, result.All);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("psql-test", lines);
        Assert.Contains("ISO, MDY", lines);
        Assert.Contains("psql-test!", lines);
        Assert.Equal("UTC", lines[^1]);
    }

    [Fact]
    public async Task Transactions_commit_and_rollback()
    {
        Tools.Result result = await Tools.PsqlAsync(
            _edge, "-A", "-t",
            "-c", "create temp table tx(x int)",
            "-c", "begin; insert into tx values (1); rollback",
            "-c", "begin; insert into tx values (2); commit",
            "-c", "select string_agg(x::varchar, ',') from tx");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("2", result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public async Task Empty_query_is_answered()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-c", ";");
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Warnings_arrive_as_notices()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-c", "begin", "-c", "begin", "-c", "commit", "-c", "commit");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("WARNING:  there is already a transaction in progress", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("WARNING:  there is no transaction in progress", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Struct_map_and_hugeint_columns_are_sent_as_text_by_the_aot_binary()
    {
        Tools.Result result = await Tools.PsqlAsync(_edge, "-A", "-t", "-c", "select {'a': 1, 'b': 'x'} as s, map {'k': [1, 2]} as m, 170141183460469231731687303715884105727::hugeint as h");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("{\"a\": 1, \"b\": \"x\"}|{\"k\": [1, 2]}|170141183460469231731687303715884105727", result.StdOut.Trim());
    }

    [Fact]
    public async Task Statements_of_one_query_string_commit_or_roll_back_together()
    {
        Tools.Result result = await Tools.PsqlAsync(
            _edge, "-q", "-A", "-t",
            "-c", "create temp table implicit_tx(x int)",
            "-c", "insert into implicit_tx values (1); insert into implicit_tx values (2)",
            "-c", @"\set ON_ERROR_STOP 0",
            "-c", "insert into implicit_tx values (3); select * from no_such_table_for_rollback",
            "-c", "select string_agg(x::varchar, ',' order by x) from implicit_tx");
        Assert.Contains("no_such_table_for_rollback", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("1,2", result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }
}
