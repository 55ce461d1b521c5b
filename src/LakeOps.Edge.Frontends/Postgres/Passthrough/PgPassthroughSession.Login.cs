using System.Runtime.CompilerServices;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>The outcome of a passthrough login: the ParameterStatus values to send, or why the login fails.</summary>
internal readonly record struct PassthroughLogin(PgError? Error, IReadOnlyList<KeyValuePair<string, string>> Parameters);

internal sealed partial class PgPassthroughSession
{
    private static readonly ConditionalWeakTable<PostgresEngine, ClusterFacts> Facts = [];

    /// <summary>
    /// After Edge authenticated the client: learns the server's parameters (from a server connection, once
    /// per cluster) and checks the client's startup settings on a server connection (a bad DateStyle fails
    /// the login, as it would on PostgreSQL; settings that passed once are not checked again, so most
    /// logins do not touch the pool at all). Returns the ParameterStatus values for the client: the
    /// server's, with the client's own settings on top. Like PgBouncer, a cluster that cannot be reached
    /// fails the login (08006) only when it was never reached before; otherwise the client logs in and
    /// gets 08006 at its first query.
    /// </summary>
    public async ValueTask<PassthroughLogin> LoginAsync(IReadOnlyList<KeyValuePair<string, string>> startupParameters, CancellationToken cancellationToken)
    {
        ClusterFacts facts = Facts.GetValue(_engine, static _ => new ClusterFacts());
        if (facts.Current is { } cached)
        {
            _settings = SessionSettings.FromStartup(startupParameters, cached.Defaults);
            if (facts.TryGetGood(_settings.Key, out IReadOnlyList<KeyValuePair<string, string>>? reported))
            {
                return new PassthroughLogin(null, reported);
            }
        }

        PgServerConnection? server = null;
        EngineException? failure = null;
        try
        {
            server = await _engine.Pool.RentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            failure = ex;
            Log.Warn(EventId.SessionFailed, $"no server connection for the login of '{_user}' on cluster '{ClusterName}': {ex.Message}");
            if (_picker is not null)
            {
                ClusterFailover.ReportFailure(_picker.Registry.Get(ClusterName), false, ex);
            }
        }

        if (server is not null && facts.Current is null)
        {
            facts.Learn(server.ServerParameters);
        }

        if (facts.Current is not { } known)
        {
            return new PassthroughLogin(new PgError(PgSeverity.Fatal, failure?.SqlState ?? SqlStates.ConnectionFailure, failure?.Message ?? $"cluster '{ClusterName}' is not reachable"), []);
        }

        _settings = SessionSettings.FromStartup(startupParameters, known.Defaults);
        if (server is not null)
        {
            PgError? refused;
            try
            {
                refused = await ApplySettingsAsync(server, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsIoFailure(ex) || ex is OperationCanceledException)
            {
                server.MarkBroken();
                PoolOf(server).Return(server);
                if (ex is OperationCanceledException)
                {
                    throw;
                }

                return new PassthroughLogin(new PgError(PgSeverity.Fatal, SqlStates.ConnectionFailure, $"the server connection of cluster '{ClusterName}' failed during login: {ex.Message}"), []);
            }

            PoolOf(server).Return(server);
            if (refused is not null)
            {
                return new PassthroughLogin(refused, []);
            }

            IReadOnlyList<KeyValuePair<string, string>> reportedNow = ReportedParameters(known.Reported, startupParameters);
            facts.RememberGood(_settings.Key, reportedNow);
            return new PassthroughLogin(null, reportedNow);
        }

        return new PassthroughLogin(null, ReportedParameters(known.Reported, startupParameters));
    }

    /// <summary>Brings the connection to the client's settings now (not pipelined), so a refusal can fail the login.</summary>
    private async ValueTask<PgError?> ApplySettingsAsync(PgServerConnection server, CancellationToken cancellationToken)
    {
        string key = _settings.Key;
        if (string.Equals(server.SettingsKey, key, StringComparison.Ordinal))
        {
            return null;
        }

        PgFrontendWriter.WriteQuery(server.Output, _settings.ReplayScript(server.SettingsKey));
        await server.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        PgError? refused = null;
        while (true)
        {
            byte type = await server.Messages.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (type == PgMessageTypes.ErrorResponse && refused is null)
            {
                PgError error = ErrorResponseMessage.Parse(server.Messages.Body.Span);
                refused = new PgError(PgSeverity.Fatal, error.SqlState, error.Message, error.Detail, error.Hint);
            }
            else if (type == PgMessageTypes.ReadyForQuery)
            {
                server.TransactionStatus = server.Messages.Body.Span[0];
                break;
            }
        }

        server.Messages.Release();
        server.SettingsKey = refused is null ? key : null;
        return refused;
    }

    /// <summary>The server's reported parameters, with the values the client asked for in its startup packet.</summary>
    private static List<KeyValuePair<string, string>> ReportedParameters(IReadOnlyList<KeyValuePair<string, string>> reported, IReadOnlyList<KeyValuePair<string, string>> startupParameters)
    {
        var result = new List<KeyValuePair<string, string>>(reported);
        foreach (KeyValuePair<string, string> setting in SessionSettings.StartupSettings(startupParameters))
        {
            for (int i = 0; i < result.Count; i++)
            {
                if (result[i].Key.Equals(setting.Key, StringComparison.OrdinalIgnoreCase))
                {
                    result[i] = new(result[i].Key, setting.Value);
                }
            }
        }

        return result;
    }

    /// <summary>What a cluster's server connections report at login, learned from the first one.</summary>
    private sealed class ClusterFacts
    {
        /// <summary>Enough for every application's startup settings; beyond it logins just check again.</summary>
        private const int MaxGoodKeys = 1000;

        // Startup settings a server accepted before, with the ParameterStatus values such a login reports.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<KeyValuePair<string, string>>> _goodKeys = new(StringComparer.Ordinal);
        private volatile Known? _known;

        public Known? Current => _known;

        /// <summary>
        /// The ParameterStatus values for startup settings that a server accepted before ("" always: the server's
        /// own defaults), so the logins of one application share one list.
        /// </summary>
        public bool TryGetGood(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IReadOnlyList<KeyValuePair<string, string>>? reported)
        {
            if (key.Length == 0 && _known is { } known)
            {
                reported = known.Reported;
                return true;
            }

            return _goodKeys.TryGetValue(key, out reported);
        }

        public void RememberGood(string key, IReadOnlyList<KeyValuePair<string, string>> reported)
        {
            if (key.Length > 0 && _goodKeys.Count < MaxGoodKeys)
            {
                _goodKeys.TryAdd(key, reported);
            }
        }

        public void Learn(IReadOnlyDictionary<string, string> serverParameters)
        {
            var defaults = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, string> parameter in PostgresEngine.StartupParameters)
            {
                defaults[parameter.Key] = parameter.Value;
            }

            var reported = new List<KeyValuePair<string, string>>(serverParameters.Count);
            foreach (KeyValuePair<string, string> parameter in serverParameters)
            {
                defaults[parameter.Key] = parameter.Value;
                reported.Add(parameter);
            }

            _known = new Known(reported, defaults);
        }
    }

    /// <param name="Reported">The ParameterStatus values of a fresh connection, in the server's order.</param>
    /// <param name="Defaults">Reported values plus the startup parameters Edge gives every pooled connection.</param>
    private sealed record Known(IReadOnlyList<KeyValuePair<string, string>> Reported, IReadOnlyDictionary<string, string> Defaults);
}
