using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Frontends.Routing;
using LakeOps.Edge.Routing;

namespace LakeOps.Edge.Frontends.MySql;

internal sealed partial class MySqlSession
{
    /// <summary>Login packets are small; anything larger before authentication is refused.</summary>
    private const int MaxLoginPacket = 16 * 1024;

    /// <summary>What Edge offers; the session uses the intersection with the client's flags.</summary>
    private const MySqlCapabilities ServerCapabilities =
        MySqlCapabilities.LongPassword | MySqlCapabilities.FoundRows | MySqlCapabilities.LongFlag | MySqlCapabilities.ConnectWithDb
        | MySqlCapabilities.NoSchema | MySqlCapabilities.Odbc | MySqlCapabilities.IgnoreSpace | MySqlCapabilities.Protocol41
        | MySqlCapabilities.Interactive | MySqlCapabilities.IgnoreSigpipe | MySqlCapabilities.Transactions
        | MySqlCapabilities.SecureConnection | MySqlCapabilities.MultiStatements | MySqlCapabilities.MultiResults
        | MySqlCapabilities.PsMultiResults | MySqlCapabilities.PluginAuth | MySqlCapabilities.ConnectAttrs
        | MySqlCapabilities.PluginAuthLenencClientData | MySqlCapabilities.DeprecateEof | MySqlCapabilities.QueryAttributes;

    private byte[] _scramble = [];

    /// <summary>
    /// Handshake, optional TLS upgrade, authentication, routing and the engine session, all under the login
    /// timeout. False when the connection ends here (refusal, failed login, timeout).
    /// </summary>
    private async ValueTask<bool> HandshakeAsync(CancellationToken stopping)
    {
        if (_overConnectionLimit)
        {
            // MySQL answers an over-limit connection with an ERR instead of the handshake.
            Log.Warn(EventId.SessionRejected, $"rejecting mysql client {_transport.RemoteEndPoint}: listener '{_listener.Name}' is at max_connections {_listener.Limits.MaxConnections}");
            await TrySendErrorAsync(MySqlError.Of(MySqlErrorCode.TooManyConnections,
                $"Too many connections: listener '{_listener.Name}' allows {_listener.Limits.MaxConnections} (listeners.{_listener.Name}.limits.max_connections)")).ConfigureAwait(false);
            return false;
        }

        using var login = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        login.CancelAfter(_listener.Limits.LoginTimeout);
        try
        {
            return await HandshakeCoreAsync(login.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (login.IsCancellationRequested)
        {
            Log.Info(EventId.SessionTimeout, $"closing mysql client {_transport.RemoteEndPoint}: login not completed within {_listener.Limits.LoginTimeout.TotalSeconds:0.###} s");
            await TrySendErrorAsync(MySqlError.Of(MySqlErrorCode.HandshakeError,
                $"Bad handshake: login not completed within {_listener.Limits.LoginTimeout.TotalSeconds:0.###} s (listeners.{_listener.Name}.limits.login_timeout)")).ConfigureAwait(false);
            return false;
        }
        catch (AuthenticationException ex)
        {
            Log.Warn(EventId.TlsFailed, $"TLS handshake with mysql client {_transport.RemoteEndPoint} failed: {ex.Message}");
            return false;
        }
    }

    private async ValueTask<bool> HandshakeCoreAsync(CancellationToken cancellationToken)
    {
        ConnectionId = _registry.Register(this);
        _scramble = CreateScramble();
        MySqlCapabilities offered = ServerCapabilities | (_certificate is not null ? MySqlCapabilities.Ssl : MySqlCapabilities.None);
        string plugin = _listener.Auth == AuthMethod.CachingSha2Password ? MySqlAuthPackets.CachingSha2Password : MySqlAuthPackets.NativePassword;
        new MySqlHandshakeV10
        {
            ServerVersion = _config.Server.MySqlServerVersion,
            ConnectionId = ConnectionId,
            Scramble = _scramble,
            Capabilities = offered,
            CharacterSet = (byte)MySqlCharacterSet.Utf8Mb4General,
            Status = MySqlServerStatus.AutoCommit,
            AuthPluginName = plugin,
        }.Write(_writer);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        MySqlHandshakeResponse response = await ReadHandshakeResponseAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSslRequest)
        {
            if (_certificate is null)
            {
                throw new MySqlProtocolException("Bad handshake: the client asked for TLS, which this listener does not offer", MySqlErrorCode.HandshakeError, "08S01");
            }

            await _transport.UpgradeToTlsAsync(_certificate, cancellationToken).ConfigureAwait(false);
            _writer.Output = _transport.Writer;
            response = await ReadHandshakeResponseAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSslRequest)
            {
                throw new MySqlProtocolException("Bad handshake: a second SSL request", MySqlErrorCode.HandshakeError, "08S01");
            }
        }

        _capabilities = response.Capabilities & offered;
        _user = response.User;
        _textCharset = TextCharsetFor(response.CharacterSet);
        _applicationName = ApplicationName(response);
        if (_listener.Tls is { Required: true } && !_transport.IsTls)
        {
            await SendLoginErrorAsync(MySqlError.Of(MySqlErrorCode.SecureTransportRequired,
                $"Connections using insecure transport are prohibited: listener '{_listener.Name}' requires TLS")).ConfigureAwait(false);
            return false;
        }

        if (!await AuthenticateAsync(response, cancellationToken).ConfigureAwait(false))
        {
            Log.Warn(EventId.SessionAuthFailed, $"mysql authentication failed for user '{_user}' from {_transport.RemoteEndPoint} ({_listener.Auth})");
            await SendLoginErrorAsync(MySqlError.Of(MySqlErrorCode.AccessDenied,
                $"Access denied for user '{_user}'@'{ClientHost()}' (using password: {(response.AuthResponse.Length > 0 ? "YES" : "NO")})")).ConfigureAwait(false);
            return false;
        }

        _variables = new MySqlSessionVariables(_config.Server.MySqlServerVersion, _listener.Limits.MaxMessageSize,
            _listener.Endpoint.Port, _certificate is not null, CollationName(_textCharset));
        string? database = string.IsNullOrEmpty(response.Database) ? null : response.Database;
        RouteTable routes = RouteTable.For(_config);
        BuildRouteRequest(response, database, keepProperties: routes.RuleCount > 0);
        StartAudit();
        MySqlError? routeError;
        if (routes.RuleCount == 0)
        {
            // No rules (the default): route once by database name, as before rules existed.
            routeError = await OpenEngineSessionAsync(database, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            (routeError, GroupConfig? loginGroup) = RouteAtLogin(routes);
            if (routeError is null && loginGroup is not null)
            {
                routeError = await OpenEngineSessionAsync(database, cancellationToken, loginGroup).ConfigureAwait(false);
            }
            else
            {
                // Per-statement routing: engine sessions open on first use (MySqlSession.Routing.cs).
                _database = database;
            }
        }

        if (routeError is { } error)
        {
            await SendLoginErrorAsync(error).ConfigureAwait(false);
            return false;
        }

        WriteOk();
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private ValueTask SendLoginErrorAsync(MySqlError error) => TrySendErrorAsync(error);

    private async ValueTask<MySqlHandshakeResponse> ReadHandshakeResponseAsync(CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> packet = await ReadLoginPacketAsync(cancellationToken).ConfigureAwait(false);
        return MySqlHandshakeResponse.Parse(packet.Span);
    }

    /// <summary>Reads the client's next login-phase packet, which must continue the sequence; a client that hangs up ends the session quietly.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ReadLoginPacketAsync(CancellationToken cancellationToken)
    {
        byte expected = _writer.SequenceId;
        ReadOnlyMemory<byte> packet = await ReadPacketAsync(MaxLoginPacket, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException("the client closed the connection during login");
        if (_packetSequence != expected)
        {
            throw new MySqlProtocolException($"Got packets out of order: expected sequence id {expected}, got {_packetSequence}");
        }

        _writer.SequenceId = (byte)(_lastSequence + 1);
        return packet;
    }

    private async ValueTask<bool> AuthenticateAsync(MySqlHandshakeResponse response, CancellationToken cancellationToken)
    {
        string clientPlugin = response.AuthPluginName ?? MySqlAuthPackets.NativePassword;
        switch (_listener.Auth)
        {
            case AuthMethod.Trust:
                return true;
            case AuthMethod.MySqlNativePassword:
                {
                    byte[] answer = clientPlugin == MySqlAuthPackets.NativePassword
                        ? response.AuthResponse
                        : await SwitchPluginAsync(MySqlAuthPackets.NativePassword, cancellationToken).ConfigureAwait(false);

                    _config.Users.TryGetValue(_user, out UserConfig? account);
                    return account?.MySqlNativeHash is { } hash && MySqlNativePassword.VerifyClientResponse(hash, _scramble, answer);
                }

            default:
                {
                    byte[] answer = clientPlugin == MySqlAuthPackets.CachingSha2Password
                        ? response.AuthResponse
                        : await SwitchPluginAsync(MySqlAuthPackets.CachingSha2Password, cancellationToken).ConfigureAwait(false);

                    return await CachingSha2Async(answer, cancellationToken).ConfigureAwait(false);
                }
        }
    }

    /// <summary>AuthSwitchRequest to <paramref name="plugin"/> with the same scramble; returns the client's answer.</summary>
    private async ValueTask<byte[]> SwitchPluginAsync(string plugin, CancellationToken cancellationToken)
    {
        MySqlAuthPackets.WriteAuthSwitchRequest(_writer, plugin, _scramble);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (await ReadLoginPacketAsync(cancellationToken).ConfigureAwait(false)).ToArray();
    }

    /// <summary>
    /// caching_sha2_password: the fast path against the in-memory cache; on a miss, full authentication with
    /// the password in cleartext (TLS only) or RSA-encrypted (the client may first ask for the key with 0x02),
    /// checked against the user's SCRAM verifier and then cached.
    /// </summary>
    private async ValueTask<bool> CachingSha2Async(byte[] answer, CancellationToken cancellationToken)
    {
        _config.Users.TryGetValue(_user, out UserConfig? account);
        ScramVerifier? verifier = null;
        if (account?.ScramVerifier is { } text)
        {
            ScramVerifier.TryParse(text, out verifier);
        }

        string credentialKey = account?.ScramVerifier ?? "";
        if (answer.Length == 0)
        {
            // An empty answer means an empty password.
            return verifier is not null && verifier.VerifyPassword("");
        }

        if (verifier is not null)
        {
            switch (CachingSha2Password.Shared.VerifyFastPath(_user, credentialKey, _scramble, answer))
            {
                case Sha2FastPathResult.Success:
                    MySqlAuthPackets.WriteAuthMoreData(_writer, [MySqlAuthPackets.FastAuthSuccess]);
                    return true;
                case Sha2FastPathResult.Mismatch:
                    return false;
            }
        }

        // Full authentication (also for unknown users, so the exchange does not reveal who exists).
        MySqlAuthPackets.WriteAuthMoreData(_writer, [MySqlAuthPackets.PerformFullAuthentication]);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> packet = await ReadLoginPacketAsync(cancellationToken).ConfigureAwait(false);
        string? password;
        if (_transport.IsTls)
        {
            password = CachingSha2Password.ParseCleartext(packet.Span);
        }
        else
        {
            if (packet.Length == 1 && packet.Span[0] == MySqlAuthPackets.RequestPublicKey)
            {
                MySqlAuthPackets.WriteAuthMoreData(_writer, Encoding.ASCII.GetBytes(CachingSha2Password.Shared.PublicKeyPem));
                await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                packet = await ReadLoginPacketAsync(cancellationToken).ConfigureAwait(false);
            }

            // Without TLS only an RSA-encrypted password is accepted; a cleartext one does not decrypt.
            password = CachingSha2Password.Shared.DecryptPassword(packet.Span, _scramble);
        }

        if (password is null || verifier is null || !verifier.VerifyPassword(password))
        {
            return false;
        }

        CachingSha2Password.Shared.Remember(_user, credentialKey, password);
        return true;
    }

    /// <summary>Routes the database (none: the default group) and opens an engine session there; an ERR on failure.</summary>
    private async ValueTask<MySqlError?> OpenEngineSessionAsync(string? database, CancellationToken cancellationToken, GroupConfig? routed = null)
    {
        GroupConfig group;
        if (routed is not null)
        {
            group = routed;
        }
        else if (database is null)
        {
            group = _config.Groups[_config.Routing.DefaultGroup];
            NoteDefaultGroupLogin(group);
        }
        else
        {
            RouteDecision route = DatabaseRouter.Route(_config, database);
            _loginDecision = route;
            if (route.Group is null)
            {
                return MySqlError.Of(MySqlErrorCode.UnknownDatabase, $"Unknown database '{database}': {route.Reason}");
            }

            group = route.Group;
        }

        // Among the group's eligible clusters, with one retry on another member when the first cannot connect.
        OpenedCluster opened;
        try
        {
            opened = await ClusterFailover.OpenAsync(
                _picker, _engines, group, new EngineSessionOptions(_user, database ?? group.Name, _applicationName), cancellationToken).ConfigureAwait(false);
        }
        catch (EngineException ex)
        {
            Log.Warn(EventId.SessionFailed, $"opening a session on group '{group.Name}' for '{_user}' failed: {ex.Message}");
            return MySqlError.Of(MySqlErrorCode.ConnectionHostError, ClusterFailover.IsNoCluster(ex) ? ex.Message : $"group '{group.Name}' refused a session: {ex.Message}");
        }

        string cluster = opened.Cluster;
        IEngine engine = opened.Engine;
        IEngineSession session = opened.Session;

        await CloseEngineAsync().ConfigureAwait(false);
        _engine = session;
        _engineInstance = engine;
        _dialect = engine.Dialect;
        _clusterName = cluster;
        _group = group;
        _database = database;
        return null;
    }

    /// <summary>USE / COM_INIT_DB: the same group keeps the engine session; another group gets a new one.</summary>
    private async ValueTask<MySqlError?> UseDatabaseAsync(string database)
    {
        if (string.IsNullOrEmpty(database))
        {
            return MySqlError.Of(MySqlErrorCode.NoDatabaseSelected, "No database selected");
        }

        if (_router is not null)
        {
            UseDatabaseRouted(database);
            return null;
        }

        RouteDecision route = DatabaseRouter.Route(_config, database);
        if (route.Group is null)
        {
            return MySqlError.Of(MySqlErrorCode.UnknownDatabase, $"Unknown database '{database}'");
        }

        if (_group is not null && route.Group.Name == _group.Name)
        {
            _database = database;
            return null;
        }

        // Statements were prepared on the old engine session.
        CloseAllStatements();
        _status &= ~MySqlServerStatus.InTransaction;
        return await OpenEngineSessionAsync(database, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>COM_RESET_CONNECTION: statements and variables back to a fresh session's, an open transaction rolled back.</summary>
    private async ValueTask ResetConnectionAsync()
    {
        CloseAllStatements();
        _variables.Reset();
        _route.Tags = [];
        if ((_status & MySqlServerStatus.InTransaction) != 0 && _engine is not null)
        {
            try
            {
                IQueryResult result = await _engine.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
                await result.DisposeAsync().ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                Log.Warn(EventId.SessionFailed, $"rollback on reset of '{_user}' failed: {ex.Message}");
            }
        }

        _status = MySqlServerStatus.AutoCommit;
    }

    /// <summary>Random scramble bytes, printable and never NUL (clients read part 2 as a C string).</summary>
    private static byte[] CreateScramble()
    {
        byte[] scramble = new byte[20];
        for (int i = 0; i < scramble.Length; i++)
        {
            scramble[i] = (byte)RandomNumberGenerator.GetInt32(0x21, 0x7F);
        }

        return scramble;
    }

    /// <summary>Text columns carry the client's utf8 collation when it chose one, else utf8mb4.</summary>
    private static ushort TextCharsetFor(byte clientCharset) => clientCharset switch
    {
        33 or 83 or (>= 192 and <= 215) => clientCharset,
        45 or 46 or (>= 224 and <= 247) or 255 => clientCharset,
        _ => MySqlCharacterSet.Utf8Mb4,
    };

    private static string CollationName(ushort charset) => charset switch
    {
        33 => "utf8mb3_general_ci",
        83 => "utf8mb3_bin",
        45 => "utf8mb4_general_ci",
        46 => "utf8mb4_bin",
        224 => "utf8mb4_unicode_ci",
        _ => "utf8mb4_0900_ai_ci",
    };

    private static string ApplicationName(MySqlHandshakeResponse response)
    {
        foreach (KeyValuePair<string, string> attribute in response.ConnectAttributes)
        {
            if (attribute.Key is "program_name")
            {
                return attribute.Value;
            }
        }

        foreach (KeyValuePair<string, string> attribute in response.ConnectAttributes)
        {
            if (attribute.Key is "_client_name")
            {
                return attribute.Value;
            }
        }

        return "";
    }

    private string ClientHost()
    {
        string endpoint = _transport.RemoteEndPoint;
        int colon = endpoint.LastIndexOf(':');
        return colon > 0 ? endpoint[..colon].Trim('[', ']') : endpoint;
    }
}
