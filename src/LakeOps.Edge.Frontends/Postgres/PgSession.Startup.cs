using System.Buffers;
using System.IO.Pipelines;
using System.Security.Authentication;
using System.Security.Cryptography;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Routing.Balancing;

namespace LakeOps.Edge.Frontends.Postgres;

internal sealed partial class PgSession
{
    /// <summary>Startup packets (before authentication) are small; PostgreSQL caps them at 10,000 bytes.</summary>
    private const int MaxStartupPacket = 10_000;

    // The login's cluster pick, until the engine session is opened on it.
    private ClusterPick? _loginPick;

    /// <summary>
    /// SSL/GSS negotiation, the startup packet, authentication and session setup, all under the
    /// login timeout. Returns false when the connection ends here (cancel request, refusal).
    /// </summary>
    private async ValueTask<bool> StartupAsync(CancellationToken stopping)
    {
        using var login = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        login.CancelAfter(_listener.Limits.LoginTimeout);
        try
        {
            return await StartupCoreAsync(login.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (login.IsCancellationRequested)
        {
            Log.Info(EventId.SessionTimeout, $"closing {_transport.RemoteEndPoint}: login not completed within {_listener.Limits.LoginTimeout.TotalSeconds:0.###} s");
            await TrySendFatalAsync("08006", $"canceling authentication due to timeout ({_listener.Limits.LoginTimeout.TotalSeconds:0.###} s, listeners.{_listener.Name}.limits.login_timeout)").ConfigureAwait(false);
            return false;
        }
        catch (AuthenticationException ex)
        {
            Log.Warn(EventId.TlsFailed, $"TLS handshake with {_transport.RemoteEndPoint} failed: {ex.Message}");
            return false;
        }
    }

    private async ValueTask<bool> StartupCoreAsync(CancellationToken cancellationToken)
    {
        StartupPacket packet;
        while (true)
        {
            packet = await ReadStartupPacketAsync(cancellationToken).ConfigureAwait(false) ?? throw new IOException("client closed during startup");
            if (packet.Kind == StartupPacketKind.SslRequest)
            {
                if (_transport.IsTls)
                {
                    throw new PgProtocolException("SSLRequest received on a connection that already uses TLS");
                }

                bool accept = _certificate is not null;
                Output.GetSpan(1)[0] = accept ? (byte)'S' : (byte)'N';
                Output.Advance(1);
                await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (accept)
                {
                    await _transport.UpgradeToTlsAsync(_certificate!, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (packet.Kind == StartupPacketKind.GssEncRequest)
            {
                // GSSAPI encryption is not offered; libpq then tries SSL or plain startup.
                Output.GetSpan(1)[0] = (byte)'N';
                Output.Advance(1);
                await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (packet.Kind == StartupPacketKind.CancelRequest)
            {
                bool found = _registry.TryCancel(packet.CancelProcessId, packet.CancelSecretKey);
                Log.Info(EventId.CancelRequested, $"cancel request for backend {packet.CancelProcessId} from {_transport.RemoteEndPoint}: {(found ? "delivered" : "no matching session")}");
                return false;
            }

            break;
        }

        if (_listener.Tls is { Required: true } && !_transport.IsTls)
        {
            await TrySendFatalAsync(SqlStates.InvalidAuthorizationSpecification, $"listener '{_listener.Name}' requires TLS (sslmode=require or stronger)").ConfigureAwait(false);
            return false;
        }

        string? user = null;
        string? database = null;
        string applicationName = "";
        foreach (KeyValuePair<string, string> parameter in packet.Parameters)
        {
            switch (parameter.Key)
            {
                case "user":
                    user = parameter.Value;
                    break;
                case "database":
                    database = parameter.Value;
                    break;
                case "application_name":
                    applicationName = parameter.Value;
                    break;
            }
        }

        if (string.IsNullOrEmpty(user))
        {
            await TrySendFatalAsync(SqlStates.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet").ConfigureAwait(false);
            return false;
        }

        _user = user;
        _database = string.IsNullOrEmpty(database) ? user : database;

        if (_overConnectionLimit)
        {
            Log.Warn(EventId.SessionRejected, $"rejecting '{_user}' from {_transport.RemoteEndPoint}: listener '{_listener.Name}' is at max_connections {_listener.Limits.MaxConnections}");
            await TrySendFatalAsync(SqlStates.TooManyConnections, $"sorry, too many clients already: listener '{_listener.Name}' allows {_listener.Limits.MaxConnections} connections (listeners.{_listener.Name}.limits.max_connections)").ConfigureAwait(false);
            return false;
        }

        if (!await AuthenticateAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        RouteTable routes = RouteTable.For(_config);
        string? startupTags = BuildRouteRequest(packet, applicationName, keepProperties: routes.RuleCount > 0);
        StartAudit();
        IEngine? engine = null;
        GroupConfig? group = null;
        if (routes.RuleCount == 0)
        {
            // No rules (the default): route once by database name, exactly as before rules existed.
            (engine, group) = await ResolveEngineAsync().ConfigureAwait(false);
            if (engine is null || group is null)
            {
                return false;
            }
        }
        else
        {
            (bool ok, group) = await RouteAtLoginAsync(routes).ConfigureAwait(false);
            if (!ok)
            {
                return false;
            }

            if (group is not null)
            {
                engine = await PickForLoginAsync(group).ConfigureAwait(false);
                if (engine is null)
                {
                    return false;
                }

                if (engine is not PostgresEngine)
                {
                    // Statement-independent, but the Arrow path: route per statement all the same (cheap, and
                    // SET application_name / edge.tags keep working).
                    group = null;
                    engine = null;
                    AbandonLoginPick();
                    _router = new SessionRouter(_configs, _route, _engines, _picker);
                }
            }
        }

        if (group is not null)
        {
            _groupStatementTimeout = group.StatementTimeout;
        }

        if (engine is PostgresEngine postgres && group is not null)
        {
            // Same protocol on both sides: frames are forwarded (PgSession.Passthrough.cs). A half-open trial goes
            // back: the passthrough's first borrow checks the cluster again and reports that outcome.
            AbandonLoginPick();
            return await StartPassthroughAsync(postgres, group, packet, cancellationToken).ConfigureAwait(false);
        }

        _parameters = new PgSessionParameters(_config.Server.PostgresServerVersion, _user, applicationName);
        foreach (KeyValuePair<string, string> parameter in packet.Parameters)
        {
            if (parameter.Key == "options" && startupTags is not null)
            {
                // options=-c edge.tags=a,b: the gateway owns edge.tags (SHOW, SET, RESET work on it).
                _parameters.ApplyStartup("edge.tags", startupTags);
            }

            if (parameter.Key is "user" or "database" or "options" or "replication")
            {
                continue;
            }

            string? error = _parameters.ApplyStartup(parameter.Key, parameter.Value);
            if (error is not null)
            {
                await TrySendFatalAsync(SqlStates.FeatureNotSupported, error).ConfigureAwait(false);
                return false;
            }
        }

        OnParametersReset();

        // With per-statement routing, engine sessions open on first use (PgSession.Routing.cs).
        if (_router is null && !await OpenEngineSessionAsync(group!, applicationName, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        // Engine sessions start in UTC; only another zone (pgjdbc sends the JVM's) costs a statement.
        if (_router is null && _parameters.OutputZone is not null && !await TryForwardTimeZoneAsync(cancellationToken).ConfigureAwait(false))
        {
            await TrySendFatalAsync(SqlStates.InvalidParameterValue, $"the engine of cluster '{_clusterName}' does not accept time zone \"{_parameters["TimeZone"]}\"").ConfigureAwait(false);
            return false;
        }

        if (packet.ProtocolMinor > 0 || packet.ProtocolOptions.Count > 0)
        {
            // We speak 3.0: tell the client, and list the _pq_ options we did not recognise.
            PgBackendWriter.WriteNegotiateProtocolVersion(Output, 0, packet.ProtocolOptions.ToArray());
        }

        PgBackendWriter.WriteAuthenticationOk(Output);
        foreach (string name in PgSessionParameters.ReportedNames)
        {
            PgBackendWriter.WriteParameterStatus(Output, name, _parameters[name]);
        }

        (_processId, int secret) = _registry.Register(this);
        SecretKey = secret;
        PgBackendWriter.WriteBackendKeyData(Output, _processId, SecretKey);
        PgBackendWriter.WriteReadyForQuery(Output, _transactionStatus);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async ValueTask<StartupPacket?> ReadStartupPacketAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _transport.Reader;
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            PgFrameStatus status = PgFrameScanner.TryReadStartupFrame(buffer, MaxStartupPacket, out int length);
            switch (status)
            {
                case PgFrameStatus.Complete:
                    StartupPacket packet = buffer.IsSingleSegment
                        ? StartupPacket.Parse(buffer.FirstSpan[..length])
                        : StartupPacket.Parse(buffer.Slice(0, length).ToArray());
                    ReadOnlySequence<byte> rest = buffer.Slice(length);
                    if (packet.Kind == StartupPacketKind.SslRequest && !rest.IsEmpty)
                    {
                        // Bytes after SSLRequest would be read as plaintext before TLS starts (CVE-2021-23214).
                        throw new PgProtocolException("received unencrypted data after SSL request");
                    }

                    input.AdvanceTo(rest.Start);
                    return packet;
                case PgFrameStatus.TooLarge:
                    throw new PgProtocolException($"startup packet is larger than {MaxStartupPacket} bytes");
                case PgFrameStatus.Malformed:
                    throw new PgProtocolException("invalid length of startup packet");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads the next password-phase message ('p'); null when the client hung up.</summary>
    private async ValueTask<byte[]?> ReadPasswordMessageAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _transport.Reader;
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            PgFrameStatus status = PgFrameScanner.TryReadFrame(buffer, MaxStartupPacket, out byte type, out int length);
            if (status == PgFrameStatus.Complete)
            {
                if (type != PgMessageTypes.PasswordMessage)
                {
                    input.AdvanceTo(buffer.Start);
                    throw new PgProtocolException($"expected password response, got {PgMessageTypes.Describe(type)}", SqlStates.ProtocolViolation);
                }

                byte[] body = buffer.Slice(5, length - 5).ToArray();
                input.AdvanceTo(buffer.Slice(length).Start);
                return body;
            }

            if (status != PgFrameStatus.Incomplete)
            {
                throw new PgProtocolException("invalid password message length");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return null;
            }
        }
    }

    private async ValueTask<bool> AuthenticateAsync(CancellationToken cancellationToken)
    {
        AuthMethod method = _listener.Auth;
        if (method == AuthMethod.Trust)
        {
            return true;
        }

        _config.Users.TryGetValue(_user, out UserConfig? account);
        bool ok = method switch
        {
            AuthMethod.Cleartext => await CleartextAsync(account, cancellationToken).ConfigureAwait(false),
            AuthMethod.Md5 when account is null || account.Md5Hash is not null => await Md5Async(account, cancellationToken).ConfigureAwait(false),
            _ => await ScramAsync(account, cancellationToken).ConfigureAwait(false),
        };
        if (!ok)
        {
            Log.Warn(EventId.SessionAuthFailed, $"password authentication failed for user '{_user}' from {_transport.RemoteEndPoint} ({method})");
            await TrySendFatalAsync(SqlStates.InvalidPassword, $"password authentication failed for user \"{_user}\"").ConfigureAwait(false);
        }

        return ok;
    }

    private async ValueTask<bool> CleartextAsync(UserConfig? account, CancellationToken cancellationToken)
    {
        PgBackendWriter.WriteAuthenticationCleartextPassword(Output);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[]? body = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false);
        if (body is null || account is null)
        {
            return false;
        }

        string password = PasswordMessage.ParsePassword(body);
        if (account.ScramVerifier is not null && ScramVerifier.TryParse(account.ScramVerifier, out ScramVerifier? verifier) && verifier!.VerifyPassword(password))
        {
            return true;
        }

        return account.Md5Hash is not null && Md5Password.VerifyPassword(account.Md5Hash, _user, password);
    }

    private async ValueTask<bool> Md5Async(UserConfig? account, CancellationToken cancellationToken)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(4);
        PgBackendWriter.WriteAuthenticationMd5Password(Output, salt);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        byte[]? body = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false);
        if (body is null || account?.Md5Hash is null)
        {
            return false;
        }

        return Md5Password.VerifyClientResponse(account.Md5Hash, salt, PasswordMessage.ParsePassword(body));
    }

    private async ValueTask<bool> ScramAsync(UserConfig? account, CancellationToken cancellationToken)
    {
        ScramVerifier? verifier = null;
        if (account?.ScramVerifier is not null)
        {
            ScramVerifier.TryParse(account.ScramVerifier, out verifier);
        }

        // An unknown user still goes through the whole exchange, so the answer does not reveal who exists.
        ScramServerExchange exchange = verifier is null ? ScramServerExchange.ForUnknownUser(_user) : new ScramServerExchange(verifier);
        PgBackendWriter.WriteAuthenticationSasl(Output, ["SCRAM-SHA-256"]);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte[]? first = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false);
        if (first is null)
        {
            return false;
        }

        SaslInitialResponse initial = SaslInitialResponse.Parse(first);
        if (initial.Mechanism != "SCRAM-SHA-256")
        {
            throw new PgProtocolException($"SASL authentication mechanism \"{initial.Mechanism}\" is not supported; use SCRAM-SHA-256", SqlStates.InvalidAuthorizationSpecification);
        }

        if (!exchange.TryHandleClientFirst(initial.Data, out byte[] serverFirst, out string? error))
        {
            throw new PgProtocolException($"malformed SCRAM message: {error}", SqlStates.ProtocolViolation);
        }

        PgBackendWriter.WriteAuthenticationSaslContinue(Output, serverFirst);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte[]? final = await ReadPasswordMessageAsync(cancellationToken).ConfigureAwait(false);
        if (final is null)
        {
            return false;
        }

        if (!exchange.TryHandleClientFinal(SaslResponse.Parse(final), out byte[] serverFinal, out _))
        {
            return false;
        }

        PgBackendWriter.WriteAuthenticationSaslFinal(Output, serverFinal);
        return true;
    }

    /// <summary>Routes the database name to a group and picks its cluster's engine; null (after a FATAL) when there is none.</summary>
    private async ValueTask<(IEngine? Engine, GroupConfig? Group)> ResolveEngineAsync()
    {
        RouteDecision route = DatabaseRouter.Route(_config, _database);
        _loginDecision = route;
        if (route.Group is null)
        {
            await TrySendFatalAsync(SqlStates.InvalidCatalogName, route.Reason).ConfigureAwait(false);
            return (null, null);
        }

        IEngine? engine = await PickForLoginAsync(route.Group).ConfigureAwait(false);
        return engine is null ? (null, null) : (engine, route.Group);
    }

    /// <summary>
    /// Picks the login group's cluster (kept in <see cref="_loginPick"/> for the engine session); null after a
    /// FATAL when no member is eligible (08006 with every member's state) or the cluster is not running.
    /// </summary>
    private async ValueTask<IEngine?> PickForLoginAsync(GroupConfig group)
    {
        ClusterPick pick = _picker.Pick(group);
        if (!pick.Found)
        {
            Log.Warn(EventId.SessionRejected, $"rejecting '{_user}' from {_transport.RemoteEndPoint}: {pick.Reason}");
            await TrySendFatalAsync(SqlStates.ConnectionFailure, pick.Reason!).ConfigureAwait(false);
            return null;
        }

        _clusterName = pick.Cluster!;
        IEngine? engine = _engines.Find(_clusterName);
        if (engine is null)
        {
            if (pick.IsTrial)
            {
                pick.Health!.AbandonTrial();
            }

            await TrySendFatalAsync(SqlStates.CannotConnectNow, $"cluster '{_clusterName}' of group '{group.Name}' is not running").ConfigureAwait(false);
            return null;
        }

        _loginPick = pick;
        return engine;
    }

    /// <summary>The login pick is not used after all: a half-open trial it holds goes back at once.</summary>
    private void AbandonLoginPick()
    {
        if (_loginPick is { IsTrial: true } trial)
        {
            trial.Health!.AbandonTrial();
        }

        _loginPick = null;
    }

    /// <summary>The Arrow path's engine session at login: on the picked cluster, or once on another member when it cannot connect.</summary>
    private async ValueTask<bool> OpenEngineSessionAsync(GroupConfig group, string applicationName, CancellationToken cancellationToken)
    {
        ClusterPick? picked = _loginPick;
        _loginPick = null;
        try
        {
            OpenedCluster opened = await ClusterFailover.OpenAsync(
                _picker, _engines, group, new EngineSessionOptions(_user, _database, applicationName), cancellationToken, picked).ConfigureAwait(false);
            _engine = opened.Session;
            _engineDialect = opened.Engine.Dialect;
            _clusterName = opened.Cluster;
            return true;
        }
        catch (EngineException ex) when (ClusterFailover.IsNoCluster(ex))
        {
            Log.Warn(EventId.SessionFailed, $"opening a session for '{_user}' failed: {ex.Message}");
            await TrySendFatalAsync(SqlStates.ConnectionFailure, ex.Message).ConfigureAwait(false);
            return false;
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.SessionFailed, $"opening a session on cluster '{_clusterName}' failed: {ex.Message}");
            await TrySendFatalAsync(SqlStates.CannotConnectNow, $"cluster '{_clusterName}' refused a session: {ex.Message}").ConfigureAwait(false);
            return false;
        }
    }
}
