using LakeOps.Edge.Core.Config;
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

/// <summary>
/// The session schema without a round trip per query where Edge can know better: the engine's own default schema
/// (DuckDB <c>main</c>, a MySQL cluster's configured database) needs no statement, and a schema a cluster does not
/// have (presto-client always sends "default") is remembered per cluster for a short time, so later queries neither
/// send a statement that fails nor, on PostgreSQL, one that changes nothing. PostgreSQL accepts any search_path, so
/// there a schema not seen lately is looked up once (one round trip, then remembered either way). Bounded; forgotten
/// on a config reload.
/// </summary>
internal sealed class TrinoSchemaCache
{
    private const int Capacity = 1024;

    private readonly ConfigStore _config;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly Dictionary<(string Cluster, string Schema), (bool Exists, long Until)> _known = [];
    private EdgeConfig? _seen;

    public TrinoSchemaCache(ConfigStore config, TimeSpan ttl, TimeProvider? time = null)
    {
        _config = config;
        _ttl = ttl;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Makes <paramref name="schema"/> current on <paramref name="session"/> (a session of <paramref name="cluster"/>)
    /// unless it is already; false when the cluster does not have it (the engine's default stays in force).
    /// </summary>
    public async ValueTask<bool> ApplyAsync(IEngineSession session, SqlDialect dialect, string cluster, string schema, CancellationToken cancellationToken)
    {
        if (IsDefault(dialect, cluster, schema))
        {
            return true;
        }

        bool? exists = Lookup(cluster, schema);
        if (exists is null && dialect == SqlDialect.Postgres)
        {
            exists = !await TrinoSchema.IsMissingAsync(session, schema, cancellationToken).ConfigureAwait(false);
            Remember(cluster, schema, exists.Value);
        }

        if (exists == false)
        {
            return false;
        }

        bool applied = await TrinoSchema.ApplyAsync(session, dialect, schema, cancellationToken).ConfigureAwait(false);
        Remember(cluster, schema, applied);
        return applied;
    }

    /// <summary>A statement found that <paramref name="schema"/> is missing on <paramref name="cluster"/>.</summary>
    public void RememberMissing(string cluster, string schema) => Remember(cluster, schema, exists: false);

    /// <summary>Whether the cluster has the schema, as seen within the last few seconds; null when not known.</summary>
    public bool? Lookup(string cluster, string schema)
    {
        lock (_known)
        {
            Forget();
            return _known.TryGetValue((cluster, schema), out (bool Exists, long Until) entry) && _time.GetTimestamp() < entry.Until ? entry.Exists : null;
        }
    }

    private void Remember(string cluster, string schema, bool exists)
    {
        lock (_known)
        {
            Forget();
            if (_known.Count >= Capacity)
            {
                // Many schemas at once: start over rather than track ages.
                _known.Clear();
            }

            _known[(cluster, schema)] = (exists, _time.GetTimestamp() + (long)(_ttl.TotalSeconds * _time.TimestampFrequency));
        }
    }

    // A reload may change clusters (another server behind a name) or their schemas: start over. Caller holds the lock.
    private void Forget()
    {
        EdgeConfig current = _config.Current;
        if (!ReferenceEquals(current, _seen))
        {
            _known.Clear();
            _seen = current;
        }
    }

    /// <summary>The schema a new session of the cluster is in already: DuckDB's main, a MySQL cluster's configured database.</summary>
    private bool IsDefault(SqlDialect dialect, string cluster, string schema) => dialect switch
    {
        SqlDialect.DuckDb => schema == "main",
        SqlDialect.MySql => _config.Current.Clusters.TryGetValue(cluster, out ClusterConfig? config) && config.Remote is { Database.Length: > 0 } remote && remote.Database == schema,
        _ => false,
    };
}
