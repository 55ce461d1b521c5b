using System.Runtime.InteropServices;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge;

/// <summary>
/// SIGTERM/SIGINT handling for the drain: the first signal asks for a graceful stop (no new
/// connections, running statements finish, idle clients are told the server is shutting down); a
/// second signal, or server.shutdown_timeout running out, ends the process at once with
/// <see cref="ForcedExitCode"/> so the operator (and systemd) can tell an unclean stop from a clean one.
/// </summary>
internal sealed partial class ShutdownSignals : IDisposable
{
    /// <summary>Exit code of a forced stop (a second signal or the drain timeout); a drained stop exits 0.</summary>
    public const int ForcedExitCode = 3;

    private readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _forced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration _onTerm;
    private readonly PosixSignalRegistration _onInt;
    private int _signals;

    public ShutdownSignals()
    {
        _onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        _onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    /// <summary>Completes on the first SIGTERM or SIGINT.</summary>
    public Task Requested => _requested.Task;

    private void OnSignal(PosixSignalContext context)
    {
        // The runtime's default would end the process: we drain instead.
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _requested.TrySetResult();
        }
        else
        {
            _forced.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for <paramref name="drained"/> (every listener stopped and its sessions ended); on a second
    /// signal or after <paramref name="timeout"/> it logs why and exits the process without returning.
    /// </summary>
    public async Task DrainOrExitAsync(Task drained, TimeSpan timeout)
    {
        Task first = await Task.WhenAny(drained, _forced.Task, Task.Delay(timeout)).ConfigureAwait(false);
        if (first == drained)
        {
            await drained.ConfigureAwait(false);
            return;
        }

        Log.Error(
            EventId.ShutdownForced,
            first == _forced.Task
                ? $"second stop signal: exiting now (exit code {ForcedExitCode}) without waiting for running statements"
                : $"statements still running after server.shutdown_timeout ({timeout.TotalSeconds:0.###} s): exiting now (exit code {ForcedExitCode})");
        ExitNow(ForcedExitCode);
    }

    /// <summary>Ends the process without running anything else: engines or sessions that hang cannot hold it.</summary>
    private static void ExitNow(int code)
    {
        Log.Output.Flush();
        Console.Out.Flush();
        ExitProcess(code);
    }

    public void Dispose()
    {
        _onTerm.Dispose();
        _onInt.Dispose();
    }

    // _exit(2), not exit(3): no atexit handlers or native library destructors that could block.
    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void ExitProcess(int status);
}
