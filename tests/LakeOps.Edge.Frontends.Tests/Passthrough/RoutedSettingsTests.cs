using System.Buffers;
using System.Text;
using LakeOps.Edge.Frontends.Postgres.Passthrough;
using LakeOps.Edge.Protocols.Postgres;
using static LakeOps.Edge.Frontends.Tests.Passthrough.Frames;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

/// <summary>What the passthrough tells routing: EXPLAIN ROUTE in Parse, and the SETs routing rules look at.</summary>
public sealed class RoutedSettingsTests
{
    private const string Answer = "SELECT 'explained'::text AS \"rule\"";

    private static List<StatementEffects> Effects(string sql) => [StatementEffects.Classify(Encoding.UTF8.GetBytes(sql))!];

    private static (ClientMessageForwarder Forwarder, ArrayBufferWriter<byte> Server) Attached()
    {
        string cluster = "cluster-" + Guid.NewGuid().ToString("N");
        var forwarder = new ClientMessageForwarder(cluster)
        {
            ExplainRoute = sql => sql.TrimStart().StartsWith("EXPLAIN ROUTE", StringComparison.OrdinalIgnoreCase) ? Answer : null,
        };
        var server = new ArrayBufferWriter<byte>();
        forwarder.Attach(server, new ServerConnectionState([], cluster));
        return (forwarder, server);
    }

    [Theory]
    [InlineData("")]
    [InlineData("client_s1")]
    public void An_explain_route_parse_is_sent_as_the_select_of_the_answer_with_the_clients_parameter_types(string name)
    {
        byte[] frame = Parse(name, "  EXPLAIN ROUTE select * from t where id = $1", 23);
        for (int split = -1; split < frame.Length; split++)
        {
            (ClientMessageForwarder forwarder, ArrayBufferWriter<byte> server) = Attached();
            ReadOnlySequence<byte> input = split < 0 ? Sequence(frame) : Sequence(frame[..split], frame[split..]);
            Assert.Equal(ClientStep.Continue, forwarder.Process(frame[0], input));
            ParseMessage parse = ParseMessage.Parse(Assert.Single(Split(server.WrittenSpan.ToArray())).Frame.AsSpan(5));
            Assert.Equal(Answer, parse.Query);
            Assert.Equal([23], parse.ParameterTypeOids);
            if (name.Length == 0)
            {
                Assert.Equal("", parse.StatementName);
            }
            else
            {
                Assert.StartsWith("lkp_", parse.StatementName, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("explain select 1")]
    [InlineData("select 'EXPLAIN ROUTE'")]
    public void Other_parses_go_to_the_server_unchanged(string sql)
    {
        (ClientMessageForwarder forwarder, ArrayBufferWriter<byte> server) = Attached();
        forwarder.Process((byte)'P', Sequence(Parse("", sql)));
        Assert.Equal(sql, ParseMessage.Parse(Assert.Single(Split(server.WrittenSpan.ToArray())).Frame.AsSpan(5)).Query);
    }

    [Fact]
    public void The_statement_text_of_query_and_parse_frames_is_found_for_any_split()
    {
        (ClientMessageForwarder forwarder, _) = Attached();
        foreach (byte[] frame in new[] { Query("SET application_name = 'x'"), Parse("s", "SET application_name = 'x'", 25) })
        {
            for (int split = 1; split < frame.Length; split++)
            {
                Assert.Equal("SET application_name = 'x'", Encoding.UTF8.GetString(forwarder.StatementText(frame[0], Sequence(frame[..split], frame[split..]))));
            }
        }

        Assert.True(forwarder.StatementText((byte)'S', Sequence(Sync)).IsEmpty);
    }

    [Fact]
    public void Sets_of_routed_parameters_are_tracked_once_they_take_effect()
    {
        var settings = new SessionSettings("");
        int start = settings.RouteVersion;

        settings.Complete(Effects("SET work_mem = '64MB'"), false, PgTransactionStatus.Idle, false, "");
        Assert.Equal(start, settings.RouteVersion);

        settings.Complete(Effects("SET application_name = 'reports'"), false, PgTransactionStatus.Idle, false, "");
        Assert.Equal("reports", settings.RoutedValue("application_name"));
        int afterSet = settings.RouteVersion;
        Assert.NotEqual(start, afterSet);

        // Inside a transaction: only when it commits.
        settings.Complete(Effects("SET edge.tags = 'etl,nightly'"), false, PgTransactionStatus.InTransaction, false, "");
        Assert.Null(settings.RoutedValue("edge.tags"));
        Assert.Equal(afterSet, settings.RouteVersion);
        settings.Complete(null, false, PgTransactionStatus.Idle, false, "");
        Assert.Equal("etl,nightly", settings.RoutedValue("edge.tags"));

        settings.Complete(Effects("SET search_path = sales, public"), false, PgTransactionStatus.Idle, false, "");
        Assert.Equal("sales, public", settings.RoutedValue("search_path"));

        int beforeReset = settings.RouteVersion;
        settings.Complete(Effects("RESET application_name"), false, PgTransactionStatus.Idle, false, "");
        Assert.Null(settings.RoutedValue("application_name"));
        Assert.NotEqual(beforeReset, settings.RouteVersion);

        settings.Complete(Effects("RESET ALL"), false, PgTransactionStatus.Idle, false, "");
        Assert.Null(settings.RoutedValue("edge.tags"));
        Assert.Null(settings.RoutedValue("search_path"));
    }

    [Fact]
    public void A_rolled_back_set_of_a_routed_parameter_changes_nothing()
    {
        var settings = new SessionSettings("");
        int start = settings.RouteVersion;
        settings.Complete(Effects("SET application_name = 'reports'"), false, PgTransactionStatus.InTransaction, false, "");
        settings.Complete(null, false, PgTransactionStatus.Idle, true, "");
        Assert.Null(settings.RoutedValue("application_name"));
        Assert.Equal(start, settings.RouteVersion);
    }
}
