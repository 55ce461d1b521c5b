using System.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Routing.Balancing;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Frontends.Routing;

/// <summary>
/// One Arrow-path engine statement as its cluster's health sees it: counted as running (least_loaded) from
/// <see cref="Begin"/> to <see cref="Dispose"/>, then a success with the time until the result was ready
/// (latency_aware's average) or a failure when the error says the cluster is sick
/// (<see cref="ClusterFailover.Classify"/>). Default (no health known for the cluster) does nothing.
/// </summary>
internal readonly struct StatementObservation : IDisposable
{
    private readonly ClusterHealth? _health;
    private readonly long _start;

    private StatementObservation(ClusterHealth health)
    {
        _health = health;
        _start = Stopwatch.GetTimestamp();
        health.Begin();
    }

    public static StatementObservation Begin(ClusterPicker picker, string cluster) =>
        picker.Registry.TryGet(cluster, out ClusterHealth health) ? new StatementObservation(health) : default;

    public void Succeeded() => _health?.ReportSuccess(Stopwatch.GetElapsedTime(_start));

    public void Failed(EngineException exception)
    {
        if (_health is not null)
        {
            ClusterFailover.ReportFailure(_health, trial: false, exception);
        }
    }

    public void Dispose() => _health?.End();

    /// <summary>
    /// Runs <paramref name="run"/> (one engine statement on <paramref name="cluster"/>) observed: its success or
    /// failure goes to the cluster's health. A static lambda with <paramref name="state"/> allocates no closure.
    /// </summary>
    public static async ValueTask<T> RunAsync<TState, T>(ClusterPicker picker, string cluster, TState state, Func<TState, ValueTask<T>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        using StatementObservation observed = Begin(picker, cluster);
        T result;
        try
        {
            result = await run(state).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            observed.Failed(ex);
            throw;
        }

        observed.Succeeded();
        return result;
    }
}
