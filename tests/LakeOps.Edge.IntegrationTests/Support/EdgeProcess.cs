using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>
/// The published AOT binary, started with a config written for the test on free loopback ports.
/// Start returns once the process logged that it is ready; Dispose stops it with SIGTERM.
/// </summary>
public sealed class EdgeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EdgeProcess(Process process, string directory, int port)
    {
        _process = process;
        Directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Directory { get; }

    public int ProcessId => _process.Id;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public string ConnectionString(string user = "edge", string database = "local", string extra = "") =>
        $"Host=127.0.0.1;Port={Port};Username={user};Database={database};Pooling=false;Timeout=15;Command Timeout=60{(extra.Length > 0 ? ";" + extra : "")}";

    /// <summary>libpq connection string for psql/pgbench.</summary>
    public string LibpqConnection(string user = "edge", string database = "local") => $"host=127.0.0.1 port={Port} user={user} dbname={database}";

    public static string BinaryPath
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("EDGE_BINARY");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }

            return Path.Combine(RepositoryRoot, "artifacts", "publish", "linux-x64", "lakeops-edge");
        }
    }

    /// <summary>The checkout the tests run from (the folder holding LakeOps.Edge.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "LakeOps.Edge.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("LakeOps.Edge.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Starts Edge; <paramref name="configYaml"/> may use {PORT} and {DIR} placeholders.</summary>
    public static async Task<EdgeProcess> StartAsync(string configYaml, IDictionary<string, string>? environment = null, IReadOnlyList<string>? runArguments = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "edge-it-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        int port = FreePort();
        string configPath = Path.Combine(directory, "edge.yaml");
        await File.WriteAllTextAsync(configPath, Fill(configYaml, port, directory));

        var info = new ProcessStartInfo(BinaryPath, ["run", "--config", configPath, .. runArguments ?? []])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (environment is not null)
        {
            foreach (KeyValuePair<string, string> pair in environment)
            {
                info.Environment[pair.Key] = pair.Value;
            }
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + BinaryPath);
        var edge = new EdgeProcess(process, directory, port);
        process.ErrorDataReceived += (_, e) => edge.OnLine(e.Data);
        process.OutputDataReceived += (_, e) => edge.OnLine(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => edge._ready.TrySetException(new InvalidOperationException("lakeops-edge exited during startup:\n" + edge.Log));

        Task finished = await Task.WhenAny(edge._ready.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        if (finished != edge._ready.Task)
        {
            await edge.DisposeAsync();
            throw new TimeoutException("lakeops-edge did not become ready within 30 s:\n" + edge.Log);
        }

        await edge._ready.Task;
        return edge;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (line.Contains("ready in", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    private static string Fill(string configYaml, int port, string directory) =>
        configYaml.Replace("{PORT}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{DIR}", directory, StringComparison.Ordinal);

    /// <summary>Rewrites the config file (same {PORT} and {DIR}), sends SIGHUP and returns once Edge logged the reload.</summary>
    public async Task ReloadAsync(string configYaml)
    {
        int before = Occurrences("[1011 ConfigReloaded]");
        await File.WriteAllTextAsync(Path.Combine(Directory, "edge.yaml"), Fill(configYaml, Port, Directory));
        Signal(_process.Id, 1);
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (Occurrences("[1011 ConfigReloaded]") == before)
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException("lakeops-edge did not log a reload:\n" + Log);
            }

            await Task.Delay(10);
        }
    }

    private int Occurrences(string text)
    {
        string log = Log;
        int count = 0;
        for (int at = log.IndexOf(text, StringComparison.Ordinal); at >= 0; at = log.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Resident memory of the Edge process in bytes (from /proc).</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Sends a signal to the Edge process (1 SIGHUP, 2 SIGINT, 15 SIGTERM).</summary>
    public void SendSignal(int signal) => Signal(_process.Id, signal);

    /// <summary>Waits for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);
}
