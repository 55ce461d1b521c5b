using System.Diagnostics;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Engines.Postgres;
using LakeOps.Edge.Frontends.Admission;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

internal sealed partial class PgPassthroughSession
{
    /// <summary>Arms the session's one timer (the caller holds <see cref="_gate"/>); zero disarms it.</summary>
    private void ArmLocked(DeadlineKind kind, TimeSpan after)
    {
        if (after <= TimeSpan.Zero)
        {
            if (_deadlineKind != DeadlineKind.None)
            {
                _deadlineKind = DeadlineKind.None;
                _deadline!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        // Created on first use: most sessions never need it.
        _deadline ??= TimeProvider.System.CreateTimer(static state => ((PgPassthroughSession)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _deadlineKind = kind;
        _deadlineAt = Deadline(after);
        _deadline.Change(after, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Nothing is owed: the idle (or idle-in-transaction) limit runs.</summary>
    private void ArmIdleLocked()
    {
        if (_status != PgTransactionStatus.Idle && _listener.Limits.IdleInTransactionTimeout > TimeSpan.Zero)
        {
            ArmLocked(DeadlineKind.IdleInTransaction, _listener.Limits.IdleInTransactionTimeout);
        }
        else
        {
            ArmLocked(DeadlineKind.Idle, _listener.Limits.IdleTimeout);
        }
    }

    private void OnDeadline()
    {
        PgServerConnection? cancel = null;
        bool end = false;
        lock (_gate)
        {
            if (_deadlineKind == DeadlineKind.None)
            {
                return;
            }

            // Early (timer granularity), or a late tick of an earlier arming: wait for the current deadline.
            long remaining = _deadlineAt - Stopwatch.GetTimestamp();
            if (remaining > 0)
            {
                _deadline!.Change(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency), Timeout.InfiniteTimeSpan);
                return;
            }

            DeadlineKind kind = _deadlineKind;
            _deadlineKind = DeadlineKind.None;
            if (kind == DeadlineKind.Statement)
            {
                cancel = _pendingSyncs > 0 ? _attached : null;
            }
            else if (_pendingSyncs == 0 && !_clientBusy && !_stopping)
            {
                _timedOut = kind;
                end = true;
            }
        }

        if (cancel is not null)
        {
            _ = SendCancelAsync(cancel, $"statement_timeout {_group.StatementTimeout.TotalSeconds:0.###} s of group '{_group.Name}'");
        }

        if (end)
        {
            _transport.Reader.CancelPendingRead();
        }
    }

    /// <summary>Stops the pump (idempotent); afterwards the client loop may write to the client.</summary>
    private async ValueTask StopPumpAsync()
    {
        Task? pump = _pump;
        if (pump is null)
        {
            return;
        }

        PgServerConnection? server;
        bool wake;
        lock (_gate)
        {
            // From here on the pump returns no connection, so interrupting the attached one's read is safe.
            _stopping = true;
            wake = _pumpWaiting;
            _pumpWaiting = false;
            server = _attached;
        }

        if (wake)
        {
            _signal!.Set();
        }
        else
        {
            server?.Input.CancelPendingRead();
            _transport.Writer.CancelPendingFlush();
        }

        await pump.ConfigureAwait(false);
        _pump = null;
    }

    /// <summary>
    /// The client left: a connection with work in flight is cancelled and closed; one inside a transaction is
    /// rolled back, a pinned one is reset with DISCARD ALL; only then does it go back to the pool.
    /// </summary>
    private async ValueTask ReleaseServerAsync()
    {
        PgServerConnection? server;
        StatementLease lease;
        bool inFlight;
        bool dirty;
        bool pinned;
        lock (_gate)
        {
            server = _attached;
            _attached = null;
            lease = TakeLeaseLocked();
            // Mid-batch (a protocol error ended the session) the connection's writer may hold unsent bytes.
            inFlight = _clientBusy || _pendingSyncs > 0 || _halfBatch || _inbox.Count > 0 || _responses.Pending > 0 || _responses.InFrame;
            dirty = _status != PgTransactionStatus.Idle;
            pinned = _pinned;
        }

        try
        {
            if (server is not null)
            {
                await ReturnLastServerAsync(server, inFlight, dirty, pinned).ConfigureAwait(false);
            }
        }
        finally
        {
            // After the pool has the connection back (or it is closed), so the next admitted borrower finds it.
            lease.Dispose();
        }
    }

    private async ValueTask ReturnLastServerAsync(PgServerConnection server, bool inFlight, bool dirty, bool pinned)
    {
        if (inFlight || server.IsBroken)
        {
            // Its reply would go nowhere and its state is unknown: stop the statement and close the connection.
            if (!server.IsBroken)
            {
                _ = SendCancelAsync(server, "the client left with a statement running");
            }

            server.MarkBroken();
            PoolOf(server).Return(server);
            return;
        }

        if (dirty || pinned)
        {
            try
            {
                await CleanUpAsync(server, dirty, pinned).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsIoFailure(ex) || ex is OperationCanceledException)
            {
                Log.Warn(EventId.SessionFailed, $"resetting {server} after '{_user}' left failed: {ex.Message}");
                server.MarkBroken();
            }
        }

        PoolOf(server).Return(server);
    }

    private static async ValueTask CleanUpAsync(PgServerConnection server, bool rollback, bool discard)
    {
        using var timeout = new CancellationTokenSource(CleanupTimeout);
        int expected = 0;
        if (rollback)
        {
            PgFrontendWriter.WriteQuery(server.Output, "ROLLBACK");
            expected++;
        }

        if (discard)
        {
            PgFrontendWriter.WriteQuery(server.Output, "DISCARD ALL");
            expected++;
        }

        await server.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
        bool failed = false;
        while (expected > 0)
        {
            byte type = await server.Messages.ReadAsync(timeout.Token).ConfigureAwait(false);
            if (type == PgMessageTypes.ErrorResponse)
            {
                failed = true;
            }
            else if (type == PgMessageTypes.ReadyForQuery)
            {
                server.TransactionStatus = server.Messages.Body.Span[0];
                expected--;
            }
        }

        server.Messages.Release();
        if (discard)
        {
            // DISCARD ALL dropped every prepared statement and setting on it.
            ServerConnectionState.For(server).Clear();
            server.SettingsKey = "";
        }

        if (failed || server.TransactionStatus != PgTransactionStatus.Idle)
        {
            server.MarkBroken();
        }
    }
}
