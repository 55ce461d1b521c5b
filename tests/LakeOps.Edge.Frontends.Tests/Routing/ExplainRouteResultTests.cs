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
}
