using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>
/// A bare socket speaking the PostgreSQL protocol, for sending exactly the bytes a test needs
/// (including broken ones) and reading the server's messages one by one.
/// </summary>
public sealed class RawPgClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawPgClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawPgClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return new RawPgClient(socket);
    }

    /// <summary>Connects and completes a trust-auth startup up to the first ReadyForQuery.</summary>
    public static async Task<RawPgClient> ConnectReadyAsync(int port, string user = "edge", string database = "local")
    {
        RawPgClient client = await ConnectAsync(port);
        await client.SendAsync(w => PgFrontendWriter.WriteStartup(w, [new("user", user), new("database", database)]));
        await client.ReadUntilAsync('Z');
        return client;
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        await _stream.WriteAsync(buffer.WrittenMemory);
    }

    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>The next backend message, or null when the server closed the connection.</summary>
    public async Task<(char Type, byte[] Body)?> ReadAsync(int timeoutSeconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        byte[] header = new byte[5];
        if (!await ReadExactlyAsync(header, cts.Token))
        {
            return null;
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        byte[] body = new byte[length - 4];
        if (!await ReadExactlyAsync(body, cts.Token))
        {
            return null;
        }

        return ((char)header[0], body);
    }

    /// <summary>Reads messages until one of type <paramref name="type"/>; returns all read, that one last.</summary>
    public async Task<List<(char Type, byte[] Body)>> ReadUntilAsync(char type)
    {
        var messages = new List<(char, byte[])>();
        while (true)
        {
            (char Type, byte[] Body)? message = await ReadAsync() ?? throw new IOException($"connection closed before '{type}'; got {string.Join(",", messages.Select(m => m.Item1))}");
            messages.Add(message.Value);
            if (message.Value.Type == type)
            {
                return messages;
            }
        }
    }

    /// <summary>True once the server has closed the connection (reads until EOF, discarding messages).</summary>
    public async Task<bool> WaitForCloseAsync(int timeoutSeconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        byte[] scratch = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(scratch, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Reads exactly one byte (the answer to SSLRequest/GSSENCRequest).</summary>
    public async Task<byte> ReadSingleByteAsync()
    {
        byte[] one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await ReadExactlyAsync(one, cts.Token) ? one[0] : throw new IOException("connection closed");
    }

    /// <summary>The SQLSTATE (field 'C') of an ErrorResponse or NoticeResponse body.</summary>
    public static string ErrorCode(byte[] body) => ErrorField(body, 'C');

    public static string ErrorField(byte[] body, char field)
    {
        int i = 0;
        while (i < body.Length && body[i] != 0)
        {
            char code = (char)body[i];
            int end = Array.IndexOf(body, (byte)0, i + 1);
            if (code == field)
            {
                return Encoding.UTF8.GetString(body, i + 1, end - i - 1);
            }

            i = end + 1;
        }

        return "";
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            }
            catch (IOException)
            {
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
