using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Admission;

namespace LakeOps.Edge.Routing.Tests.Admission;

public class AdmissionGateTests
{
    private static readonly TimeSpan Timeout5s = TimeSpan.FromSeconds(5);

    private static AdmissionGate Gate(int maxRunning, int maxQueued, ManualClock? time = null, TimeSpan? timeout = null) =>
        new(AdmissionScope.Group, "dash", maxRunning, maxQueued, timeout ?? Timeout5s, time ?? new ManualClock());

    /// <summary>Admits on the fast path (completed synchronously) and returns the ticket.</summary>
    private static AdmissionTicket AdmitNow(AdmissionGate gate)
    {
        ValueTask<AdmissionResult> pending = gate.AdmitAsync();
        Assert.True(pending.IsCompletedSuccessfully, "expected to be admitted at once");
        AdmissionResult result = pending.Result;
        Assert.Equal(AdmissionOutcome.Admitted, result.Outcome);
        Assert.Equal(TimeSpan.Zero, result.Waited);
        return result.Ticket;
    }

    private static AdmissionResult Finished(ValueTask<AdmissionResult> pending)
    {
        Assert.True(pending.IsCompleted, "expected the admission to be decided");
        return pending.Result;
    }

    [Fact]
    public void Admits_up_to_max_running_then_queues()
    {
        AdmissionGate gate = Gate(maxRunning: 3, maxQueued: 10);
        AdmissionTicket a = AdmitNow(gate);
        AdmissionTicket b = AdmitNow(gate);
        AdmissionTicket c = AdmitNow(gate);
        Assert.Equal(3, gate.Running);

        ValueTask<AdmissionResult> waiting = gate.AdmitAsync();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, gate.Queued);
        Assert.False(gate.TryAdmit(out AdmissionTicket none));
        Assert.False(none.IsHeld);

        b.Dispose();
        AdmissionResult admitted = Finished(waiting);
        Assert.True(admitted.IsAdmitted);
        Assert.Equal(3, gate.Running);
        Assert.Equal(0, gate.Queued);

        a.Dispose();
        c.Dispose();
        admitted.Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void Rejects_when_the_queue_is_full_and_says_which_group()
    {
        AdmissionGate gate = Gate(maxRunning: 2, maxQueued: 1);
        AdmissionTicket a = AdmitNow(gate);
        AdmissionTicket b = AdmitNow(gate);
        ValueTask<AdmissionResult> queued = gate.AdmitAsync();

        AdmissionResult rejected = Finished(gate.AdmitAsync());

        Assert.Equal(AdmissionOutcome.Rejected, rejected.Outcome);
        Assert.Equal("group 'dash' is full: 2 running, 1 queued", rejected.ErrorMessage());
        Assert.Equal("53300", rejected.SqlState);
        Assert.Equal(1040, rejected.MySqlErrorCode);
        Assert.False(rejected.Ticket.IsHeld);
        Assert.Equal(1, gate.Queued);

        a.Dispose();
        Finished(queued).Ticket.Dispose();
        b.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void With_no_queue_a_full_gate_rejects_at_once()
    {
        var gate = new AdmissionGate(AdmissionScope.Cluster, "pg1", 1, 0, Timeout5s, new ManualClock());
        AdmissionTicket a = AdmitNow(gate);

        AdmissionResult rejected = Finished(gate.AdmitAsync());

        Assert.Equal(AdmissionOutcome.Rejected, rejected.Outcome);
        Assert.Equal("cluster 'pg1' is full: 1 running, 0 queued", rejected.ErrorMessage());
        a.Dispose();
        AdmitNow(gate).Dispose();
    }

    [Fact]
    public void Waiters_are_admitted_in_fifo_order()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 10);
        AdmissionTicket running = AdmitNow(gate);
        var waiting = new ValueTask<AdmissionResult>[6];
        for (int i = 0; i < waiting.Length; i++)
        {
            waiting[i] = gate.AdmitAsync();
        }

        for (int i = 0; i < waiting.Length; i++)
        {
            for (int later = i; later < waiting.Length; later++)
            {
                Assert.False(waiting[later].IsCompleted, $"waiter {later} finished before waiter {i} got a slot");
            }

            running.Dispose();
            running = Finished(waiting[i]).Ticket;
            Assert.True(running.IsHeld);
            Assert.Equal(1, gate.Running);
            Assert.Equal(waiting.Length - i - 1, gate.Queued);
        }

        running.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void A_newcomer_does_not_overtake_a_waiter()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 10);
        AdmissionTicket first = AdmitNow(gate);
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();

        first.Dispose();

        // The freed slot went straight to the waiter: nothing is left for the newcomer.
        Assert.True(waiter.IsCompleted);
        Assert.False(gate.TryAdmit(out _));
        ValueTask<AdmissionResult> newcomer = gate.AdmitAsync();
        Assert.False(newcomer.IsCompleted);

        Finished(waiter).Ticket.Dispose();
        Finished(newcomer).Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void A_newcomer_arriving_while_a_release_hands_off_does_not_take_the_slot()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 10);
        AdmissionTicket first = AdmitNow(gate);
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();
        bool newcomerAdmitted = true;
        ValueTask<AdmissionResult> newcomer = default;
        gate.BeforeHandOff = () =>
        {
            // The slot is free (running 0) but the waiter has not got it yet.
            Assert.Equal(0, gate.Running);
            newcomerAdmitted = gate.TryAdmit(out _);
            newcomer = gate.AdmitAsync();
        };

        first.Dispose();

        Assert.False(newcomerAdmitted);
        Assert.False(newcomer.IsCompleted);
        gate.BeforeHandOff = null;
        Finished(waiter).Ticket.Dispose();
        Finished(newcomer).Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void A_cancelled_waiter_leaves_the_queue_at_once_and_frees_its_place()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 1);
        AdmissionTicket running = AdmitNow(gate);
        using var cts = new CancellationTokenSource();
        ValueTask<AdmissionResult> cancelled = gate.AdmitAsync(cts.Token);
        Assert.Equal(AdmissionOutcome.Rejected, Finished(gate.AdmitAsync()).Outcome);

        cts.Cancel();

        AdmissionResult result = Finished(cancelled);
        Assert.Equal(AdmissionOutcome.Cancelled, result.Outcome);
        Assert.Equal("57014", result.SqlState);
        Assert.StartsWith("cancelled after waiting 0.0 s in the queue of group 'dash'", result.ErrorMessage(), StringComparison.Ordinal);
        Assert.Equal(0, gate.Queued);

        // Its place in the queue is free now, and the next slot goes to the next waiter, not to it.
        ValueTask<AdmissionResult> next = gate.AdmitAsync();
        Assert.False(next.IsCompleted);
        running.Dispose();
        Finished(next).Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void Cancelling_a_waiter_in_the_middle_keeps_the_others_in_order()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 10);
        AdmissionTicket running = AdmitNow(gate);
        using var cts = new CancellationTokenSource();
        ValueTask<AdmissionResult> first = gate.AdmitAsync();
        ValueTask<AdmissionResult> middle = gate.AdmitAsync(cts.Token);
        ValueTask<AdmissionResult> last = gate.AdmitAsync();

        cts.Cancel();
        Assert.Equal(AdmissionOutcome.Cancelled, Finished(middle).Outcome);
        Assert.Equal(2, gate.Queued);

        running.Dispose();
        Assert.False(last.IsCompleted);
        running = Finished(first).Ticket;
        running.Dispose();
        Finished(last).Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void An_already_cancelled_token_is_admitted_if_there_is_room_else_cancelled_without_queueing()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 5);
        AdmissionTicket running = Finished(gate.AdmitAsync(new CancellationToken(canceled: true))).Ticket;
        Assert.True(running.IsHeld);

        AdmissionResult result = Finished(gate.AdmitAsync(new CancellationToken(canceled: true)));

        Assert.Equal(AdmissionOutcome.Cancelled, result.Outcome);
        Assert.Equal(0, gate.Queued);
        running.Dispose();
    }

    [Fact]
    public void A_waiter_times_out_after_the_queue_timeout_and_leaves_at_once()
    {
        var time = new ManualClock();
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 1, time);
        AdmissionTicket running = AdmitNow(gate);
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();

        time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(waiter.IsCompleted);
        Assert.Equal(AdmissionOutcome.Rejected, Finished(gate.AdmitAsync()).Outcome);

        time.Advance(TimeSpan.FromMilliseconds(1));
        AdmissionResult result = Finished(waiter);

        Assert.Equal(AdmissionOutcome.TimedOut, result.Outcome);
        Assert.Equal(Timeout5s, result.Waited);
        Assert.Equal("waited 5.0 s in the queue of group 'dash'", result.ErrorMessage());
        Assert.Equal("57014", result.SqlState);
        Assert.Equal(0, gate.Queued);
        Assert.Equal(0, time.PendingTimers);

        ValueTask<AdmissionResult> next = gate.AdmitAsync();
        Assert.False(next.IsCompleted);
        running.Dispose();
        AdmissionResult admitted = Finished(next);
        Assert.True(admitted.IsAdmitted);
        admitted.Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void A_timer_that_fires_early_is_rearmed_for_the_rest_of_the_timeout()
    {
        var time = new ManualClock { FireEarly = TimeSpan.FromMilliseconds(1) };
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 1, time);
        AdmissionTicket running = AdmitNow(gate);
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();

        time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(waiter.IsCompleted);
        Assert.Equal(1, time.PendingTimers);

        time.Advance(TimeSpan.FromMilliseconds(1));
        AdmissionResult result = Finished(waiter);
        Assert.Equal(AdmissionOutcome.TimedOut, result.Outcome);
        Assert.Equal(Timeout5s, result.Waited);
        running.Dispose();
    }

    [Fact]
    public void An_admitted_waiter_reports_how_long_it_waited_and_its_timer_is_stopped()
    {
        var time = new ManualClock();
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 1, time);
        AdmissionTicket running = AdmitNow(gate);
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();

        time.Advance(TimeSpan.FromSeconds(2));
        running.Dispose();
        AdmissionResult admitted = Finished(waiter);

        Assert.Equal(TimeSpan.FromSeconds(2), admitted.Waited);
        Assert.Equal(0, time.PendingTimers);

        // A waiter reusing the pooled node gets the full timeout again.
        ValueTask<AdmissionResult> again = gate.AdmitAsync();
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(again.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AdmissionOutcome.TimedOut, Finished(again).Outcome);
        admitted.Ticket.Dispose();
    }

    [Fact]
    public void Raising_max_running_admits_waiters_at_once_in_order()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 10);
        AdmissionTicket running = AdmitNow(gate);
        ValueTask<AdmissionResult> w1 = gate.AdmitAsync();
        ValueTask<AdmissionResult> w2 = gate.AdmitAsync();
        ValueTask<AdmissionResult> w3 = gate.AdmitAsync();

        gate.Resize(3, 10, Timeout5s);

        Assert.Equal(3, gate.MaxRunning);
        AdmissionResult r1 = Finished(w1);
        AdmissionResult r2 = Finished(w2);
        Assert.False(w3.IsCompleted);
        Assert.Equal(3, gate.Running);

        running.Dispose();
        AdmissionResult r3 = Finished(w3);
        r1.Ticket.Dispose();
        r2.Ticket.Dispose();
        r3.Ticket.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void Lowering_max_running_lets_running_queries_finish_and_holds_new_ones()
    {
        AdmissionGate gate = Gate(maxRunning: 3, maxQueued: 10);
        AdmissionTicket a = AdmitNow(gate);
        AdmissionTicket b = AdmitNow(gate);
        AdmissionTicket c = AdmitNow(gate);

        gate.Resize(1, 10, Timeout5s);
        Assert.Equal(3, gate.Running);
        Assert.False(gate.TryAdmit(out _));
        ValueTask<AdmissionResult> waiter = gate.AdmitAsync();

        a.Dispose();
        Assert.False(waiter.IsCompleted);
        b.Dispose();
        Assert.False(waiter.IsCompleted);
        c.Dispose();
        AdmissionResult admitted = Finished(waiter);
        Assert.Equal(1, gate.Running);
        admitted.Ticket.Dispose();
    }

    [Fact]
    public void Lowering_max_queued_keeps_the_queued_and_rejects_newcomers()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 3);
        AdmissionTicket running = AdmitNow(gate);
        ValueTask<AdmissionResult> w1 = gate.AdmitAsync();
        ValueTask<AdmissionResult> w2 = gate.AdmitAsync();

        gate.Resize(1, 1, Timeout5s);

        Assert.Equal(2, gate.Queued);
        Assert.Equal(AdmissionOutcome.Rejected, Finished(gate.AdmitAsync()).Outcome);
        running.Dispose();
        running = Finished(w1).Ticket;
        running.Dispose();
        running = Finished(w2).Ticket;
        ValueTask<AdmissionResult> w3 = gate.AdmitAsync();
        Assert.False(w3.IsCompleted);
        running.Dispose();
        Finished(w3).Ticket.Dispose();
    }

    [Fact]
    public void Disposing_a_ticket_twice_frees_one_slot()
    {
        AdmissionGate gate = Gate(maxRunning: 2, maxQueued: 0);
        AdmissionTicket a = AdmitNow(gate);
        AdmissionTicket b = AdmitNow(gate);

        a.Dispose();
        a.Dispose();

        Assert.False(a.IsHeld);
        Assert.Equal(1, gate.Running);
        b.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void Releasing_more_than_was_admitted_throws_instead_of_freeing_a_slot()
    {
        AdmissionGate gate = Gate(maxRunning: 1, maxQueued: 0);
        Assert.True(gate.TryAdmit(out AdmissionTicket ticket));
        AdmissionTicket copy = ticket;
        ticket.Dispose();

        Assert.Throws<InvalidOperationException>(copy.Dispose);
        Assert.Equal(0, gate.Running);
        AdmitNow(gate).Dispose();
    }

    [Fact]
    public void A_gate_from_config_keeps_a_queue_unless_overflow_is_reject()
    {
        var queue = new AdmissionConfig { MaxRunning = 4, MaxQueued = 7, QueueTimeout = TimeSpan.FromSeconds(3) };
        AdmissionGate gate = AdmissionGate.Create(AdmissionScope.Group, "dash", queue, new ManualClock());
        Assert.Equal((4, 7, TimeSpan.FromSeconds(3)), (gate.MaxRunning, gate.MaxQueued, gate.QueueTimeout));

        // Spill keeps max_queued: statements that may not spill (inside a transaction) wait there.
        gate.Resize(queue with { MaxRunning = 2, Overflow = AdmissionOverflow.Spill, SpillGroup = "lake" });
        Assert.Equal((2, 7), (gate.MaxRunning, gate.MaxQueued));

        AdmissionGate reject = AdmissionGate.Create(AdmissionScope.Cluster, "pg1", queue with { Overflow = AdmissionOverflow.Reject });
        Assert.Equal(0, reject.MaxQueued);
    }

    [Fact]
    public void Limits_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdmissionGate(AdmissionScope.Group, "g", 0, 1, Timeout5s));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdmissionGate(AdmissionScope.Group, "g", 1, -1, Timeout5s));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdmissionGate(AdmissionScope.Group, "g", AdmissionGate.MaxLimit + 1, 1, Timeout5s));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdmissionGate(AdmissionScope.Group, "g", 1, 1, TimeSpan.Zero));
        AdmissionGate gate = Gate(1, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.Resize(0, 1, Timeout5s));
        Assert.Equal(1, gate.MaxRunning);
    }

    [Fact]
    public void The_uncontended_path_allocates_nothing()
    {
        AdmissionGate gate = Gate(maxRunning: 8, maxQueued: 8);
        using var cts = new CancellationTokenSource();
        for (int i = 0; i < 100; i++)
        {
            Finished(gate.AdmitAsync(cts.Token)).Ticket.Dispose();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            AdmissionTicket ticket = Finished(gate.AdmitAsync(cts.Token)).Ticket;
            ticket.Dispose();
            if (gate.TryAdmit(out AdmissionTicket other))
            {
                other.Dispose();
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public void The_queued_path_allocates_nothing_once_warm()
    {
        // Real timers and a real token source: the waiter node, its timer and the token registration are reused.
        var gate = new AdmissionGate(AdmissionScope.Group, "dash", 1, 4, TimeSpan.FromMinutes(1));
        using var cts = new CancellationTokenSource();
        AdmissionTicket running = AdmitNow(gate);

        long before = 0;
        for (int i = 0; i < 10_100; i++)
        {
            if (i == 100)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }

            ValueTask<AdmissionResult> waiter = gate.AdmitAsync(cts.Token);
            Assert.False(waiter.IsCompleted);
            running.Dispose();
            running = Finished(waiter).Ticket;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        running.Dispose();
        Assert.Equal(0, gate.Running);
    }
}
