using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.Postgres;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>Every limit gives a clear native error and leaves the process and other sessions alone.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task Slow_client_is_closed_at_the_login_timeout()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.WithLimits("login_timeout: 1s"));
        await using RawPgClient slow = await RawPgClient.ConnectAsync(edge.Port);
        await slow.SendRawAsync([0, 0]); // half a length word, then nothing
        (char Type, byte[] Body)? error = await slow.ReadAsync(timeoutSeconds: 20);
        Assert.NotNull(error);
        Assert.Contains("login_timeout", System.Text.Encoding.UTF8.GetString(error.Value.Body), StringComparison.Ordinal);
        Assert.True(await slow.WaitForCloseAsync(20));

        await using RawPgClient healthy = await RawPgClient.ConnectReadyAsync(edge.Port);
    }

    [Fact]
    public async Task Connections_over_the_limit_get_53300()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.WithLimits("max_connections: 2"));
        await using var first = new NpgsqlConnection(edge.ConnectionString());
        await using var second = new NpgsqlConnection(edge.ConnectionString());
        await first.OpenAsync();
        await second.OpenAsync();
        await using var third = new NpgsqlConnection(edge.ConnectionString());
        var error = await Assert.ThrowsAsync<PostgresException>(() => third.OpenAsync());
        Assert.Equal("53300", error.SqlState);
        Assert.Contains("max_connections", error.MessageText, StringComparison.Ordinal);

        await first.CloseAsync();
        await using var fourth = new NpgsqlConnection(edge.ConnectionString());
        await fourth.OpenAsync();
    }

    [Fact]
    public async Task Oversized_message_gets_54000_and_close()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.WithLimits("max_message_size: 4KiB"));
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WriteQuery(w, "select '" + new string('x', 8000) + "'"));
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal("54000", RawPgClient.ErrorCode(error.Value.Body));
        Assert.Contains("max_message_size", RawPgClient.ErrorField(error.Value.Body, 'M'), StringComparison.Ordinal);
        Assert.True(await client.WaitForCloseAsync());

        await using RawPgClient next = await RawPgClient.ConnectReadyAsync(edge.Port);
        await next.SendAsync(w => PgFrontendWriter.WriteQuery(w, "select '" + new string('y', 1000) + "'"));
        List<(char Type, byte[] Body)> reply = await next.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", string.Concat(reply.Select(m => m.Type)));
    }

    [Fact]
    public async Task Idle_in_transaction_session_is_closed_with_25P03()
    {
        await using EdgeProcess edge = await EdgeProcess.StartAsync(Configs.WithLimits("idle_in_transaction_timeout: 1s"));
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WriteQuery(w, "begin"));
        List<(char Type, byte[] Body)> begun = await client.ReadUntilAsync('Z');
        Assert.Equal((byte)'T', begun[^1].Body[0]);
        (char Type, byte[] Body)? error = await client.ReadAsync(timeoutSeconds: 20);
        Assert.NotNull(error);
        Assert.Equal("25P03", RawPgClient.ErrorCode(error.Value.Body));
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task Unknown_database_falls_back_to_default_group_or_is_rejected_when_fallback_is_off()
    {
        await using (EdgeProcess edge = await EdgeProcess.StartAsync(Configs.Trust))
        {
            await using var connection = new NpgsqlConnection(edge.ConnectionString(database: "anything"));
            await connection.OpenAsync();
        }

        await using EdgeProcess strict = await EdgeProcess.StartAsync(Configs.Trust.Replace("default_group: local", "default_group: local\n  fallback_to_default: false", StringComparison.Ordinal));
        await using var rejected = new NpgsqlConnection(strict.ConnectionString(database: "anything"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => rejected.OpenAsync());
        Assert.Equal("3D000", error.SqlState);
    }
}
