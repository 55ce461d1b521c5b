using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing.Health;

namespace LakeOps.Edge.Routing.Tests.Health;

public class ClusterHealthTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private static (ClusterHealth Health, ManualClock Clock) Create(HealthOptions? options = null)
    {
        var clock = new ManualClock();
        return (new ClusterHealth("pg1", options ?? new HealthOptions(), time: clock), clock);
    }

    private static void Fail(ClusterHealth health, int times)
    {
        for (int i = 0; i < times; i++)
        {
            health.ReportFailure(FailureKind.Connect, "refused");
        }
    }

    [Fact]
    public void Consecutive_failures_degrade_then_open_the_breaker()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 3 });
        Assert.Equal(ClusterState.Healthy, health.State);

        Fail(health, 1);
        Assert.Equal(ClusterState.Healthy, health.State);
        Fail(health, 1);
        Assert.Equal(ClusterState.Degraded, health.State);
        Assert.Equal(BreakerState.Closed, health.Breaker);

        Fail(health, 1);
        Assert.Equal(BreakerState.Open, health.Breaker);
        Assert.Equal(ClusterState.Unhealthy, health.State);
        Assert.Equal(3, health.ConsecutiveFailures);
        Assert.Equal("connect: refused", health.LastFailure);
    }

    [Fact]
    public void A_success_resets_the_consecutive_count()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 3, ErrorRateThreshold = 0 });

        Fail(health, 2);
        health.ReportSuccess(Ms);
        Assert.Equal(0, health.ConsecutiveFailures);
        Assert.Equal(ClusterState.Healthy, health.State);
        Fail(health, 2);

        Assert.Equal(BreakerState.Closed, health.Breaker);
    }

    [Fact]
    public void Open_waits_the_backoff_then_lets_one_trial_whose_success_closes()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1) });
        Fail(health, 1);

        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(health.TryBeginTrial());
        Assert.Equal(BreakerState.Open, health.Breaker);
        Assert.Equal(TimeSpan.FromMilliseconds(1), health.OpenRemaining);

        clock.Advance(Ms);
        Assert.True(health.TryBeginTrial());
        Assert.Equal(BreakerState.HalfOpen, health.Breaker);
        Assert.Equal(ClusterState.Unhealthy, health.State);
        Assert.False(health.TryBeginTrial());

        health.ReportSuccess(Ms);
        Assert.Equal(BreakerState.Closed, health.Breaker);
        Assert.Equal(ClusterState.Healthy, health.State);
        Assert.Equal((0, 0), health.RecentOutcomes);
        Assert.False(health.TryBeginTrial());
    }

    [Fact]
    public void Failed_trials_double_the_backoff_up_to_open_max_and_closing_resets_it()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions
        {
            FailureThreshold = 1,
            OpenBase = TimeSpan.FromSeconds(1),
            OpenMax = TimeSpan.FromSeconds(5),
        });
        Fail(health, 1);

        foreach (int seconds in new[] { 1, 2, 4, 5, 5 })
        {
            TimeSpan backoff = TimeSpan.FromSeconds(seconds);
            Assert.Equal(backoff, health.OpenRemaining);
            clock.Advance(backoff - Ms);
            Assert.False(health.TryBeginTrial());
            clock.Advance(Ms);
            Assert.True(health.TryBeginTrial());
            health.ReportFailure(FailureKind.Timeout);
            Assert.Equal(BreakerState.Open, health.Breaker);
        }

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(health.TryBeginTrial());
        health.ReportSuccess(Ms);
        Fail(health, 1);

        Assert.Equal(TimeSpan.FromSeconds(1), health.OpenRemaining);
    }

    [Fact]
    public void Exactly_one_of_many_concurrent_callers_gets_the_half_open_trial()
    {
        const int threads = 8;
        for (int round = 0; round < 100; round++)
        {
            (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 1 });
            Fail(health, 1);
            clock.Advance(TimeSpan.FromSeconds(1));
            int winners = 0;
            using var barrier = new Barrier(threads);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                workers[t] = new Thread(() =>
                {
                    barrier.SignalAndWait();
                    for (int i = 0; i < 100; i++)
                    {
                        if (health.TryBeginTrial())
                        {
                            Interlocked.Increment(ref winners);
                        }
                    }
                });
                workers[t].Start();
            }

            foreach (Thread worker in workers)
            {
                worker.Join();
            }

            Assert.Equal(1, winners);
            Assert.Equal(BreakerState.HalfOpen, health.Breaker);
        }
    }

    [Fact]
    public void The_error_rate_opens_the_breaker_once_there_are_enough_samples()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 100, ErrorRateThreshold = 0.5, Window = 20, MinSamples = 10 });

        // 9 samples, 5 failures: rate over 0.5 but too few samples.
        for (int i = 0; i < 4; i++)
        {
            health.ReportFailure(FailureKind.Server);
            health.ReportSuccess(Ms);
        }

        health.ReportFailure(FailureKind.Server);
        Assert.Equal((5, 9), health.RecentOutcomes);
        Assert.Equal(BreakerState.Closed, health.Breaker);

        health.ReportSuccess(Ms);
        Assert.Equal(ClusterState.Degraded, health.State);
        health.ReportFailure(FailureKind.Server);

        Assert.Equal(BreakerState.Open, health.Breaker);
        Assert.Equal((6, 11), health.RecentOutcomes);
    }

    [Fact]
    public void The_window_forgets_old_outcomes()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 100, ErrorRateThreshold = 0.5, Window = 10, MinSamples = 10 });

        for (int i = 0; i < 4; i++)
        {
            health.ReportFailure(FailureKind.Server);
        }

        for (int i = 0; i < 8; i++)
        {
            health.ReportSuccess(Ms);
        }

        Assert.Equal((2, 10), health.RecentOutcomes);
        Assert.Equal(ClusterState.Healthy, health.State);
        for (int i = 0; i < 10; i++)
        {
            health.ReportSuccess(Ms);
        }

        Assert.Equal((0, 10), health.RecentOutcomes);
        for (int i = 0; i < 4; i++)
        {
            health.ReportFailure(FailureKind.Server);
        }

        Assert.Equal(BreakerState.Closed, health.Breaker);
        health.ReportFailure(FailureKind.Server);
        Assert.Equal(BreakerState.Open, health.Breaker);
    }

    [Fact]
    public void A_zero_error_rate_threshold_opens_only_on_consecutive_failures()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 3, ErrorRateThreshold = 0, Window = 10, MinSamples = 1 });

        for (int i = 0; i < 20; i++)
        {
            Fail(health, 2);
            health.ReportSuccess(Ms);
        }

        Assert.Equal(BreakerState.Closed, health.Breaker);
    }

    [Fact]
    public void Reports_that_arrive_while_open_change_nothing()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(2), OpenMax = TimeSpan.FromSeconds(60) });
        Fail(health, 1);
        clock.Advance(TimeSpan.FromSeconds(1));

        Fail(health, 5);
        health.ReportSuccess(Ms);

        Assert.Equal(BreakerState.Open, health.Breaker);
        Assert.Equal(TimeSpan.FromSeconds(1), health.OpenRemaining);
    }

    [Fact]
    public void A_trial_without_outcome_lapses_after_open_max_and_can_be_given_back()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 1, OpenBase = TimeSpan.FromSeconds(1), OpenMax = TimeSpan.FromSeconds(10) });
        Fail(health, 1);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(health.TryBeginTrial());

        clock.Advance(TimeSpan.FromSeconds(10) - Ms);
        Assert.False(health.TryBeginTrial());
        clock.Advance(Ms);
        Assert.True(health.TryBeginTrial());

        health.AbandonTrial();
        Assert.True(health.TryBeginTrial());
        Assert.False(health.TryBeginTrial());
    }

    [Fact]
    public void Availability_follows_breaker_and_admin_state()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 1 });
        Assert.Equal(Availability.Available, health.GetAvailability(clock.GetTimestamp()));

        health.Configure(new HealthOptions { FailureThreshold = 1 }, ClusterAdminState.Draining);
        Assert.Equal(ClusterState.Draining, health.State);
        Assert.Equal(Availability.Unavailable, health.GetAvailability(clock.GetTimestamp()));

        health.Configure(new HealthOptions { FailureThreshold = 1 }, ClusterAdminState.Disabled);
        Assert.Equal(ClusterState.Disabled, health.State);
        Assert.Equal(Availability.Unavailable, health.GetAvailability(clock.GetTimestamp()));

        health.Configure(new HealthOptions { FailureThreshold = 1 }, ClusterAdminState.Enabled);
        Fail(health, 1);
        Assert.Equal(Availability.Unavailable, health.GetAvailability(clock.GetTimestamp()));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Availability.TrialReady, health.GetAvailability(clock.GetTimestamp()));
        Assert.True(health.TryBeginTrial());
        Assert.Equal(Availability.Unavailable, health.GetAvailability(clock.GetTimestamp()));
    }

    [Fact]
    public void Configure_keeps_the_breaker_and_applies_new_thresholds_to_later_reports()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 5 });
        Fail(health, 3);
        Assert.Equal(BreakerState.Closed, health.Breaker);

        health.Configure(new HealthOptions { FailureThreshold = 4 }, ClusterAdminState.Enabled);
        Assert.Equal(BreakerState.Closed, health.Breaker);
        Fail(health, 1);

        Assert.Equal(BreakerState.Open, health.Breaker);
    }

    [Fact]
    public void Latency_average_starts_at_the_first_sample_and_moves_by_the_smoothing_factor()
    {
        (ClusterHealth health, _) = Create();
        Assert.Null(health.AverageLatency);

        health.ReportSuccess(TimeSpan.FromMilliseconds(10));
        Assert.Equal(10, health.AverageLatency!.Value.TotalMilliseconds, 6);

        health.ReportSuccess(TimeSpan.FromMilliseconds(20));
        Assert.Equal(10 + (ClusterHealth.LatencySmoothing * 10), health.AverageLatency!.Value.TotalMilliseconds, 6);
    }

    [Fact]
    public void Running_counts_begin_minus_end()
    {
        (ClusterHealth health, _) = Create();
        health.Begin();
        health.Begin();
        health.End();

        Assert.Equal(1, health.Running);
    }

    [Fact]
    public void Concurrent_reports_lose_nothing()
    {
        (ClusterHealth health, _) = Create(new HealthOptions { FailureThreshold = 1000, ErrorRateThreshold = 0, Window = 50, MinSamples = 1 });
        const int threads = 4;
        const int perThread = 20_000;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            bool fails = t == 0;
            workers[t] = new Thread(() =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    if (fails && i % 100 == 0)
                    {
                        health.ReportFailure(FailureKind.Server);
                    }
                    else
                    {
                        health.Begin();
                        health.ReportSuccess(Ms);
                        health.End();
                    }
                }
            });
            workers[t].Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        Assert.Equal(perThread / 100, health.Failures);
        Assert.Equal((threads * perThread) - (perThread / 100), health.Successes);
        Assert.Equal(0, health.Running);
        Assert.Equal(50, health.RecentOutcomes.Samples);
        Assert.Equal(1, health.AverageLatency!.Value.TotalMilliseconds, 6);
    }

    [Fact]
    public void Status_text_names_the_state_and_the_last_failure()
    {
        (ClusterHealth health, ManualClock clock) = Create(new HealthOptions { FailureThreshold = 3, OpenBase = TimeSpan.FromSeconds(4) });
        Fail(health, 3);
        clock.Advance(TimeSpan.FromSeconds(1.5));

        Assert.Equal("pg1 unhealthy (breaker open, next trial in 2.5 s; 3 consecutive failures; last: connect: refused)", health.ToString());

        (ClusterHealth degraded, _) = Create(new HealthOptions { FailureThreshold = 3 });
        degraded.ReportSuccess(Ms);
        degraded.ReportFailure(FailureKind.Timeout);
        degraded.ReportFailure(FailureKind.Timeout);
        Assert.Equal("pg1 degraded (2 of the last 3 requests failed; last: timeout)", degraded.ToString());

        (ClusterHealth healthy, _) = Create();
        Assert.Equal("pg1 healthy", healthy.ToString());
    }
}
