using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>The answer to <c>EXPLAIN ROUTE statement</c> on any front door: the explain verb's fields as one row.</summary>
internal static class ExplainRouteResult
{
    /// <summary>
    /// Explains <paramref name="statement"/> with the session's attributes: through its router when it routes
    /// per statement, else with the login snapshot's routes. The statement does not run.
    /// </summary>
    public static RecordBatch For(SessionRouter? router, RouteRequest request, EdgeConfig config, string statement)
    {
        RouteExplanation explanation;
        if (router is not null)
        {
            explanation = router.Explain(statement);
        }
        else
        {
            request.Sql = statement;
            explanation = RouteTable.For(config).Explain(request);
        }

        RouteExplanationField[] fields = RouteExplanationFields.Of(explanation);
        var schemaFields = new List<Field>(fields.Length);
        var columns = new IArrowArray[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            schemaFields.Add(new Field(fields[i].Column, StringType.Default, true));
            columns[i] = new StringArray.Builder().Append(fields[i].Value).Build();
        }

        return new RecordBatch(new Schema(schemaFields, null), columns, 1);
    }

    /// <summary>
    /// The same row as a PostgreSQL SELECT of literals, for passthrough sessions: the server answers it in
    /// the client's stream, in order and with the right transaction status.
    /// </summary>
    public static string AsSelect(RecordBatch row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var select = new System.Text.StringBuilder("SELECT ");
        for (int i = 0; i < row.ColumnCount; i++)
        {
            string value = ((StringArray)row.Column(i)).GetString(0) ?? "";
            select.Append(i == 0 ? "'" : ", '").Append(value.Replace("'", "''", StringComparison.Ordinal))
                .Append("'::text AS \"").Append(row.Schema.GetFieldByIndex(i).Name).Append('"');
        }

        return select.ToString();
    }

    /// <summary>
    /// The same row as a MySQL SELECT of literals, for MySQL passthrough sessions. Values travel as
    /// <c>_utf8mb4 X'..'</c> hex literals: they mean the same text whatever the server's
    /// NO_BACKSLASH_ESCAPES and ANSI_QUOTES modes say about quotes and backslashes.
    /// </summary>
    public static string AsMySqlSelect(RecordBatch row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var select = new System.Text.StringBuilder("SELECT ");
        for (int i = 0; i < row.ColumnCount; i++)
        {
            string value = ((StringArray)row.Column(i)).GetString(0) ?? "";
            select.Append(i == 0 ? "_utf8mb4 X'" : ", _utf8mb4 X'")
                .Append(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(value)))
                .Append("' AS `").Append(row.Schema.GetFieldByIndex(i).Name.Replace("`", "``", StringComparison.Ordinal)).Append('`');
        }

        return select.ToString();
    }
}
