using System.Globalization;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>Config templates for tests ({PORT} and {DIR} are filled in by <see cref="EdgeProcess"/>).</summary>
public static class Configs
{
    public const string Trust = """
        listeners:
          pg:
            protocol: postgres
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
          slow:
            clusters: [duckdb]
            statement_timeout: 400ms
        routing:
          default_group: local
        """;

    public static string WithLimits(string limitsYaml) => Trust.Replace("    auth: trust", "    auth: trust\n    limits:\n" + Indent(limitsYaml, 6), StringComparison.Ordinal);

    /// <summary>A cluster's engine section (<c>postgres:</c> / <c>mysql:</c>) for a test server, as one flow mapping.</summary>
    public static string Engine(PostgresTestServer server) => Engine(server.Host, server.Port, server.User, server.Password, server.Database);

    /// <inheritdoc cref="Engine(PostgresTestServer)"/>
    public static string Engine(MariaDbTestServer server) => Engine(server.Host, server.Port, server.User, server.Password, server.Database);

    private static string Engine(string host, int port, string user, string password, string database) =>
        string.Create(CultureInfo.InvariantCulture, $"{{ host: {host}, port: {port}, user: {user}, password: \"{password}\", database: {database} }}");

    private static string Indent(string text, int spaces)
    {
        string pad = new(' ', spaces);
        return string.Join('\n', text.Split('\n').Select(l => pad + l));
    }
}
