using System.Net;
using System.Text;
using System.Text.Json;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Engines;
using LakeOps.Edge.Frontends.Trino;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Frontends.Tests.Trino;

/// <summary>Transactions and the session schema (the MySQL database) on the Trino front door in front of a real MariaDB.</summary>
public sealed class TrinoMySqlTransactionTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private readonly string _database = "tdb_" + Guid.NewGuid().ToString("N")[..8];
    private EngineRegistry _registry = null!;
    private TrinoFrontDoor _door = null!;

    public async Task InitializeAsync()
    {
        MariaDbTestServer server = await MariaDbTestServer.GetAsync();
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        ConfigLoadResult result = ConfigLoader.Load($$"""
            listeners:
              t:
                protocol: trino
                address: 127.0.0.1:{{port}}
                auth: trust
            clusters:
              my:
                engine: mysql
                mysql:
                  host: {{server.Host}}
                  port: {{server.Port}}
                  user: {{server.User}}
                  password: "{{server.Password}}"
                  database: {{server.Database}}
            groups:
              mygroup:
                clusters: [my]
            routing:
              default_group: mygroup
            """, null, _ => null);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        _registry = await EngineRegistry.StartAsync(result.Config!);
        _door = new TrinoFrontDoor(result.Config!.Listeners[0], new ConfigStore(result.Config!), _registry);
        _door.Start();
        await OkAsync($"CREATE DATABASE {_database}");
        await OkAsync($"CREATE TABLE {_database}.items (a INT) ENGINE=InnoDB");
    }

    public async Task DisposeAsync()
    {
        await OkAsync($"DROP DATABASE {_database}");
        await _door.DisposeAsync();
        await _registry.DisposeAsync();
        _http.Dispose();
    }

    private async Task<(HttpResponseMessage First, JsonElement Last)> RunAsync(string sql, string? transaction = null, string? schema = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _door.Endpoint + "/v1/statement") { Content = new StringContent(sql, Encoding.UTF8) };
        request.Headers.Add("X-Trino-User", "edge");
        if (transaction is not null)
        {
            request.Headers.Add("X-Trino-Transaction-Id", transaction);
        }

        if (schema is not null)
        {
            request.Headers.Add("X-Trino-Schema", schema);
        }

        HttpResponseMessage first = await _http.SendAsync(request);
        JsonElement page = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.Clone();
        while (page.TryGetProperty("nextUri", out JsonElement next))
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, next.GetString());
            get.Headers.Add("X-Trino-User", "edge");
            using HttpResponseMessage response = await _http.SendAsync(get);
            page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        return (first, page);
    }

    private async Task<string> OkAsync(string sql, string? transaction = null, string? schema = null)
    {
        (HttpResponseMessage first, JsonElement last) = await RunAsync(sql, transaction, schema);
        first.Dispose();
        Assert.True(last.GetProperty("stats").GetProperty("state").GetString() == "FINISHED", $"{sql}: {last.GetRawText()}");
        return last.TryGetProperty("data", out JsonElement data) ? data.GetRawText() : "";
    }

    private async Task<string> StartAsync(string sql = "START TRANSACTION", string? schema = null)
    {
        (HttpResponseMessage first, JsonElement last) = await RunAsync(sql, schema: schema);
        Assert.True(last.GetProperty("stats").GetProperty("state").GetString() == "FINISHED", last.GetRawText());
        string id = first.Headers.GetValues("X-Trino-Started-Transaction-Id").Single();
        first.Dispose();
        return id;
    }

    [Fact]
    public async Task Schema_is_the_database_and_transactions_commit_or_roll_back()
    {
        string id = await StartAsync(schema: _database);
        await OkAsync("INSERT INTO items VALUES (1)", id, _database);
        Assert.Equal("[[1]]", await OkAsync("SELECT count(*) FROM items", id, _database));
        Assert.Equal("[[0]]", await OkAsync($"SELECT count(*) FROM {_database}.items"));
        await OkAsync("COMMIT", id);
        Assert.Equal("[[1]]", await OkAsync("SELECT count(*) FROM items", schema: _database));

        id = await StartAsync();
        await OkAsync("INSERT INTO items VALUES (2)", id, _database);
        await OkAsync("ROLLBACK", id);
        Assert.Equal("[[1]]", await OkAsync($"SELECT count(*) FROM {_database}.items"));

        Assert.Equal("[[1]]", await OkAsync("SELECT 1", schema: "no_such_" + _database));
        (HttpResponseMessage first, JsonElement missing) = await RunAsync("SELECT count(*) FROM items", schema: "no_such_" + _database);
        first.Dispose();
        Assert.Equal("SCHEMA_NOT_FOUND", missing.GetProperty("error").GetProperty("errorName").GetString());
    }

    [Fact]
    public async Task Read_only_transaction_refuses_writes()
    {
        string id = await StartAsync("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY");
        (HttpResponseMessage first, JsonElement write) = await RunAsync($"INSERT INTO {_database}.items VALUES (3)", id);
        first.Dispose();
        Assert.Equal("FAILED", write.GetProperty("stats").GetProperty("state").GetString());
        (first, JsonElement aborted) = await RunAsync("SELECT 1", id);
        first.Dispose();
        Assert.Equal("TRANSACTION_ALREADY_ABORTED", aborted.GetProperty("error").GetProperty("errorName").GetString());
        await OkAsync("ROLLBACK", id);
        Assert.Equal(0, _door.OpenTransactions);
    }
}
