using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Core.Tests.Config;

internal static class ConfigTestSupport
{
    /// <summary>A complete, valid config; tests change one part of it.</summary>
    public const string Minimal = """
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:15432
            auth: trust
        clusters:
          duck:
            engine: duckdb
        groups:
          local:
            clusters: [duck]
        routing:
          default_group: local
        """;

    public static ConfigLoadResult Load(string yaml, IReadOnlyDictionary<string, string>? env = null, string? sourcePath = null) =>
        ConfigLoader.Load(yaml, sourcePath, name => env is not null && env.TryGetValue(name, out string? value) ? value : null);

    public static EdgeConfig LoadValid(string yaml, IReadOnlyDictionary<string, string>? env = null, string? sourcePath = null)
    {
        ConfigLoadResult result = Load(yaml, env, sourcePath);
        Assert.True(result.Success, "expected no errors, got:\n" + string.Join("\n", result.Errors));
        Assert.Empty(result.Errors);
        return result.Config;
    }

    public static IReadOnlyList<ConfigError> LoadErrors(string yaml, IReadOnlyDictionary<string, string>? env = null, string? sourcePath = null)
    {
        ConfigLoadResult result = Load(yaml, env, sourcePath);
        Assert.False(result.Success);
        Assert.Null(result.Config);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    /// <summary>The single error at <paramref name="path"/>; fails listing all errors otherwise.</summary>
    public static ConfigError ErrorAt(IReadOnlyList<ConfigError> errors, string path)
    {
        ConfigError? found = null;
        int count = 0;
        foreach (ConfigError error in errors)
        {
            if (error.Path == path)
            {
                found = error;
                count++;
            }
        }

        Assert.True(count == 1, $"expected one error at '{path}', found {count}:\n" + string.Join("\n", errors));
        return found!;
    }

    /// <summary>Appends <paramref name="extra"/> at top level of the minimal config.</summary>
    public static string With(string extra) => Minimal + "\n" + extra;
}
