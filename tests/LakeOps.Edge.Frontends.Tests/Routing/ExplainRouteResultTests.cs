using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Frontends.Routing;

namespace LakeOps.Edge.Frontends.Tests.Routing;

public sealed class ExplainRouteResultTests
{
    [Fact]
    public void The_passthrough_select_carries_every_column_as_a_quoted_text_literal()
    {
        var schema = new Schema([new Field("rule", StringType.Default, true), new Field("reason", StringType.Default, true)], null);
        var row = new RecordBatch(schema,
            [new StringArray.Builder().Append("r1").Build(), new StringArray.Builder().Append("it's 'quoted'").Build()], 1);

        Assert.Equal("SELECT 'r1'::text AS \"rule\", 'it''s ''quoted'''::text AS \"reason\"", ExplainRouteResult.AsSelect(row));
    }

    [Fact]
    public void The_mysql_passthrough_select_carries_every_value_as_a_utf8_hex_literal()
    {
        // Quotes and backslashes mean different things under NO_BACKSLASH_ESCAPES; hex literals do not.
        var schema = new Schema([new Field("rule", StringType.Default, true), new Field("reason", StringType.Default, true), new Field("hint", StringType.Default, true)], null);
        var row = new RecordBatch(schema,
            [new StringArray.Builder().Append("r1").Build(), new StringArray.Builder().Append("it's C:\\é").Build(), new StringArray.Builder().Append("").Build()], 1);

        Assert.Equal("SELECT _utf8mb4 X'7231' AS `rule`, _utf8mb4 X'6974277320433A5CC3A9' AS `reason`, _utf8mb4 X'' AS `hint`", ExplainRouteResult.AsMySqlSelect(row));
    }
}
