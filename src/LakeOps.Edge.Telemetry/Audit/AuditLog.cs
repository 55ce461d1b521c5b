using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;

namespace LakeOps.Edge.Telemetry.Audit;

/// <summary>
/// The audit sink: sessions hand records to <see cref="TryWrite"/> on their hot path (never blocks, never
/// allocates, no lock); one background thread appends them to the file as JSON lines, writing whenever
/// it has drained the queue (so at least every <see cref="WriterWait"/>) and on shutdown. When the queue is
/// full the record is dropped and counted: the gateway never slows down for its audit. Disabled (the
/// default), <see cref="TryWrite"/> is one field test and nothing else runs.
/// </summary>
public sealed class AuditLog : IDisposable
{
    /// <summary>The longest the writer sleeps while records may be waiting.</summary>
    public static readonly TimeSpan WriterWait = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReconfigureWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RecalibrateInterval = TimeSpan.FromMinutes(1);
    private const int WriteThreshold = 64 * 1024;

    private static long s_queryIds;

    // A monitor, not a Lock: Flush waits on it for the writer's signal.
    private readonly object _gate = new();
    private readonly AutoResetEvent _wake = new(false);

    // Read by producers: a disabled log is one volatile read in TryWrite.
    private volatile bool _enabled;
    private volatile bool _includeSql;
    private volatile AuditRing? _ring;

    // Under _gate (never held across I/O).
    private AuditConfig _config;
    private bool _reconfigure;

    // Reconfigure waits until the writer has reopened, so records written after it returns go to the new file.
    private long _reconfigureRequested;
    private long _reconfigureApplied;
    private bool _disposed;
    private long _flushRequested;
    private long _flushCompleted;

    private Thread? _writer;
    private bool _startWriter;
    private long _dropped;
    private long _written;

    public AuditLog(AuditConfig config)
        : this(config, startWriter: true)
    {
    }

    /// <summary>Tests: <paramref name="startWriter"/> false keeps records queued until <see cref="StartWriter"/>.</summary>
    internal AuditLog(AuditConfig config, bool startWriter)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _startWriter = startWriter;
        Apply(config);
    }

    /// <summary>True while records are accepted.</summary>
    public bool Enabled => _enabled;

    /// <summary>Sessions pass the statement text (which may need decoding) only when this is on.</summary>
    public bool IncludeSql => _includeSql;

    /// <summary>Records refused because the queue was full or the file could not be written.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records written to the file.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>A process-unique, increasing query id.</summary>
    public static long NextQueryId() => Interlocked.Increment(ref s_queryIds);

    /// <summary>Queues a record for the writer. Never blocks; false when disabled or the record was dropped.</summary>
    public bool TryWrite(in AuditRecord record)
    {
        if (!_enabled)
        {
            return false;
        }

        AuditRing? ring = _ring;
        if (ring is not null && ring.TryEnqueue(record))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>
    /// A config (re)load: applies enabled / path / include_sql / max_sql_length and reopens the file, so
    /// logrotate's rename followed by SIGHUP starts a new file. buffer_size applies when the queue is first made.
    /// </summary>
    public void Reconfigure(AuditConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long target;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _config = config;
            _reconfigure = true;
            target = ++_reconfigureRequested;
        }

        Apply(config);
        _wake.Set();
        long deadline = Stopwatch.GetTimestamp() + (long)(ReconfigureWait.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            while (_reconfigureApplied < target && _writer is not null)
            {
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    return;
                }

                Monitor.Wait(_gate, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            }
        }
    }

    /// <summary>Waits until every record queued before the call is in the file; false on timeout.</summary>
    public bool Flush(TimeSpan timeout)
    {
        long target;
        lock (_gate)
        {
            if (_writer is null || _disposed)
            {
                return _writer is null;
            }

            target = ++_flushRequested;
        }

        _wake.Set();
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            while (_flushCompleted < target)
            {
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0 || _writer is null)
                {
                    return _flushCompleted >= target;
                }

                Monitor.Wait(_gate, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            }
        }

        return true;
    }

    /// <summary>Stops accepting records, writes what is queued, and closes the file.</summary>
    public void Dispose()
    {
        Thread? writer;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
        }

        _enabled = false;
        _wake.Set();
        writer?.Join();
        _wake.Dispose();
    }

    private void Apply(AuditConfig config)
    {
        _includeSql = config.IncludeSql;
        if (config.Enabled && config.Path is not null)
        {
            // The queue first, so a producer that sees _enabled also sees it.
            _ring ??= new AuditRing(config.BufferSize);
            if (_startWriter)
            {
                StartWriter();
            }

            _enabled = true;
        }
        else
        {
            _enabled = false;
        }
    }

    internal void StartWriter()
    {
        lock (_gate)
        {
            _startWriter = true;
            if (_writer is not null || _disposed)
            {
                return;
            }

            _writer = new Thread(WriterLoop) { IsBackground = true, Name = "lakeops-audit" };
            _writer.Start();
        }
    }

    private void WriterLoop()
    {
        var output = new ArrayBufferWriter<byte>(WriteThreshold * 2);
        using Utf8JsonWriter json = AuditJson.CreateWriter(output);
        FileStream? file = null;
        string? openPath = null;
        AuditConfig config;
        lock (_gate)
        {
            config = _config;
        }

        long lastWarning = 0;
        long droppedReported = 0;
        long lastCalibration = Stopwatch.GetTimestamp();
        bool failing = false;
        try
        {
            while (true)
            {
                bool stopping;
                bool reconfigure;
                long reconfigureRequest;
                long flushRequest;
                lock (_gate)
                {
                    stopping = _disposed;
                    reconfigure = _reconfigure;
                    _reconfigure = false;
                    reconfigureRequest = _reconfigureRequested;
                    flushRequest = _flushRequested;
                    if (reconfigure)
                    {
                        config = _config;
                    }
                }

                // After a failed open, retry only when there is something to write (not on every wake-up).
                if (reconfigure || (file is null && config.Enabled && (!failing || _ring is { Count: > 0 })))
                {
                    // Records queued under the old settings go to the old file first.
                    if (reconfigure && file is not null)
                    {
                        Drain(json, output, ref file, config, ref failing);
                    }

                    file?.Dispose();
                    file = null;
                    openPath = config.Enabled ? config.Path : null;
                    file = Open(openPath, ref failing);
                    lock (_gate)
                    {
                        _reconfigureApplied = Math.Max(_reconfigureApplied, reconfigureRequest);
                        Monitor.PulseAll(_gate);
                    }
                }

                int drained = Drain(json, output, ref file, config, ref failing);
                lock (_gate)
                {
                    if (flushRequest > _flushCompleted)
                    {
                        _flushCompleted = flushRequest;
                        Monitor.PulseAll(_gate);
                    }
                }

                ReportDrops(ref droppedReported, ref lastWarning);
                if (Stopwatch.GetElapsedTime(lastCalibration) > RecalibrateInterval)
                {
                    AuditClock.Recalibrate();
                    lastCalibration = Stopwatch.GetTimestamp();
                }

                if (stopping)
                {
                    return;
                }

                if (drained == 0)
                {
                    _wake.WaitOne(_enabled ? WriterWait : TimeSpan.FromSeconds(1));
                }
            }
        }
        finally
        {
            file?.Dispose();
            lock (_gate)
            {
                _flushCompleted = _flushRequested;
                _writer = null;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Writes every queued record; returns how many were taken.</summary>
    private int Drain(Utf8JsonWriter json, ArrayBufferWriter<byte> output, ref FileStream? file, AuditConfig config, ref bool failing)
    {
        AuditRing? ring = _ring;
        if (ring is null)
        {
            return 0;
        }

        int count = 0;
        int pending = 0;
        while (ring.TryDequeue(out AuditRecord record))
        {
            count++;
            pending++;
            AuditJson.WriteLine(json, output, record, config.IncludeSql, config.MaxSqlLength);
            if (output.WrittenCount >= WriteThreshold)
            {
                WriteOut(output, ref file, pending, ref failing);
                pending = 0;
            }
        }

        if (pending > 0)
        {
            WriteOut(output, ref file, pending, ref failing);
        }

        return count;
    }

    private void WriteOut(ArrayBufferWriter<byte> output, ref FileStream? file, int records, ref bool failing)
    {
        if (file is null)
        {
            Interlocked.Add(ref _dropped, records);
        }
        else
        {
            try
            {
                file.Write(output.WrittenSpan);
                file.Flush();
                Interlocked.Add(ref _written, records);
                failing = false;
            }
            catch (IOException ex)
            {
                Interlocked.Add(ref _dropped, records);
                if (!failing)
                {
                    Log.Error(EventId.AuditFailed, $"writing the audit file {file.Name} failed: {ex.Message}; records are dropped until it works again");
                    failing = true;
                }
            }
        }

        output.ResetWrittenCount();
    }

    private static FileStream? Open(string? path, ref bool failing)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            // Unbuffered: the writer hands whole batches of lines to the OS. ReadWrite|Delete: logrotate may rename it.
            return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (!failing)
            {
                Log.Error(EventId.AuditFailed, $"cannot open the audit file {path}: {ex.Message}; records are dropped until it can be opened (retried while records arrive)");
                failing = true;
            }

            return null;
        }
    }

    private void ReportDrops(ref long reported, ref long lastWarning)
    {
        long dropped = Dropped;
        if (dropped == reported || (lastWarning != 0 && Stopwatch.GetElapsedTime(lastWarning) < WarningInterval))
        {
            return;
        }

        Log.Warn(EventId.AuditDropped, $"audit: {dropped - reported} records dropped ({dropped} since start): the queue of audit.buffer_size records was full or the file could not be written");
        reported = dropped;
        lastWarning = Stopwatch.GetTimestamp();
    }
}
