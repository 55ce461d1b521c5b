using LakeOps.Edge.Frontends.Postgres.Passthrough;

namespace LakeOps.Edge.Frontends.Tests.Passthrough;

public sealed class SessionSettingsTests
{
    private static readonly Dictionary<string, string> ServerDefaults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["application_name"] = "lakeops-edge",
        ["client_encoding"] = "UTF8",
        ["DateStyle"] = "ISO, MDY",
        ["TimeZone"] = "UTC",
    };

    private static SessionSettings FromStartup(params (string Name, string Value)[] parameters) =>
        SessionSettings.FromStartup(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)).ToArray(), ServerDefaults);

    private static List<StatementEffects> Effects(string sql) => [StatementEffects.Classify(System.Text.Encoding.UTF8.GetBytes(sql))!];

    [Fact]
    public void Startup_values_equal_to_the_servers_cost_nothing()
    {
        SessionSettings settings = FromStartup(("user", "u"), ("database", "d"), ("client_encoding", "utf8"), ("datestyle", "ISO, MDY"), ("_pq_.x", "y"));
        Assert.Equal("", settings.Key);
    }

    [Fact]
    public void Other_startup_values_become_a_set_config_script()
    {
        SessionSettings settings = FromStartup(("application_name", "it's me"), ("options", "-c search_path=app,public --work-mem=64MB -cgeqo=off"));
        Assert.Equal(
            "SELECT pg_catalog.set_config('application_name', 'it''s me', false), pg_catalog.set_config('search_path', 'app,public', false), "
            + "pg_catalog.set_config('work_mem', '64MB', false), pg_catalog.set_config('geqo', 'off', false)",
            settings.Key);

        // Clients of one application have equal keys, so they share server connections without replays.
        Assert.Equal(settings.Key, FromStartup(("application_name", "it's me"), ("options", "-c search_path=app,public --work-mem=64MB -cgeqo=off")).Key);
    }

    [Fact]
    public void Options_follow_postgresql_quoting()
    {
        List<KeyValuePair<string, string>> items = SessionSettings.ParseOptions(@"-c  search_path=my\ schema   -c x");
        Assert.Equal([new("search_path", "my schema")], items);
    }

    [Fact]
    public void Replay_resets_unless_the_connection_is_fresh()
    {
        SessionSettings settings = FromStartup();
        Assert.Equal("", settings.ReplayScript(""));
        Assert.Equal(SessionSettings.ResetScript, settings.ReplayScript("SET x = 1"));
        Assert.Equal(SessionSettings.ResetScript, settings.ReplayScript(null));
        settings.Complete(Effects("SET search_path TO app"), hadError: false, (byte)'I', endedWithRollback: false, "");
        Assert.Equal("SET search_path TO app", settings.ReplayScript(""));
        Assert.Equal(SessionSettings.ResetScript + "\n;\nSET search_path TO app", settings.ReplayScript(null));
    }

    [Fact]
    public void Sets_outside_a_transaction_apply_at_once_and_replace_earlier_ones()
    {
        SessionSettings settings = FromStartup();
        Assert.Equal("SET a.b = 1", settings.Complete(Effects("SET a.b = 1"), false, (byte)'I', false, ""));
        Assert.Equal("SET a.b = 1\n;\nset c.d = 2", settings.Complete(Effects("set c.d = 2"), false, (byte)'I', false, "SET a.b = 1"));
        Assert.Equal("set c.d = 2\n;\nSET a.b = 3", settings.Complete(Effects("SET a.b = 3"), false, (byte)'I', false, "x"));
        Assert.Equal("set c.d = 2\n;\nSET a.b = 3", settings.Key);
    }

    [Fact]
    public void A_failed_set_changes_nothing()
    {
        SessionSettings settings = FromStartup();
        Assert.Equal("", settings.Complete(Effects("SET a.b = 1"), hadError: true, (byte)'I', false, ""));
        Assert.Equal("", settings.Key);
    }

    [Fact]
    public void Sets_in_a_transaction_count_only_when_it_commits()
    {
        SessionSettings committed = FromStartup();
        Assert.Equal("", committed.Complete(Effects("SET a.b = 1"), false, (byte)'T', false, ""));
        Assert.True(committed.HasPending);
        Assert.Equal("", committed.Key);
        Assert.Equal("SET a.b = 1", committed.Complete(null, false, (byte)'I', endedWithRollback: false, ""));
        Assert.False(committed.HasPending);

        SessionSettings rolledBack = FromStartup();
        rolledBack.Complete(Effects("SET a.b = 1"), false, (byte)'T', false, "");
        Assert.Equal("", rolledBack.Complete(null, false, (byte)'I', endedWithRollback: true, ""));
        Assert.Equal("", rolledBack.Key);

        SessionSettings failed = FromStartup();
        failed.Complete(Effects("SET a.b = 1"), false, (byte)'T', false, "");
        failed.Complete(null, true, (byte)'E', false, "");
        Assert.Equal("", failed.Complete(null, false, (byte)'I', endedWithRollback: true, ""));
        Assert.Equal("", failed.Key);
    }

    [Fact]
    public void Resets_leave_the_connection_in_an_unknown_state()
    {
        SessionSettings settings = FromStartup(("application_name", "app"));
        string startup = settings.Key;
        settings.Complete(Effects("SET a.b = 1"), false, (byte)'I', false, startup);
        Assert.Null(settings.Complete(Effects("RESET a.b"), false, (byte)'I', false, "x"));
        Assert.Equal(startup, settings.Key);
        settings.Complete(Effects("SET a.b = 1"), false, (byte)'I', false, startup);
        Assert.Null(settings.Complete(Effects("DISCARD ALL"), false, (byte)'I', false, "x"));
        Assert.Equal(startup, settings.Key);
    }

    [Fact]
    public void A_savepoint_rollback_makes_committed_sets_uncertain()
    {
        SessionSettings settings = FromStartup();
        settings.Complete(Effects("SET a.b = 1"), false, (byte)'T', false, "");
        settings.Complete(Effects("ROLLBACK TO SAVEPOINT s"), false, (byte)'T', false, "");
        Assert.Null(settings.Complete(null, false, (byte)'I', false, ""));
    }
}
