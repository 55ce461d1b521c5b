using LakeOps.Edge.Sql.Translation;

namespace LakeOps.Edge.Sql.Tests.Translation;

public sealed class SessionRewriteTests
{
    private static string? Gateway(string name) => name switch
    {
        "application_name" => "it's me",
        "DateStyle" => "ISO, MDY",
        _ => null,
    };

    [Theory]
    [InlineData("select current_setting('application_name')", "select 'it''s me'")]
    [InlineData("select pg_catalog.current_setting('DateStyle', true) as d", "select 'ISO, MDY' as d")]
    [InlineData("select CURRENT_SETTING ( 'application_name' ), 1", "select 'it''s me', 1")]
    public void Gateway_settings_are_inlined_as_literals(string sql, string expected) =>
        Assert.Equal(expected, SessionSettingInliner.Inline(sql, Gateway));

    [Theory]
    [InlineData("select current_setting('TimeZone')")]
    [InlineData("select 'current_setting(''application_name'')'")]
    [InlineData("select 1 -- current_setting('application_name')")]
    [InlineData("select current_setting(name) from t")]
    public void Other_text_is_returned_unchanged(string sql) =>
        Assert.Same(sql, SessionSettingInliner.Inline(sql, Gateway));

    [Fact]
    public void Declared_parameter_types_become_casts()
    {
        Assert.Equal("select $1::INTEGER + $2, '$1' || $3::UUID", DuckDbParameterTypes.Apply("select $1 + $2, '$1' || $3", [23, 0, 2950]));
    }

    [Fact]
    public void Undeclared_or_numeric_parameters_stay_untyped()
    {
        const string Sql = "select $1 + $2";
        Assert.Same(Sql, DuckDbParameterTypes.Apply(Sql, [0, 1700]));
        Assert.Same(Sql, DuckDbParameterTypes.Apply(Sql, []));
    }
}
