using LakeOps.Edge.Core.Config;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

public class AdmissionConfigTests
{
    private static string Config(string groups, string clusters = "duck: { engine: duckdb }") => $$"""
        listeners:
          pg: { protocol: postgres, address: 127.0.0.1:15432, auth: trust }
        clusters:
          {{clusters}}
        groups:
        {{groups}}
        routing: { default_group: dash }
        """;

    [Fact]
    public void Admission_is_off_unless_configured()
    {
        EdgeConfig config = LoadValid(Minimal);

        Assert.Null(config.Groups["local"].Admission);
        Assert.Null(config.Clusters["duck"].Admission);
    }

    [Fact]
    public void Group_and_cluster_admission_bind_every_key()
    {
        string yaml = Config(
            """
              dash:
                clusters: [duck]
                admission: { max_running: 8, max_queued: 20, queue_timeout: 5s, overflow: queue }
              batch:
                clusters: [duck]
                admission:
                  max_running: 2
                  overflow:
                    spill: dash
              etl:
                clusters: [duck]
                admission: { max_running: 1, overflow: reject }
            """,
            "duck: { engine: duckdb, admission: { max_running: 16, max_queued: 0, queue_timeout: 250ms, overflow: reject } }");

        EdgeConfig config = LoadValid(yaml);

        Assert.Equal(
            new AdmissionConfig { MaxRunning = 8, MaxQueued = 20, QueueTimeout = TimeSpan.FromSeconds(5), Overflow = AdmissionOverflow.Queue },
            config.Groups["dash"].Admission);
        Assert.Equal(20, config.Groups["dash"].Admission!.EffectiveMaxQueued);

        AdmissionConfig batch = config.Groups["batch"].Admission!;
        Assert.Equal(AdmissionOverflow.Spill, batch.Overflow);
        Assert.Equal("dash", batch.SpillGroup);
        Assert.Equal(AdmissionConfig.DefaultMaxQueued, batch.MaxQueued);
        Assert.Equal(AdmissionConfig.DefaultQueueTimeout, batch.QueueTimeout);
        Assert.Equal(AdmissionConfig.DefaultMaxQueued, batch.EffectiveMaxQueued);

        Assert.Equal(AdmissionOverflow.Reject, config.Groups["etl"].Admission!.Overflow);
        Assert.Null(config.Groups["etl"].Admission!.SpillGroup);
        Assert.Equal(0, config.Groups["etl"].Admission!.EffectiveMaxQueued);

        Assert.Equal(
            new AdmissionConfig { MaxRunning = 16, MaxQueued = 0, QueueTimeout = TimeSpan.FromMilliseconds(250), Overflow = AdmissionOverflow.Reject },
            config.Clusters["duck"].Admission);
    }

    [Fact]
    public void Spill_cycles_are_allowed()
    {
        string yaml = Config(
            """
              dash: { clusters: [duck], admission: { max_running: 1, overflow: { spill: batch } } }
              batch: { clusters: [duck], admission: { max_running: 1, overflow: { spill: dash } } }
            """);

        EdgeConfig config = LoadValid(yaml);

        Assert.Equal("batch", config.Groups["dash"].Admission!.SpillGroup);
        Assert.Equal("dash", config.Groups["batch"].Admission!.SpillGroup);
    }

    [Fact]
    public void Bad_values_are_reported_with_their_paths()
    {
        string yaml = Config(
            """
              dash: { clusters: [duck], admission: { max_running: 0, max_queued: -1, queue_timeout: 0, overflow: later, extra: 1 } }
              nomax: { clusters: [duck], admission: { max_queued: 5 } }
              big: { clusters: [duck], admission: { max_running: 2000000, queue_timeout: 5 parsecs } }
              self: { clusters: [duck], admission: { max_running: 1, overflow: { spill: self } } }
              lost: { clusters: [duck], admission: { max_running: 1, overflow: { spill: nowhere } } }
              bare: { clusters: [duck], admission: { max_running: 1, overflow: spill } }
              odd: { clusters: [duck], admission: { max_running: 1, overflow: { spill: dash, queue: 1 } } }
              flat: { clusters: [duck], admission: 8 }
            """,
            "duck: { engine: duckdb, admission: { max_running: 4, overflow: { spill: dash } } }");

        IReadOnlyList<ConfigError> errors = LoadErrors(yaml);

        Assert.Contains("out of range (1 to 1000000)", ErrorAt(errors, "groups.dash.admission.max_running").Message, StringComparison.Ordinal);
        Assert.Contains("out of range", ErrorAt(errors, "groups.dash.admission.max_queued").Message, StringComparison.Ordinal);
        Assert.Contains("greater than 0", ErrorAt(errors, "groups.dash.admission.queue_timeout").Message, StringComparison.Ordinal);
        Assert.Equal("unknown overflow 'later' (expected queue, reject or { spill: GROUP })", ErrorAt(errors, "groups.dash.admission.overflow").Message);
        Assert.Contains("unknown key 'extra'", ErrorAt(errors, "groups.dash.admission.extra").Message, StringComparison.Ordinal);
        Assert.Equal("missing required key 'max_running'", ErrorAt(errors, "groups.nomax.admission").Message);
        Assert.Contains("out of range", ErrorAt(errors, "groups.big.admission.max_running").Message, StringComparison.Ordinal);
        Assert.Contains("not a duration", ErrorAt(errors, "groups.big.admission.queue_timeout").Message, StringComparison.Ordinal);
        Assert.Equal("group 'self' cannot spill to itself", ErrorAt(errors, "groups.self.admission.overflow.spill").Message);
        Assert.StartsWith("group 'lost' spills to unknown group 'nowhere' (defined groups: ", ErrorAt(errors, "groups.lost.admission.overflow.spill").Message, StringComparison.Ordinal);
        Assert.Contains("overflow: { spill: GROUP }", ErrorAt(errors, "groups.bare.admission.overflow").Message, StringComparison.Ordinal);
        Assert.Contains("unknown key 'queue'", ErrorAt(errors, "groups.odd.admission.overflow.queue").Message, StringComparison.Ordinal);
        Assert.Contains("expected a mapping", ErrorAt(errors, "groups.flat.admission").Message, StringComparison.Ordinal);
        Assert.Contains("a cluster cannot spill", ErrorAt(errors, "clusters.duck.admission.overflow").Message, StringComparison.Ordinal);
        Assert.All(errors, e => Assert.True(e.Line > 0, $"no line for {e}"));
    }
}
