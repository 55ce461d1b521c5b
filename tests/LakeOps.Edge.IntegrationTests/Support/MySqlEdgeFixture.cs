namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>One Edge with a MySQL front door (trust auth) over in-memory DuckDB, shared by the MySQL front door tests.</summary>
public sealed class MySqlEdgeFixture : IAsyncLifetime
{
    public const string Config = """
        listeners:
          my:
            protocol: mysql
            address: 127.0.0.1:{PORT}
            auth: trust
        clusters:
          duckdb:
            engine: duckdb
            duckdb:
              path: ":memory:"
        groups:
          local:
            clusters: [duckdb]
          other:
            clusters: [duckdb]
          slow:
            clusters: [duckdb]
            statement_timeout: 400ms
        routing:
          default_group: local
        """;

    public EdgeProcess Edge { get; private set; } = null!;

    public async Task InitializeAsync() => Edge = await EdgeProcess.StartAsync(Config);

    public async Task DisposeAsync() => await Edge.DisposeAsync();

    /// <summary>A MySqlConnector connection string for this Edge.</summary>
    public string ConnectionString(string database = "local", string extra = "") => MySqlConnectionStrings.For(Edge.Port, "edge", database, extra);
}

public static class MySqlConnectionStrings
{
    public static string For(int port, string user, string database = "local", string extra = "") =>
        $"Server=127.0.0.1;Port={port};User ID={user};Database={database};SslMode=None;Pooling=false;Connection Timeout=15;Default Command Timeout=60{(extra.Length > 0 ? ";" + extra : "")}";
}

[CollectionDefinition(Name)]
public sealed class MySqlEdgeCollection : ICollectionFixture<MySqlEdgeFixture>
{
    public const string Name = "mysql-edge";
}
