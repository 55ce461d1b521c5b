using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>
/// A minimal MySQL client on Edge's own codec, for what real clients never send: arbitrary commands
/// (COM_FIELD_LIST, COM_STATISTICS), wrong sequence ids, garbage and oversized packets. Trust auth only.
/// </summary>
public sealed class MySqlRawClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private MySqlPacketScanner _scanner;

    private MySqlRawClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
        Writer = new MySqlPacketWriter(_buffer);
    }

    public MySqlPacketWriter Writer { get; }

    public MySqlHandshakeV10 Handshake { get; private set; } = null!;

    public const MySqlCapabilities Capabilities = MySqlCapabilities.LongPassword | MySqlCapabilities.Protocol41 | MySqlCapabilities.SecureConnection
        | MySqlCapabilities.PluginAuth | MySqlCapabilities.DeprecateEof | MySqlCapabilities.MultiStatements | MySqlCapabilities.MultiResults
        | MySqlCapabilities.ConnectWithDb;

    /// <summary>Connects; with <paramref name="login"/> also logs in (trust listener) and expects OK.</summary>
    public static async Task<MySqlRawClient> ConnectAsync(int port, bool login = true, string database = "local")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port);
        var client = new MySqlRawClient(socket);
        (byte[] payload, _) = await client.ReadAsync();
        if (payload[0] == MySqlPacketHeader.Err)
        {
            client.Handshake = null!;
            client.FirstError = MySqlErrPacket.Parse(payload);
            return client;
        }

        client.Handshake = MySqlHandshakeV10.Parse(payload);
        if (login)
        {
            byte[] ok = await client.SendLoginAsync("edge", [], MySqlAuthPackets.NativePassword, database);
            if (!MySqlPacketHeader.IsOk(ok))
            {
                throw new InvalidOperationException("login failed: " + MySqlErrPacket.Parse(ok));
            }
        }

        return client;
    }

    /// <summary>Sends HandshakeResponse41 and returns the server's first answer (OK, ERR, AuthMoreData or AuthSwitchRequest).</summary>
    public async Task<byte[]> SendLoginAsync(string user, byte[] authResponse, string plugin, string database = "local")
    {
        Writer.SequenceId = 1;
        new MySqlHandshakeResponse
        {
            Capabilities = Capabilities,
            MaxPacketSize = 1 << 30,
            CharacterSet = 255,
            User = user,
            AuthResponse = authResponse,
            Database = database,
            AuthPluginName = plugin,
        }.Write(Writer);
        await FlushAsync();
        return (await ReadAsync()).Payload;
    }

    /// <summary>An ERR the server sent instead of the handshake.</summary>
    public MySqlErrPacket? FirstError { get; private set; }

    /// <summary>Sends one command packet (sequence id 0 unless given).</summary>
    public Task SendAsync(byte[] payload, byte sequence = 0)
    {
        Writer.SequenceId = sequence;
        Writer.WritePacket(payload);
        return FlushAsync();
    }

    /// <summary>Sends raw bytes as they are.</summary>
    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public async Task FlushAsync()
    {
        await _stream.WriteAsync(_buffer.WrittenMemory);
        _buffer.ResetWrittenCount();
    }

    /// <summary>The next logical packet; throws at end of stream.</summary>
    public async Task<(byte[] Payload, MySqlFrame Frame)> ReadAsync()
    {
        while (true)
        {
            ReadResult read = await _reader.ReadAsync();
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (_scanner.TryRead(buffer, int.MaxValue) == MySqlPacketStatus.Complete)
            {
                MySqlFrame frame = _scanner.Frame;
                byte[] payload = new byte[frame.PayloadLength];
                MySqlPacketScanner.CopyPayload(buffer, frame, payload);
                _reader.AdvanceTo(buffer.GetPosition(frame.FrameLength));
                return (payload, frame);
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new EndOfStreamException("the server closed the connection");
            }
        }
    }

    /// <summary>True when the server closed the connection (after reading whatever it still sent).</summary>
    public async Task<bool> IsClosedAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                ReadResult read = await _reader.ReadAsync(timeout.Token);
                _reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reads a text result set: column definitions and rows (text values, null for NULL), up to the end marker.</summary>
    public async Task<(List<MySqlColumnDefinition> Columns, List<string?[]> Rows, byte[] End)> ReadResultSetAsync(byte[] first)
    {
        var reader = new MySqlPayloadReader(first);
        int count = (int)reader.ReadLengthEncodedInteger();
        var columns = new List<MySqlColumnDefinition>();
        for (int i = 0; i < count; i++)
        {
            columns.Add(MySqlColumnDefinition.Parse((await ReadAsync()).Payload));
        }

        var rows = new List<string?[]>();
        while (true)
        {
            (byte[] payload, _) = await ReadAsync();
            if (MySqlPacketHeader.IsEndOfRows(payload, Capabilities) || MySqlPacketHeader.IsErr(payload))
            {
                return (columns, rows, payload);
            }

            var row = new MySqlPayloadReader(payload);
            var values = new string?[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = row.TryReadLengthEncodedBytes(out ReadOnlySpan<byte> value) ? System.Text.Encoding.UTF8.GetString(value) : null;
            }

            rows.Add(values);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
