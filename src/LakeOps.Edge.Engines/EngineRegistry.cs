using System.Collections.Frozen;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Engines.Postgres;

namespace LakeOps.Edge.Engines;

/// <summary>Creates and owns one <see cref="IEngine"/> per configured cluster.</summary>
public sealed class EngineRegistry : IEngineProvider, IAsyncDisposable
{
    private readonly FrozenDictionary<string, IEngine> _engines;

    private EngineRegistry(FrozenDictionary<string, IEngine> engines) => _engines = engines;

    public IReadOnlyCollection<string> ClusterNames => _engines.Keys;

    /// <summary>Starts every cluster of the config; if one fails, the ones started are stopped again.</summary>
    public static async ValueTask<EngineRegistry> StartAsync(EdgeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var engines = new Dictionary<string, IEngine>(StringComparer.Ordinal);
        try
        {
            foreach (ClusterConfig cluster in config.Clusters.Values)
            {
                engines[cluster.Name] = Create(cluster);
            }
        }
        catch
        {
            foreach (IEngine engine in engines.Values)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new EngineRegistry(engines.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public static IEngine Create(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return cluster.Engine switch
        {
            EngineKind.DuckDb => new DuckDbEngine(cluster),
            EngineKind.Postgres => new PostgresEngine(cluster),
            EngineKind.MySql => new MySqlEngine(cluster),
            _ => throw new NotSupportedException($"engine kind {cluster.Engine} is not supported"),
        };
    }

    public IEngine? Find(string clusterName) => _engines.GetValueOrDefault(clusterName);

    public async ValueTask DisposeAsync()
    {
        foreach (IEngine engine in _engines.Values)
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
    }
}
