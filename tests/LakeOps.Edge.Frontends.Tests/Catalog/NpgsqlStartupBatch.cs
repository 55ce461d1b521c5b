namespace LakeOps.Edge.Frontends.Tests.Catalog;

/// <summary>The multi-statement query Npgsql 10 sends when it opens a connection (captured from a PostgreSQL log; shared with Sql.Tests).</summary>
internal static class NpgsqlStartupBatch
{
    public static string Text { get; } = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "npgsql10-startup.sql"));
}
