using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Networking;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Engines.Pooling;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Protocols.MySql.Client;

namespace LakeOps.Edge.Engines.MySql;

/// <summary>Where and how a <see cref="MySqlServerConnection"/> connects.</summary>
/// <param name="ClusterName">Named in error messages.</param>
/// <param name="Remote">Host, port, credentials, default database and TLS mode.</param>
/// <param name="FormatFlags">
/// Capabilities that change the wire format the same-protocol passthrough forwards (DEPRECATE_EOF,
/// SESSION_TRACK, FOUND_ROWS, IGNORE_SPACE); requested when the server has them.
/// </param>
/// <param name="InitialAuthPlugin">
/// The plugin of the first auth response; null follows the server's greeting. Tests set another one to
/// exercise the server's auth switch.
/// </param>
public sealed record MySqlConnectOptions(string ClusterName, RemoteEngineOptions Remote, MySqlCapabilities FormatFlags, string? InitialAuthPlugin = null);

/// <summary>
/// The client side of one MySQL-protocol connection to an engine (MySQL, MariaDB, StarRocks, Doris, TiDB):
/// handshake, optional TLS, authentication (mysql_native_password, caching_sha2_password with fast path,
/// full auth over TLS or with the server's RSA key, auth switch), then byte pipes for commands.
/// One user at a time (the pool lends it out); <see cref="MarkBroken"/> when its protocol state is unknown.
/// </summary>
public sealed class MySqlServerConnection : IPooledConnection
{
    /// <summary>utf8mb4_general_ci: known to MySQL 5.5+ and every MariaDB (MySQL 8's 255 is not).</summary>
    public const byte Utf8Mb4Collation = 45;

    /// <summary>Capabilities Edge asks for beyond the format flags (LOCAL_FILES stays off).</summary>
    public const MySqlCapabilities BaseCapabilities =
        MySqlCapabilities.LongPassword | MySqlCapabilities.LongFlag | MySqlCapabilities.Protocol41 | MySqlCapabilities.Transactions
        | MySqlCapabilities.SecureConnection | MySqlCapabilities.MultiStatements | MySqlCapabilities.MultiResults
        | MySqlCapabilities.PsMultiResults | MySqlCapabilities.PluginAuth | MySqlCapabilities.PluginAuthLenencClientData;

    /// <summary>Largest logical packet read from the server (rows with big BLOBs included).</summary>
    public const int MaxPayloadLength = 1 << 30;

    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 32 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(minimumBufferSize: 16 * 1024, leaveOpen: true);

    private readonly PolledSocket _socket;
    private Stream _stream;
    private int _disposed;

    private MySqlServerConnection(MySqlConnectOptions options, PolledSocket socket, Stream stream)
    {
        Options = options;
        _socket = socket;
        _stream = stream;

        // Plain TCP until a TLS upgrade: pipes straight on the socket.
        Input = new SocketPipeReader(socket, ReaderOptions.BufferSize);
        Output = new SocketPipeWriter(socket, WriterOptions.MinimumBufferSize);
        Writer = new MySqlPacketWriter(Output);
        Packets = new MySqlPacketReader(Input);
    }

    public MySqlConnectOptions Options { get; }

    public string ClusterName => Options.ClusterName;

    /// <summary>Bytes from the server. Read through <see cref="ReadPacketAsync"/>, or directly once no packet is held.</summary>
    public PipeReader Input { get; private set; }

    /// <summary>Bytes to the server.</summary>
    public PipeWriter Output { get; private set; }

    /// <summary>Packet framing over <see cref="Output"/>.</summary>
    public MySqlPacketWriter Writer { get; }

    /// <summary>The capabilities both sides agreed on.</summary>
    public MySqlCapabilities Capabilities { get; private set; }

    /// <summary>Everything the server offered in its greeting.</summary>
    public MySqlCapabilities ServerCapabilities { get; private set; }

    /// <summary>The server's thread id for this connection (the target of KILL QUERY).</summary>
    public uint ConnectionId { get; private set; }

    public string ServerVersion { get; private set; } = "";

    public bool IsTls { get; private set; }

    /// <summary>The auth plugin that finally authenticated the connection.</summary>
    public string AuthPlugin { get; private set; } = "";

    /// <summary>Server status from the last OK/EOF packet seen (transaction and autocommit state).</summary>
    public MySqlServerStatus Status { get; set; }

    public bool IsBroken { get; private set; }

    /// <summary>
    /// The session state applied on this connection (see <see cref="MySqlSessionState.Signature"/>): "" when
    /// pristine, null when unknown (it must be reset before another session uses it).
    /// </summary>
    public string? AppliedState { get; set; } = "";

    /// <summary>Statements prepared on this connection, by SQL text (shared by every session that lands here).</summary>
    public MySqlStatementCache Statements { get; } = new();

    /// <summary>True when rows end with an OK packet (0xFE) instead of EOF, and column definitions have no EOF after them.</summary>
    public bool DeprecateEof => (Capabilities & MySqlCapabilities.DeprecateEof) != 0;

    public void MarkBroken() => IsBroken = true;

    /// <summary>"cluster 'X': cannot connect to HOST:PORT: reason" with SQLSTATE 08006.</summary>
    public static EngineException ConnectFailure(MySqlConnectOptions options, string reason, Exception? inner = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EngineException(
            string.Create(CultureInfo.InvariantCulture, $"cluster '{options.ClusterName}': cannot connect to {options.Remote.Host}:{options.Remote.Port}: {reason}"),
            SqlStates.ConnectionFailure,
            inner);
    }

    /// <summary>An I/O failure on an established connection; marks it broken.</summary>
    public EngineException LostConnection(Exception? inner, string? reason = null)
    {
        MarkBroken();
        if (_connecting)
        {
            return ConnectFailure(Options, reason ?? inner?.Message ?? "the server closed the connection", inner);
        }

        return new EngineException(
            string.Create(CultureInfo.InvariantCulture, $"cluster '{ClusterName}': lost the connection to {Options.Remote.Host}:{Options.Remote.Port}: {reason ?? inner?.Message ?? "the server closed it"}"),
            SqlStates.ConnectionFailure,
            inner);
    }

    /// <summary>Opens, secures and authenticates a connection, then sets the session time zone to UTC.</summary>
    public static async ValueTask<MySqlServerConnection> ConnectAsync(MySqlConnectOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        RemoteEngineOptions remote = options.Remote;
        PolledSocket socket;
        try
        {
            socket = await PolledSocket.ConnectAsync(remote.Host, remote.Port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw ConnectFailure(options, ex.Message, ex);
        }

        // Whoever reads this connection only decodes or forwards packets: resume on the event loop.
        socket.InlineCompletions = true;
        MySqlServerConnection? connection = null;
        try
        {
            connection = new MySqlServerConnection(options, socket, new PolledStream(socket, ownsSocket: false)) { _connecting = true };
            await connection.HandshakeAsync(cancellationToken).ConfigureAwait(false);
            await connection.ExecuteSimpleAsync("SET time_zone = '+00:00'"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            connection._connecting = false;
            return connection;
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                await connection.CloseTransportAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            if (ex is EngineException or OperationCanceledException)
            {
                throw;
            }

            throw ConnectFailure(options, ex.Message, ex);
        }
    }

    // While true, I/O failures are reported as "cannot connect" rather than "lost the connection".
    private bool _connecting;

    private async ValueTask HandshakeAsync(CancellationToken cancellationToken)
    {
        RemoteEngineOptions remote = Options.Remote;
        ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        if (packet.Span[0] == MySqlPacketHeader.Err)
        {
            throw ConnectFailure(Options, MySqlErrPacket.Parse(packet.Span).Message);
        }

        MySqlHandshakeV10 greeting = MySqlHandshakeV10.Parse(packet.Span);
        ReleasePacket();
        ConnectionId = greeting.ConnectionId;
        ServerCapabilities = greeting.Capabilities;

        // MariaDB prefixes its version with "5.5.5-" so that old replication clients accept it.
        ServerVersion = greeting.ServerVersion.StartsWith("5.5.5-", StringComparison.Ordinal) ? greeting.ServerVersion[6..] : greeting.ServerVersion;
        if ((greeting.Capabilities & MySqlCapabilities.Protocol41) == 0)
        {
            throw ConnectFailure(Options, "the server does not speak protocol 4.1");
        }

        MySqlCapabilities wanted = BaseCapabilities | Options.FormatFlags;
        if (remote.Database.Length > 0)
        {
            wanted |= MySqlCapabilities.ConnectWithDb;
        }

        MySqlCapabilities capabilities = wanted & greeting.Capabilities;
        byte sequence = 1;
        if (remote.Tls != EngineTlsMode.Disable)
        {
            if ((greeting.Capabilities & MySqlCapabilities.Ssl) != 0)
            {
                capabilities |= MySqlCapabilities.Ssl;
                Writer.SequenceId = sequence++;
                new MySqlHandshakeResponse
                {
                    Capabilities = capabilities,
                    MaxPacketSize = MaxPayloadLength,
                    CharacterSet = Utf8Mb4Collation,
                    IsSslRequest = true,
                }.Write(Writer);
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                await UpgradeToTlsAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (remote.Tls != EngineTlsMode.Prefer)
            {
                throw ConnectFailure(Options, string.Create(CultureInfo.InvariantCulture, $"the server does not accept TLS, and tls is {remote.Tls}"));
            }
        }

        Capabilities = capabilities;
        string plugin = Options.InitialAuthPlugin ?? (greeting.AuthPluginName == CachingSha2 ? CachingSha2 : NativePassword);
        byte[] nonce = greeting.Scramble;
        Writer.SequenceId = sequence;
        new MySqlHandshakeResponse
        {
            Capabilities = capabilities,
            MaxPacketSize = MaxPayloadLength,
            CharacterSet = Utf8Mb4Collation,
            User = remote.User,
            AuthResponse = AuthResponse(plugin, nonce),
            Database = remote.Database,
            AuthPluginName = plugin,
        }.Write(Writer);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await AuthenticateAsync(plugin, nonce, cancellationToken).ConfigureAwait(false);
    }

    private const string NativePassword = MySqlAuthPackets.NativePassword;
    private const string CachingSha2 = MySqlAuthPackets.CachingSha2Password;
    private const string ClearPassword = MySqlAuthPackets.ClearPassword;

    private byte[] AuthResponse(string plugin, ReadOnlySpan<byte> nonce) => plugin switch
    {
        NativePassword => MySqlNativePassword.ComputeClientResponse(Options.Remote.Password, nonce[..Math.Min(20, nonce.Length)]),
        CachingSha2 => CachingSha2Password.ComputeClientResponse(Options.Remote.Password, nonce[..Math.Min(20, nonce.Length)]),
        ClearPassword when IsTls => CleartextPassword(Options.Remote.Password),
        ClearPassword => throw ConnectFailure(Options, "the server asks for the password in clear text (mysql_clear_password); enable tls for this cluster"),
        _ => throw ConnectFailure(Options, $"the server asks for auth plugin '{plugin}', which Edge does not support (use mysql_native_password or caching_sha2_password)"),
    };

    /// <summary>Reads the server's answers after the HandshakeResponse until OK (or fails on ERR).</summary>
    private async ValueTask AuthenticateAsync(string plugin, byte[] nonce, CancellationToken cancellationToken)
    {
        bool requestedKey = false;
        for (int round = 0; round < 8; round++)
        {
            ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            byte next = (byte)(LastSequenceId + 1);
            switch (packet.Span[0])
            {
                case MySqlPacketHeader.Ok:
                    Status = MySqlOkPacket.Parse(packet.Span, Capabilities).Status;
                    AuthPlugin = plugin;
                    ReleasePacket();
                    return;
                case MySqlPacketHeader.Err:
                    throw ConnectFailure(Options, MySqlErrPacket.Parse(packet.Span).Message);
                case MySqlAuthPackets.AuthSwitchHeader:
                    (plugin, nonce) = MySqlAuthPackets.ParseAuthSwitchRequest(packet.Span);
                    ReleasePacket();
                    await SendAuthDataAsync(AuthResponse(plugin, nonce), next, cancellationToken).ConfigureAwait(false);
                    break;
                case MySqlAuthPackets.AuthMoreDataHeader when plugin == CachingSha2:
                    ReadOnlySpan<byte> data = packet.Span[1..];
                    if (requestedKey)
                    {
                        string pem = Encoding.ASCII.GetString(data);
                        ReleasePacket();
                        await SendAuthDataAsync(CachingSha2Password.EncryptPassword(Options.Remote.Password, nonce, pem), next, cancellationToken).ConfigureAwait(false);
                    }
                    else if (data.Length == 1 && data[0] == MySqlAuthPackets.FastAuthSuccess)
                    {
                        ReleasePacket(); // OK follows.
                    }
                    else if (data.Length == 1 && data[0] == MySqlAuthPackets.PerformFullAuthentication)
                    {
                        ReleasePacket();
                        if (IsTls)
                        {
                            await SendAuthDataAsync(CleartextPassword(Options.Remote.Password), next, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            requestedKey = true;
                            await SendAuthDataAsync([MySqlAuthPackets.RequestPublicKey], next, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        throw ConnectFailure(Options, "unexpected caching_sha2_password data from the server");
                    }

                    break;
                default:
                    throw ConnectFailure(Options, string.Create(CultureInfo.InvariantCulture, $"unexpected packet 0x{packet.Span[0]:X2} during authentication"));
            }
        }

        throw ConnectFailure(Options, "authentication did not finish");
    }

    /// <summary>The password and a NUL: what full authentication sends over TLS.</summary>
    private static byte[] CleartextPassword(string password)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(password) + 1];
        Encoding.UTF8.GetBytes(password, bytes);
        return bytes;
    }

    private async ValueTask SendAuthDataAsync(byte[] data, byte sequence, CancellationToken cancellationToken)
    {
        Writer.SequenceId = sequence;
        Writer.WritePacket(data);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask UpgradeToTlsAsync(CancellationToken cancellationToken)
    {
        RemoteEngineOptions remote = Options.Remote;
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, EngineTls.CertificateValidator(remote));
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = remote.Host,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            },
            cancellationToken).ConfigureAwait(false);
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        _stream = tls;
        Input = PipeReader.Create(tls, ReaderOptions);
        Output = PipeWriter.Create(tls, WriterOptions);
        Writer.Output = Output;
        Packets.Reader = Input;
        IsTls = true;
    }

    /// <summary>Sequence id of the last packet returned by <see cref="ReadPacketAsync"/> (its last physical packet).</summary>
    public byte LastSequenceId => Packets.LastSequenceId;

    /// <summary>Packet reading over <see cref="Input"/> (the passthrough uses its raw frames).</summary>
    public MySqlPacketReader Packets { get; }

    /// <summary>
    /// The next logical packet's payload, valid until the next read or <see cref="ReleasePacket"/>. I/O
    /// failures, protocol errors and cancellation mark the connection broken; the first two throw
    /// <see cref="EngineException"/> 08006.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ReadPacketAsync(CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte>? payload;
        try
        {
            payload = await Packets.ReadAsync(MaxPayloadLength, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A read abandoned half way leaves the protocol state unknown.
            MarkBroken();
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or MySqlProtocolException)
        {
            throw LostConnection(ex);
        }

        if (payload is not { Length: > 0 } packet)
        {
            throw LostConnection(null, payload is null ? "the server closed the connection" : "the server sent an empty packet");
        }

        return packet;
    }

    /// <summary>Consumes the packet returned by the last read (idempotent).</summary>
    public void ReleasePacket() => Packets.Release();

    /// <summary>Flushes <see cref="Output"/>; failures mark the connection broken.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            FlushResult result = await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted)
            {
                throw LostConnection(null);
            }
        }
        catch (OperationCanceledException)
        {
            MarkBroken();
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            throw LostConnection(ex);
        }
    }

    /// <summary>
    /// Sends a COM_QUERY whose result is only OK or ERR (SET, USE, KILL, ...) and reads every result
    /// (multi-statements included). Throws <see cref="EngineException"/> with the server's SQLSTATE on ERR.
    /// </summary>
    public async ValueTask ExecuteSimpleAsync(byte[] sql, CancellationToken cancellationToken)
    {
        MySqlCommandWriter.WriteText(Writer, MySqlCommand.Query, sql);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await ReadOkAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads OK packets (while more results exist) and skips any result set; ERR throws after draining.</summary>
    public async ValueTask<ulong> ReadOkAsync(CancellationToken cancellationToken)
    {
        EngineException? error = null;
        ulong affected = 0;
        while (true)
        {
            ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            byte header = packet.Span[0];
            if (header == MySqlPacketHeader.Err)
            {
                error ??= MySqlErrors.FromErr(this, packet.Span);
                ReleasePacket();
                if (IsBroken)
                {
                    throw error;
                }

                break;
            }

            MySqlServerStatus status;
            if (header == MySqlPacketHeader.Ok)
            {
                MySqlOkPacket ok = MySqlOkPacket.Parse(packet.Span, Capabilities);
                status = ok.Status;
                affected = ok.AffectedRows;
                ReleasePacket();
            }
            else
            {
                ReleasePacket();
                status = await SkipResultSetAsync(cancellationToken).ConfigureAwait(false);
            }

            Status = status;
            if ((status & MySqlServerStatus.MoreResultsExist) == 0)
            {
                break;
            }
        }

        if (error is not null)
        {
            throw error;
        }

        return affected;
    }

    /// <summary>After a result set's column-count packet: skips definitions and rows, returns the final status.</summary>
    public async ValueTask<MySqlServerStatus> SkipResultSetAsync(CancellationToken cancellationToken)
    {
        bool inRows = DeprecateEof;
        while (true)
        {
            ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySpan<byte> span = packet.Span;
            if (span[0] == MySqlPacketHeader.Err)
            {
                EngineException error = MySqlErrors.FromErr(this, span);
                ReleasePacket();
                throw error;
            }

            if (inRows && MySqlPacketHeader.IsEndOfRows(span, Capabilities))
            {
                MySqlServerStatus status = DeprecateEof ? MySqlOkPacket.Parse(span, Capabilities).Status : MySqlEofPacket.Parse(span).Status;
                ReleasePacket();
                return status;
            }

            if (!inRows && MySqlPacketHeader.IsEof(span))
            {
                inRows = true;
            }
        }
    }

    /// <summary>
    /// COM_STMT_PREPARE: reads the answer, skipping parameter definitions and parsing column definitions into
    /// <paramref name="columns"/> (when given), and caches the statement on this connection (a statement of
    /// the same text prepared before is closed). ERR throws with the server's SQLSTATE.
    /// </summary>
    public async ValueTask<MySqlServerStatement> PrepareAsync(string sql, List<MySqlColumnDefinition>? columns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        MySqlCommandWriter.WriteText(Writer, MySqlCommand.StmtPrepare, sql);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        if (packet.Span[0] == MySqlPacketHeader.Err)
        {
            EngineException error = MySqlErrors.FromErr(this, packet.Span);
            ReleasePacket();
            throw error;
        }

        MySqlPrepareOk ok = MySqlPrepareOk.Parse(packet.Span);
        ReleasePacket();
        for (int i = 0; i < ok.ParameterCount; i++)
        {
            await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        }

        if (ok.ParameterCount > 0)
        {
            await SkipDefinitionsEofAsync(cancellationToken).ConfigureAwait(false);
        }

        for (int i = 0; i < ok.ColumnCount; i++)
        {
            ReadOnlyMemory<byte> definition = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            columns?.Add(MySqlColumnDefinition.Parse(definition.Span));
        }

        if (ok.ColumnCount > 0)
        {
            await SkipDefinitionsEofAsync(cancellationToken).ConfigureAwait(false);
        }

        ReleasePacket();
        if (Statements.Find(sql) is { } previous)
        {
            Statements.Remove(sql);
            MySqlCommandWriter.WriteStatementCommand(Writer, MySqlCommand.StmtClose, previous.Id);
        }

        var statement = new MySqlServerStatement(sql, ok.StatementId, ok.ParameterCount, ok.ColumnCount);
        Statements.Add(statement, Writer);
        return statement;
    }

    /// <summary>The EOF after column (or parameter) definitions, which CLIENT_DEPRECATE_EOF leaves out.</summary>
    public async ValueTask SkipDefinitionsEofAsync(CancellationToken cancellationToken)
    {
        if (!DeprecateEof)
        {
            ReadOnlyMemory<byte> eof = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            if (!MySqlPacketHeader.IsEof(eof.Span))
            {
                throw LostConnection(null, "expected EOF after column definitions");
            }
        }

        ReleasePacket();
    }

    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (IsBroken)
        {
            return false;
        }

        MySqlCommandWriter.WriteSimple(Writer, MySqlCommand.Ping);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> packet = await ReadPacketAsync(cancellationToken).ConfigureAwait(false);
        bool ok = packet.Span[0] == MySqlPacketHeader.Ok;
        if (ok)
        {
            Status = MySqlOkPacket.Parse(packet.Span, Capabilities).Status;
        }

        ReleasePacket();
        return ok;
    }

    /// <summary>
    /// COM_RESET_CONNECTION (rolls back, drops temp tables, user variables, locks and prepared statements,
    /// resets session variables), then the base state again: UTC and the configured database.
    /// </summary>
    public async ValueTask ResetSessionAsync(CancellationToken cancellationToken)
    {
        MySqlCommandWriter.WriteSimple(Writer, MySqlCommand.ResetConnection);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        AppliedState = null;
        Statements.Clear();
        await ReadOkAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteSimpleAsync(BaseStateSql(), cancellationToken).ConfigureAwait(false);
        AppliedState = "";
    }

    private byte[] BaseStateSql()
    {
        string database = Options.Remote.Database;
        return Encoding.UTF8.GetBytes(database.Length == 0
            ? "SET NAMES utf8mb4, time_zone = '+00:00'"
            : "SET NAMES utf8mb4, time_zone = '+00:00'; USE " + MySqlIdentifiers.Quote(database));
    }

    /// <summary>COM_QUIT, then closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!IsBroken)
        {
            try
            {
                ReleasePacket();
                MySqlCommandWriter.WriteSimple(Writer, MySqlCommand.Quit);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                // Closing anyway.
            }
        }

        await CloseTransportAsync().ConfigureAwait(false);
    }

    private async ValueTask CloseTransportAsync()
    {
        try
        {
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _socket.Dispose();
            Packets.ReturnScratch();
        }
    }

    /// <summary>Closes the socket at once (no COM_QUIT): for tests and for abandoning a connection mid-result.</summary>
    public void Abort()
    {
        MarkBroken();
        _socket.Dispose();
    }
}
