using System.Globalization;
using LakeOps.Edge.IntegrationTests.Matrix.Clients;
using LakeOps.Edge.IntegrationTests.Support;
using LakeOps.Edge.Tests.Shared;
using MySqlConnector;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>
/// PostgreSQL and MariaDB (real servers, see tests/Shared) and one Edge (the AOT binary) with both front
/// doors and three groups: duckdb (embedded), postgres and mariadb. Every engine gets the same tables and
/// rows: native DDL run on the engine itself (DuckDB through Edge, since it lives inside Edge), then the
/// same portable INSERTs.
/// </summary>
public sealed class MatrixFixture : IAsyncLifetime
{
    public const string EdgeUser = "edge";

    private const string ConfigTemplate = """
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:{PORT}
            auth: trust
          mysql:
            protocol: mysql
            address: 127.0.0.1:{MYSQL_PORT}
            auth: trust
          trino:
            protocol: trino
            address: 127.0.0.1:{TRINO_PORT}
            auth: trust
        clusters:
          duck:
            engine: duckdb
            duckdb:
              path: ":memory:"
          pg1:
            engine: postgres
            postgres:
              host: {PG_HOST}
              port: {PG_PORT}
              user: {PG_USER}
              password: "${MATRIX_PG_PASSWORD:-}"
              database: {PG_DATABASE}
          maria1:
            engine: mysql
            mysql:
              host: {MYSQL_HOST}
              port: {MYSQL_ENGINE_PORT}
              user: {MYSQL_USER}
              password: "${MATRIX_MYSQL_PASSWORD:-}"
              database: {MYSQL_DATABASE}
        groups:
          duckdb:
            clusters: [duck]
          postgres:
            clusters: [pg1]
          mariadb:
            clusters: [maria1]
        routing:
          default_group: duckdb
        """;

    public PostgresTestServer Postgres { get; private set; } = null!;

    public MariaDbTestServer MariaDb { get; private set; } = null!;

    public EdgeProcess Edge { get; private set; } = null!;

    public int MySqlPort { get; private set; }

    /// <summary>Edge's Trino front door (tests/LakeOps.Edge.IntegrationTests/Trino runs the npm Trino clients against it).</summary>
    public int TrinoPort { get; private set; }

    public IReadOnlyList<IMatrixClient> Clients { get; } = [new PsqlClient(), new NpgsqlClient(), new MySqlCliClient(), new MySqlConnectorClient(), new MySqlConnectorClient(prepared: true)];

    /// <summary>Where <paramref name="client"/> reaches <paramref name="engine"/> through Edge: its front door, the group as database.</summary>
    public MatrixEndpoint ThroughEdge(IMatrixClient client, MatrixEngine engine) =>
        new("127.0.0.1", client.SpeaksPostgres ? Edge.Port : MySqlPort, EdgeUser, "", MatrixData.GroupOf(engine));

    /// <summary>The engine itself, bypassing Edge (for the reference results); null for embedded DuckDB.</summary>
    public MatrixEndpoint? Direct(MatrixEngine engine) => engine switch
    {
        MatrixEngine.Postgres => new(Postgres.Host, Postgres.Port, Postgres.User, Postgres.Password, Postgres.Database),
        MatrixEngine.MariaDb => new(MariaDb.Host, MariaDb.Port, MariaDb.User, MariaDb.Password, MariaDb.Database),
        _ => null,
    };

    public async Task InitializeAsync()
    {
        Task<PostgresTestServer> pg = PostgresTestServer.GetAsync();
        Task<MariaDbTestServer> maria = MariaDbTestServer.GetAsync();
        Postgres = await pg;
        MariaDb = await maria;

        MySqlPort = EdgeProcess.FreePort();
        TrinoPort = EdgeProcess.FreePort();
        string config = ConfigTemplate
            .Replace("{MYSQL_PORT}", Text(MySqlPort), StringComparison.Ordinal)
            .Replace("{TRINO_PORT}", Text(TrinoPort), StringComparison.Ordinal)
            .Replace("{PG_HOST}", Postgres.Host, StringComparison.Ordinal)
            .Replace("{PG_PORT}", Text(Postgres.Port), StringComparison.Ordinal)
            .Replace("{PG_USER}", Postgres.User, StringComparison.Ordinal)
            .Replace("{PG_DATABASE}", Postgres.Database, StringComparison.Ordinal)
            .Replace("{MYSQL_HOST}", MariaDb.Host, StringComparison.Ordinal)
            .Replace("{MYSQL_ENGINE_PORT}", Text(MariaDb.Port), StringComparison.Ordinal)
            .Replace("{MYSQL_USER}", MariaDb.User, StringComparison.Ordinal)
            .Replace("{MYSQL_DATABASE}", MariaDb.Database, StringComparison.Ordinal);

        // Passwords travel as environment variables so no quoting rules of YAML apply to them.
        Edge = await EdgeProcess.StartAsync(config, new Dictionary<string, string>
        {
            ["MATRIX_PG_PASSWORD"] = Postgres.Password,
            ["MATRIX_MYSQL_PASSWORD"] = MariaDb.Password,
        });

        await Task.WhenAll(SeedPostgresAsync(), SeedMariaDbAsync(), SeedDuckDbAsync());
    }

    private async Task SeedPostgresAsync()
    {
        await using var connection = new NpgsqlConnection(Postgres.ConnectionString());
        await connection.OpenAsync();
        await RunAllAsync(connection, MatrixData.Setup(MatrixEngine.Postgres));
    }

    private async Task SeedMariaDbAsync()
    {
        await using var connection = new MySqlConnection(MariaDb.ConnectionString());
        await connection.OpenAsync();
        await RunAllAsync(connection, MatrixData.Setup(MatrixEngine.MariaDb));
    }

    private async Task SeedDuckDbAsync()
    {
        await using var connection = new NpgsqlConnection(Edge.ConnectionString(EdgeUser, MatrixData.GroupOf(MatrixEngine.DuckDb)));
        await connection.OpenAsync();
        await RunAllAsync(connection, MatrixData.Setup(MatrixEngine.DuckDb));
    }

    private static async Task RunAllAsync(System.Data.Common.DbConnection connection, IReadOnlyList<string> statements)
    {
        foreach (string sql in statements)
        {
            await using System.Data.Common.DbCommand command = connection.CreateCommand();
            command.CommandText = sql;
            try
            {
                await command.ExecuteNonQueryAsync();
            }
            catch (System.Data.Common.DbException ex)
            {
                throw new InvalidOperationException($"matrix setup failed on {connection.GetType().Name} for: {MatrixOutcome.Show(sql)}\n{ex.Message}", ex);
            }
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Also called by xunit when <see cref="InitializeAsync"/> failed part way.</summary>
    public async Task DisposeAsync()
    {
        if (Edge is not null)
        {
            await Edge.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class MatrixCollection : ICollectionFixture<MatrixFixture>
{
    public const string Name = "matrix";
}
