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

    private static string Indent(string text, int spaces)
    {
        string pad = new(' ', spaces);
        return string.Join('\n', text.Split('\n').Select(l => pad + l));
    }
}
