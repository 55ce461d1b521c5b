using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Engines.MySql;
using LakeOps.Edge.Protocols.MySql;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.MySql;

/// <summary>
/// caching_sha2_password from the client side. MariaDB does not implement it, so the server here is Edge's own
/// MySQL front door: the published binary named by EDGE_BINARY (as for the integration tests). Without it these
/// tests return early, since unit tests run before the binary is published.
/// </summary>
public sealed class MySqlCachingSha2Tests
{
    private const string Password = "sha2-Secret";

    [Fact]
    public async Task Full_authentication_with_rsa_then_the_fast_path_and_full_authentication_over_tls()
    {
        string? binary = PublishedBinary();
        if (binary is null)
        {
            return; // no published binary in this run (see the class summary)
        }

        MariaDbTestServer maria = await MariaDbTestServer.GetAsync();
        string directory = Directory.CreateTempSubdirectory("edge-sha2").FullName;
        int port = FreePort();
        string verifier = ScramVerifier.Create(Password).ToString();
        string tls = maria.CertificatePath is { } cert
            ? $"    tls:\n      certificate: {cert}\n      key: {Path.Combine(Path.GetDirectoryName(cert)!, "server-key.pem")}\n      required: false\n"
            : "";
        string config = $"""
            listeners:
              my:
                protocol: mysql
                address: 127.0.0.1:{port}
                auth: caching_sha2_password
            {tls}users:
              alice:
                scram: "{verifier}"
              bob:
                scram: "{verifier}"
            clusters:
              duckdb:
                engine: duckdb
            groups:
              local:
                clusters: [duckdb]
            routing:
              default_group: local
            """;
        string configPath = Path.Combine(directory, "edge.yaml");
        await File.WriteAllTextAsync(configPath, config);
        using Process edge = await StartAsync(binary, configPath);
        try
        {
            // Nothing cached yet and no TLS: the password goes RSA-encrypted with the server's public key.
            await using (MySqlServerConnection first = await ConnectAsync(port, "alice", EngineTlsMode.Disable))
            {
                Assert.Equal(MySqlAuthPackets.CachingSha2Password, first.AuthPlugin);
                Assert.False(first.IsTls);
                Assert.True(await first.PingAsync(CancellationToken.None));
            }

            // Now cached: the scramble alone (fast path).
            await using (MySqlServerConnection second = await ConnectAsync(port, "alice", EngineTlsMode.Disable))
            {
                Assert.True(await second.PingAsync(CancellationToken.None));
            }

            EngineExceptionAssert(await Assert.ThrowsAsync<Core.Engines.EngineException>(async () => await ConnectAsync(port, "alice", EngineTlsMode.Disable, "wrong")));

            if (tls.Length > 0)
            {
                // bob is not cached: full authentication over TLS sends the password itself.
                await using MySqlServerConnection secure = await ConnectAsync(port, "bob", EngineTlsMode.Require);
                Assert.True(secure.IsTls);
                Assert.True(await secure.PingAsync(CancellationToken.None));
            }
        }
        finally
        {
            edge.Kill(entireProcessTree: true);
            await edge.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void EngineExceptionAssert(Core.Engines.EngineException error)
    {
        Assert.Equal(Core.Engines.SqlStates.ConnectionFailure, error.SqlState);
        Assert.Contains("Access denied", error.Message, StringComparison.Ordinal);
    }

    private static async Task<MySqlServerConnection> ConnectAsync(int port, string user, EngineTlsMode tls, string password = Password)
    {
        var remote = new RemoteEngineOptions { Host = "127.0.0.1", Port = port, User = user, Password = password, Database = "local", Tls = tls };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await MySqlServerConnection.ConnectAsync(new MySqlConnectOptions("edge-itself", remote, MySqlEngine.DefaultFormat), timeout.Token);
    }

    // Only a binary named explicitly: a stale artifacts/ build from an earlier run may predate the MySQL front door.
    private static string? PublishedBinary() =>
        Environment.GetEnvironmentVariable("EDGE_BINARY") is { Length: > 0 } path && File.Exists(path) ? path : null;

    /// <summary>Starts Edge and returns once it logged that it is ready.</summary>
    private static async Task<Process> StartAsync(string binary, string configPath)
    {
        var info = new ProcessStartInfo(binary, ["run", "--config", configPath]) { RedirectStandardError = true, RedirectStandardOutput = true };
        Process process = Process.Start(info)!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        void OnLine(string? line)
        {
            lock (log)
            {
                log.AppendLine(line);
            }

            if (line?.Contains("ready in", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        }

        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("lakeops-edge exited during startup:\n" + log));
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(30))) != ready.Task)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("lakeops-edge did not start:\n" + log);
        }

        await ready.Task;
        return process;
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
