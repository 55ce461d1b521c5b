using System.Buffers.Binary;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.IntegrationTests;

/// <summary>Protocol details and bad input, over raw sockets against the AOT binary.</summary>
[Collection(EdgeCollection.Name)]
public sealed class ProtocolTests(EdgeFixture fixture)
{
    private readonly EdgeProcess _edge = fixture.Edge;

    [Fact]
    public async Task Execute_with_row_limit_suspends_the_portal_and_resumes()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendAsync(w =>
        {
            PgFrontendWriter.WriteParse(w, "", "select i from range(5) t(i) order by i", []);
            PgFrontendWriter.WriteBind(w, "", "", [], [], []);
            PgFrontendWriter.WriteExecute(w, "", 2);
            PgFrontendWriter.WriteExecute(w, "", 2);
            PgFrontendWriter.WriteExecute(w, "", 2);
            PgFrontendWriter.WriteSync(w);
        });
        List<(char Type, byte[] Body)> messages = await client.ReadUntilAsync('Z');
        Assert.Equal("12DDsDDsDCZ", string.Concat(messages.Select(m => m.Type)));
        Assert.Equal("SELECT 5", System.Text.Encoding.UTF8.GetString(messages[^2].Body).TrimEnd('\0'));
    }

    [Fact]
    public async Task Error_in_extended_batch_skips_to_sync_and_session_recovers()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendAsync(w =>
        {
            PgFrontendWriter.WriteParse(w, "", "select * from nowhere_table", []);
            PgFrontendWriter.WriteBind(w, "", "", [], [], []);
            PgFrontendWriter.WriteExecute(w, "", 0);
            PgFrontendWriter.WriteSync(w);
            PgFrontendWriter.WriteQuery(w, "select 1");
        });
        List<(char Type, byte[] Body)> first = await client.ReadUntilAsync('Z');
        Assert.Equal("EZ", string.Concat(first.Select(m => m.Type)));
        Assert.Equal("42P01", RawPgClient.ErrorCode(first[0].Body));
        List<(char Type, byte[] Body)> second = await client.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", string.Concat(second.Select(m => m.Type)));
    }

    [Fact]
    public async Task Describe_statement_reports_parameter_and_row_types()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendAsync(w =>
        {
            PgFrontendWriter.WriteParse(w, "s1", "select $1::integer + 1 as n, 'x'::varchar as s", [23]);
            PgFrontendWriter.WriteDescribe(w, 'S', "s1");
            PgFrontendWriter.WriteClose(w, 'S', "s1");
            PgFrontendWriter.WriteSync(w);
        });
        List<(char Type, byte[] Body)> messages = await client.ReadUntilAsync('Z');
        Assert.Equal("1tT3Z", string.Concat(messages.Select(m => m.Type)));
        byte[] parameters = messages[1].Body;
        Assert.Equal(1, BinaryPrimitives.ReadInt16BigEndian(parameters));
        Assert.Equal(23, BinaryPrimitives.ReadInt32BigEndian(parameters.AsSpan(2)));
    }

    [Fact]
    public async Task Unknown_message_type_gets_08P01_and_close_without_disturbing_others()
    {
        await using RawPgClient bystander = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendRawAsync([(byte)'!', 0, 0, 0, 4]);
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal('E', error.Value.Type);
        Assert.Equal("08P01", RawPgClient.ErrorCode(error.Value.Body));
        Assert.True(await client.WaitForCloseAsync());

        await bystander.SendAsync(w => PgFrontendWriter.WriteQuery(w, "select 'alive'"));
        List<(char Type, byte[] Body)> reply = await bystander.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", string.Concat(reply.Select(m => m.Type)));
        Assert.False(_edge.HasExited);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'Q', 0, 0, 0, 2 })] // length shorter than itself
    [InlineData(new byte[] { (byte)'P', 0, 0, 0, 6, (byte)'a', (byte)'b' })] // Parse without terminators
    [InlineData(new byte[] { (byte)'B', 0, 0, 0, 8, 0, 0, 0, 0 })] // Bind truncated
    [InlineData(new byte[] { (byte)'D', 0, 0, 0, 6, (byte)'X', 0 })] // Describe of unknown kind
    [InlineData(new byte[] { (byte)'S', 0, 0, 0, 5, 1 })] // Sync with a body
    [InlineData(new byte[] { (byte)'E', 0, 0, 0, 5, 0 })] // Execute truncated
    public async Task Malformed_messages_get_08P01_and_close(byte[] bytes)
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendRawAsync(bytes);
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal('E', error.Value.Type);
        Assert.Equal("08P01", RawPgClient.ErrorCode(error.Value.Body));
        Assert.Equal("FATAL", RawPgClient.ErrorField(error.Value.Body, 'V'));
        Assert.True(await client.WaitForCloseAsync());
        Assert.False(_edge.HasExited);
    }

    [Fact]
    public async Task Garbage_startup_packet_is_rejected_and_the_process_survives()
    {
        await using RawPgClient client = await RawPgClient.ConnectAsync(_edge.Port);
        await client.SendRawAsync([0, 0, 0, 12, 0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4]);
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal('E', error.Value.Type);
        Assert.True(await client.WaitForCloseAsync());

        await using RawPgClient next = await RawPgClient.ConnectReadyAsync(_edge.Port);
        Assert.False(_edge.HasExited);
    }

    [Fact]
    public async Task Startup_without_user_is_rejected_with_28000()
    {
        await using RawPgClient client = await RawPgClient.ConnectAsync(_edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WriteStartup(w, [new("database", "local")]));
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal("28000", RawPgClient.ErrorCode(error.Value.Body));
    }

    [Fact]
    public async Task Ssl_request_is_refused_without_a_certificate_and_plain_startup_follows()
    {
        await using RawPgClient client = await RawPgClient.ConnectAsync(_edge.Port);
        await client.SendAsync(PgFrontendWriter.WriteSslRequest);
        Assert.Equal((byte)'N', await client.ReadSingleByteAsync());
        await client.SendAsync(w => PgFrontendWriter.WriteStartup(w, [new("user", "edge"), new("database", "local")]));
        List<(char Type, byte[] Body)> messages = await client.ReadUntilAsync('Z');
        Assert.Equal('R', messages[0].Type);
    }

    [Fact]
    public async Task Newer_protocol_minor_version_is_negotiated_down()
    {
        await using RawPgClient client = await RawPgClient.ConnectAsync(_edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WriteStartup(w, [new("user", "edge"), new("_pq_.fancy", "1")], 3, 2));
        List<(char Type, byte[] Body)> messages = await client.ReadUntilAsync('Z');
        Assert.Equal('v', messages[0].Type);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(messages[0].Body));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(messages[0].Body.AsSpan(4)));
    }

    [Fact]
    public async Task Parameter_statuses_and_backend_key_arrive_at_startup()
    {
        await using RawPgClient client = await RawPgClient.ConnectAsync(_edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WriteStartup(w, [new("user", "edge"), new("database", "local"), new("application_name", "raw")]));
        List<(char Type, byte[] Body)> messages = await client.ReadUntilAsync('Z');
        string[] names = messages.Where(m => m.Type == 'S').Select(m => System.Text.Encoding.UTF8.GetString(m.Body).Split('\0')[0]).ToArray();
        foreach (string expected in new[] { "server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "integer_datetimes", "standard_conforming_strings", "application_name" })
        {
            Assert.Contains(expected, names);
        }

        Assert.Contains(messages, m => m.Type == 'K');
        Assert.Equal((byte)'I', messages[^1].Body[0]);
    }

    [Fact]
    public async Task Password_message_after_login_is_out_of_order_08P01()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendAsync(w => PgFrontendWriter.WritePassword(w, "late"));
        (char Type, byte[] Body)? error = await client.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal("08P01", RawPgClient.ErrorCode(error.Value.Body));
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task Bind_to_a_missing_statement_is_26000_and_the_session_continues()
    {
        await using RawPgClient client = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await client.SendAsync(w =>
        {
            PgFrontendWriter.WriteBind(w, "", "never_parsed", [], [], []);
            PgFrontendWriter.WriteSync(w);
            PgFrontendWriter.WriteQuery(w, "select 1");
        });
        List<(char Type, byte[] Body)> first = await client.ReadUntilAsync('Z');
        Assert.Equal("26000", RawPgClient.ErrorCode(first[0].Body));
        List<(char Type, byte[] Body)> second = await client.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", string.Concat(second.Select(m => m.Type)));
    }

    [Fact]
    public async Task Client_vanishing_mid_result_leaves_the_gateway_serving()
    {
        for (int i = 0; i < 3; i++)
        {
            RawPgClient leaver = await RawPgClient.ConnectReadyAsync(_edge.Port);
            await leaver.SendAsync(w => PgFrontendWriter.WriteQuery(w, "select i, repeat('x', 100) from range(5000000) t(i)"));
            Assert.Equal('T', (await leaver.ReadAsync())!.Value.Type);
            Assert.Equal('D', (await leaver.ReadAsync())!.Value.Type);
            await leaver.DisposeAsync(); // gone without Terminate, mid-stream
        }

        await using RawPgClient next = await RawPgClient.ConnectReadyAsync(_edge.Port);
        await next.SendAsync(w => PgFrontendWriter.WriteQuery(w, "select 'still serving'"));
        List<(char Type, byte[] Body)> reply = await next.ReadUntilAsync('Z');
        Assert.Equal("TDCZ", string.Concat(reply.Select(m => m.Type)));
        Assert.False(_edge.HasExited);
    }
}
