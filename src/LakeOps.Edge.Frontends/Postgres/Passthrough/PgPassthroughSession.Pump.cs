using System.Buffers;
using System.IO.Pipelines;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

internal sealed partial class PgPassthroughSession
{
    /// <summary>
    /// The response pump: the only writer to the client after login. Emits Edge's own answers, reads the
    /// attached server connection while it owes something, forwards its frames, and returns the connection
    /// to the pool when the client's transaction is over. One async loop for the whole session, so a
    /// transaction costs no task allocation.
    /// </summary>
    private async Task PumpAsync()
    {
        PipeWriter client = _transport.Writer;
        try
        {
            while (true)
            {
                PgServerConnection? server;
                PgServerConnection? release = null;
                StatementLease lease = default;
                bool wait = false;
                bool read;
                lock (_gate)
                {
                    if (_stopping)
                    {
                        return;
                    }

                    PullInboxLocked();
                    server = _attached;
                    read = server is not null && MustReadLocked();
                    if (server is not null && CanReleaseLocked())
                    {
                        release = server;
                        _attached = null;
                        lease = TakeLeaseLocked();
                        server = null;
                    }
                    else if (_responses.Pending == 0 && !read)
                    {
                        _pumpWaiting = true;
                        (_signal ??= new()).Reset();
                        wait = true;
                    }
                }

                if (release is not null)
                {
                    PoolOf(release).Return(release);
                    lease.Dispose();
                    continue;
                }

                if (wait)
                {
                    await _signal!.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                bool emitted = _responses.EmitSynthetic(client);
                if (server is null && !emitted && _responses.Pending > 0)
                {
                    // Owed server responses without a server: cannot happen by construction; never spin on it.
                    _responses.Abort(client, ClientMessageForwarder.ErrorFrame(SqlStates.InternalError, "lost track of the server connection"), PgTransactionStatus.Idle);
                    emitted = true;
                }

                if (emitted && !await FlushClientAsync(client).ConfigureAwait(false))
                {
                    return;
                }

                if (server is null || !read)
                {
                    continue;
                }

                ReadResult result;
                try
                {
                    result = await server.Input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (IsIoFailure(ex))
                {
                    string reason = _responses.FatalError is { } fatal ? $"{fatal.Message} (SQLSTATE {fatal.SqlState})" : ex.Message;
                    if (!await LoseServerAsync(server, reason, client).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                string? lost = null;
                bool released = false;
                if (_published != _pulled)
                {
                    lock (_gate)
                    {
                        PullInboxLocked();
                    }
                }

                while (true)
                {
                    ForwardStop stop = _responses.Forward(ref buffer, client);
                    if (stop == ForwardStop.SyncPoint)
                    {
                        if (CompleteSyncPoint(server))
                        {
                            released = true;
                            break;
                        }

                        continue;
                    }

                    if (stop == ForwardStop.Desynchronized)
                    {
                        lost = _responses.DesyncReason;
                    }

                    break;
                }

                if (released)
                {
                    // Consumed up to the ReadyForQuery; the connection goes back before the client is flushed.
                    server.Input.AdvanceTo(buffer.Start);
                    PoolOf(server).Return(server);
                    _returning.Dispose();
                    ProcessFailedParses();
                    if (!await FlushClientAsync(client).ConfigureAwait(false))
                    {
                        return;
                    }

                    // CompleteSyncPoint armed the wake-up already (nothing else was owed).
                    if (_waitAfterRelease)
                    {
                        _waitAfterRelease = false;
                        await _signal!.WaitAsync().ConfigureAwait(false);
                    }

                    continue;
                }
                else
                {
                    server.Input.AdvanceTo(buffer.Start, buffer.End);
                    if (lost is null && result.IsCompleted)
                    {
                        lost = _responses.FatalError is { } fatal
                            ? $"{fatal.Message} (SQLSTATE {fatal.SqlState})"
                            : "the server closed the connection";
                    }
                    else if (lost is null && result.IsCanceled && server.IsBroken)
                    {
                        lost = "writing to the server failed";
                    }
                }

                ProcessFailedParses();
                if (!await FlushClientAsync(client).ConfigureAwait(false))
                {
                    return;
                }

                if (lost is not null && !await LoseServerAsync(server, lost, client).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            // The client went away while we wrote to it; the client loop ends on its own.
        }
        finally
        {
            bool stopping;
            lock (_gate)
            {
                _pumpEnded = true;
                stopping = _stopping;
            }

            if (!stopping)
            {
                _transport.Reader.CancelPendingRead();
            }
        }
    }

    /// <summary>Moves what the client loop published into the forwarder's queue (the caller holds <see cref="_gate"/>).</summary>
    private void PullInboxLocked()
    {
        _pulled = _published;
        while (_inbox.Count > 0)
        {
            _responses.Enqueue(_inbox.RemoveHead());
        }

        if (_responses.DroppedSyncPoints > 0)
        {
            _pendingSyncs = Math.Max(0, _pendingSyncs - _responses.DroppedSyncPoints);
            _responses.DroppedSyncPoints = 0;
        }
    }

    /// <summary>Whether the server owes the client something (or may send it notifications).</summary>
    private bool MustReadLocked() =>
        _pendingSyncs > 0 || _halfBatch || _status != PgTransactionStatus.Idle || _pinned;

    private bool CanReleaseLocked() =>
        !_stopping && _attached is not null && _pendingSyncs == 0 && !_halfBatch && !_clientBusy
        && _status == PgTransactionStatus.Idle && !_pinned && _responses.Pending == 0 && !_responses.InFrame;

    /// <summary>A ReadyForQuery arrived: session bookkeeping, then whether the connection goes back to the pool.</summary>
    private bool CompleteSyncPoint(PgServerConnection server)
    {
        byte status = _responses.LastStatus;
        server.TransactionStatus = status;
        bool clearClient = false;
        if (_responses.LastSwallowed)
        {
            if (_responses.LastHadError)
            {
                server.SettingsKey = null;
                Log.Warn(EventId.SessionFailed, $"replaying the session settings of '{_user}' on {server} failed; the session continues with the server's defaults");
            }
        }
        else if (_responses.LastEffects is not null || _settings.HasPending)
        {
            List<StatementEffects>? effects = _responses.LastEffects;
            server.SettingsKey = _settings.Complete(effects, _responses.LastHadError, status, _responses.LastEndedWithRollback, server.SettingsKey);
            _responses.TrackTransactionEnd = _settings.HasPending;
            if (effects is not null && !_responses.LastHadError && effects.Exists(static e => e.ClearsPreparedStatements))
            {
                ServerConnectionState.For(server).Clear();
                clearClient = true;
            }
        }

        lock (_gate)
        {
            PullInboxLocked();
            _pendingSyncs = Math.Max(0, _pendingSyncs - 1);
            _status = status;
            _clearClientStatements |= clearClient;
            if (_pendingSyncs == 0)
            {
                ArmIdleLocked();
            }

            if (CanReleaseLocked())
            {
                _attached = null;
                _returning = TakeLeaseLocked();

                // Nothing is owed and no server is attached: the pump will wait for the client next.
                _pumpWaiting = true;
                (_signal ??= new()).Reset();
                _waitAfterRelease = true;
                return true;
            }
        }

        return false;
    }

    private bool _waitAfterRelease;

    /// <summary>Undoes the bookkeeping of Parses the server did not carry out.</summary>
    private void ProcessFailedParses()
    {
        List<ParseTicket>? failed = _responses.FailedParses;
        if (failed is null || failed.Count == 0)
        {
            return;
        }

        foreach (ParseTicket ticket in failed)
        {
            if (ticket.Statement is not null)
            {
                ticket.Connection.Remove(ticket.Statement);
            }
        }

        lock (_gate)
        {
            foreach (ParseTicket ticket in failed)
            {
                if (ticket.ClientName is not null)
                {
                    (_failedClientParses ??= []).Add(ticket);
                }
            }
        }

        failed.Clear();
    }

    /// <summary>
    /// The attached server connection failed. The client gets 08006 for what it was owed (and its session
    /// survives); the connection goes back to the pool as broken. Returns false when the pump must stop.
    /// </summary>
    private async ValueTask<bool> LoseServerAsync(PgServerConnection server, string reason, PipeWriter client)
    {
        bool inTransaction;
        bool pinned;
        bool half;
        StatementLease lease;
        while (true)
        {
            lock (_gate)
            {
                if (_stopping)
                {
                    return false;
                }

                // Everything the client loop sent to this connection must be in the inbox first.
                if (!_clientBusy)
                {
                    PullInboxLocked();
                    _attached = null;
                    lease = TakeLeaseLocked();
                    inTransaction = _status != PgTransactionStatus.Idle;
                    pinned = _pinned;
                    half = _halfBatch;
                    _pinned = false;
                    _halfBatch = false;
                    _skipRequested |= half;
                    _pendingSyncs = 0;
                    _status = PgTransactionStatus.Idle;
                    break;
                }

                _pumpWaiting = true;
                (_signal ??= new()).Reset();
            }

            await _signal!.WaitAsync().ConfigureAwait(false);
        }

        server.MarkBroken();
        PoolOf(server).Return(server);
        lease.Dispose();
        ReportServerLost(server, reason);
        Log.Warn(EventId.SessionFailed, $"session of '{_user}' lost its server connection ({server}): {reason}");
        if (_responses.InFrame)
        {
            // Part of a message already went to the client; its stream cannot be repaired.
            lock (_gate)
            {
                _clientStreamBroken = true;
            }

            return false;
        }

        byte[] error = ClientMessageForwarder.ErrorFrame(
            SqlStates.ConnectionFailure,
            $"the server connection of cluster '{ClusterName}' was lost: {reason}{(inTransaction ? "; the transaction is rolled back" : "")}");
        bool answered = _responses.Abort(client, error, inTransaction ? PgTransactionStatus.Failed : PgTransactionStatus.Idle);
        _settings.DropPending();
        _responses.TrackTransactionEnd = false;
        ProcessFailedParses();
        lock (_gate)
        {
            _emulateFailedTransaction |= inTransaction;
            if (!answered && (inTransaction || pinned))
            {
                // Nothing was owed: tell the client with its next request.
                _lossError = error;
            }

            ArmIdleLocked();
        }

        return await FlushClientAsync(client).ConfigureAwait(false);
    }

    /// <summary>Flushes the client; false when the pump must stop (client gone, or stopping).</summary>
    private ValueTask<bool> FlushClientAsync(PipeWriter client)
    {
        if (client.CanGetUnflushedBytes && client.UnflushedBytes == 0)
        {
            return new ValueTask<bool>(true);
        }

        ValueTask<FlushResult> flushing = client.FlushAsync();
        return flushing.IsCompletedSuccessfully ? new ValueTask<bool>(FlushSucceeded(flushing.Result)) : FlushClientSlowAsync(flushing);
    }

    private async ValueTask<bool> FlushClientSlowAsync(ValueTask<FlushResult> flushing) => FlushSucceeded(await flushing.ConfigureAwait(false));

    private bool FlushSucceeded(FlushResult flushed)
    {
        if (flushed.IsCompleted)
        {
            return false;
        }

        if (flushed.IsCanceled)
        {
            lock (_gate)
            {
                return !_stopping;
            }
        }

        return true;
    }
}
