using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.Routing;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// Applies a Trino client's schema (X-Trino-Schema / X-Presto-Schema, or the schema of <c>USE catalog.schema</c>
/// that the client sends back) on an Arrow-path engine session, with the statement each engine session already
/// keeps as session state: DuckDB <c>SET schema</c>, PostgreSQL <c>SET search_path</c> (replayed on pooled
/// connections like any SET), MySQL <c>USE</c> (the Trino schema is the MySQL database). A Trino engine gets the
/// header itself (passthrough). As in Trino, a schema that does not exist fails a query only when a name does not
/// resolve: the engine's default schema stays in force (many clients always send "default"), and a statement that
/// fails with "no such table" under a missing schema is Trino's SCHEMA_NOT_FOUND (SQLSTATE 3F000).
/// </summary>
internal static class TrinoSchema
{
    /// <summary>SQLSTATE invalid_schema_name: the Trino front door answers it as SCHEMA_NOT_FOUND.</summary>
    public const string InvalidSchemaName = "3F000";

    /// <summary>The statement that makes <paramref name="schema"/> current on a <paramref name="dialect"/> engine; null: nothing to run.</summary>
    public static string? UseStatement(SqlDialect dialect, string schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return dialect switch
        {
            SqlDialect.DuckDb => "SET schema = '" + schema.Replace("'", "''", StringComparison.Ordinal) + "'",
            // PostgreSQL skips search_path entries that do not exist, so a missing schema leaves the default path.
            SqlDialect.Postgres => "SET search_path TO \"" + schema.Replace("\"", "\"\"", StringComparison.Ordinal) + "\", \"$user\", public",
            SqlDialect.MySql => "USE `" + schema.Replace("`", "``", StringComparison.Ordinal) + "`",
            _ => null,
        };
    }

    /// <summary>
    /// Runs the dialect's statement for <paramref name="schema"/>; false when the engine refused it (DuckDB and MySQL
    /// refuse a schema that does not exist; PostgreSQL accepts any search_path: <see cref="IsMissingAsync"/> tells).
    /// Lost connections and cancels throw as they are.
    /// </summary>
    public static async ValueTask<bool> ApplyAsync(IEngineSession session, SqlDialect dialect, string schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (UseStatement(dialect, schema) is not { } sql)
        {
            return true;
        }

        try
        {
            IQueryResult result = await session.ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
            await using (result.ConfigureAwait(false))
            {
                while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                }
            }

            return true;
        }
        catch (EngineException ex) when (!IsTransient(ex))
        {
            return false;
        }
    }

    /// <summary>A name did not resolve: PostgreSQL / DuckDB 42P01, MySQL 42S02.</summary>
    public static bool IsUndefinedTable(EngineException exception) =>
        exception?.SqlState is "42P01" or "42S02";

    /// <summary>Trino's error for a statement whose names did not resolve under a schema that does not exist.</summary>
    public static EngineException NotFound(string schema, EngineException error) =>
        new($"Schema '{schema}' does not exist ({error?.Message})", InvalidSchemaName, error);

    /// <summary>
    /// PostgreSQL: whether <paramref name="schema"/> is missing, asked after a statement under it failed with 42P01
    /// (outside a transaction only: inside one, the failed statement has aborted the engine transaction).
    /// </summary>
    public static async ValueTask<bool> IsMissingAsync(IEngineSession session, string schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        bool exists = false;
        IQueryResult result = await session.ExecuteAsync(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = '" + schema.Replace("'", "''", StringComparison.Ordinal) + "'", cancellationToken).ConfigureAwait(false);
        await using (result.ConfigureAwait(false))
        {
            while (await result.ReadBatchAsync(cancellationToken).ConfigureAwait(false) is { } batch)
            {
                exists |= batch.Length > 0;
            }
        }

        return !exists;
    }

    /// <summary>Lost connections, timeouts and cancels are not about the schema: they keep their own error.</summary>
    private static bool IsTransient(EngineException exception) =>
        exception.SqlState.StartsWith("08", StringComparison.Ordinal) || exception.SqlState == SqlStates.QueryCanceled || ClusterFailover.Classify(exception) is not null;
}
