namespace LakeOps.Edge.Sql.Tests;

public class SetShowParsingTests
{
    [Theory]
    [InlineData("SET application_name = 'psql'", "application_name", "psql", false)]
    [InlineData("set application_name to FooBar", "application_name", "foobar", false)]
    [InlineData("SET SESSION statement_timeout = 0;", "statement_timeout", "0", false)]
    [InlineData("SET LOCAL statement_timeout = '5s'", "statement_timeout", "5s", true)]
    [InlineData("SET extra_float_digits = -1", "extra_float_digits", "-1", false)]
    [InlineData("SET extra_float_digits = 3", "extra_float_digits", "3", false)]
    [InlineData("set DateStyle = ISO, MDY", "datestyle", "iso, mdy", false)]
    [InlineData("SET search_path TO \"MyS\", public", "search_path", "\"MyS\", public", false)]
    [InlineData("SET search_path = \"plain\"", "search_path", "plain", false)]
    [InlineData("SET TIME ZONE 'UTC'", "timezone", "UTC", false)]
    [InlineData("set time zone 'Europe/Berlin';", "timezone", "Europe/Berlin", false)]
    [InlineData("SET TIME ZONE -7", "timezone", "-7", false)]
    [InlineData("SET LOCAL TIME ZONE 'UTC'", "timezone", "UTC", true)]
    [InlineData("SET TimeZone = 'UTC'", "timezone", "UTC", false)]
    [InlineData("SET NAMES 'UTF8'", "client_encoding", "UTF8", false)]
    [InlineData("SET SCHEMA 'app'", "search_path", "app", false)]
    [InlineData("SET ROLE admin", "role", "admin", false)]
    [InlineData("SET SESSION AUTHORIZATION 'bob'", "session_authorization", "bob", false)]
    [InlineData("SET myapp.user_id = '42'", "myapp.user_id", "42", false)]
    [InlineData("SET \"MyApp\".x = 'v'", "MyApp.x", "v", false)]
    [InlineData("SET application_name = 'it''s'", "application_name", "it's", false)]
    [InlineData("SET application_name = E'a\\tb'", "application_name", "a\tb", false)]
    [InlineData("/* c */ SET work_mem = '64MB' -- trailing", "work_mem", "64MB", false)]
    public void Parses_set_statements(string sql, string name, string value, bool isLocal)
    {
        Assert.True(StatementClassifier.TryParseSet(sql, out string parsedName, out string? parsedValue, out bool parsedLocal));
        Assert.Equal(name, parsedName);
        Assert.Equal(value, parsedValue);
        Assert.Equal(isLocal, parsedLocal);
    }

    [Theory]
    [InlineData("SET statement_timeout TO DEFAULT", "statement_timeout")]
    [InlineData("set search_path = default;", "search_path")]
    [InlineData("SET TIME ZONE LOCAL", "timezone")]
    [InlineData("SET TIME ZONE DEFAULT", "timezone")]
    public void Default_gives_a_null_value(string sql, string name)
    {
        Assert.True(StatementClassifier.TryParseSet(sql, out string parsedName, out string? value, out _));
        Assert.Equal(name, parsedName);
        Assert.Null(value);
    }

    [Theory]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")]
    [InlineData("SET CONSTRAINTS ALL DEFERRED")]
    [InlineData("SET x")]
    [InlineData("SET x = ")]
    [InlineData("SET x = 1 + 2")]
    [InlineData("SELECT 1")]
    [InlineData("SET x = (1)")]
    public void Rejects_what_is_not_a_plain_assignment(string sql)
    {
        Assert.False(StatementClassifier.TryParseSet(sql, out _, out _, out _));
    }

    [Theory]
    [InlineData("SHOW server_version", "server_version")]
    [InlineData("show TimeZone;", "timezone")]
    [InlineData("SHOW TIME ZONE", "timezone")]
    [InlineData("SHOW ALL", "all")]
    [InlineData("show transaction isolation level", "transaction_isolation")]
    [InlineData("SHOW SESSION AUTHORIZATION", "session_authorization")]
    [InlineData("SHOW \"DateStyle\"", "DateStyle")]
    [InlineData("show myapp.user_id", "myapp.user_id")]
    public void Parses_show_statements(string sql, string name)
    {
        Assert.True(StatementClassifier.TryParseShow(sql, out string parsed));
        Assert.Equal(name, parsed);
    }

    [Theory]
    [InlineData("SHOW")]
    [InlineData("SHOW a b")]
    [InlineData("SELECT 1")]
    [InlineData("SHOW 'x'")]
    public void Rejects_malformed_show(string sql)
    {
        Assert.False(StatementClassifier.TryParseShow(sql, out _));
    }
}
