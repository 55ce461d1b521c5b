using System.Net;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Security;
using static LakeOps.Edge.Core.Tests.Config.ConfigTestSupport;

namespace LakeOps.Edge.Core.Tests.Config;

/// <summary>The shipped configs in the repository's configs/ directory must load.</summary>
public class ExampleConfigTests
{
    [Fact]
    public void Default_config_loads()
    {
        string path = RepoFile("configs/edge.yaml");

        ConfigLoadResult result = ConfigLoader.LoadFile(path);

        Assert.True(result.Success, string.Join("\n", result.Errors));
        ListenerConfig listener = Assert.Single(result.Config.Listeners);
        Assert.Equal("postgres", listener.Name);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 15432), listener.Endpoint);
        Assert.Equal(AuthMethod.Trust, listener.Auth);
        Assert.Equal(":memory:", result.Config.Clusters["duckdb"].DuckDb!.Path);
        Assert.Equal(["duckdb"], result.Config.Groups["local"].Clusters);
        Assert.Equal("local", result.Config.Routing.DefaultGroup);
    }

    [Fact]
    public void Scram_tls_example_loads_with_tls_files_from_the_environment()
    {
        using var dir = new TempDirectory();
        string cert = dir.File("cert.pem");
        string key = dir.File("key.pem");
        TestCertificate.WritePem(cert, key);
        string path = RepoFile("configs/examples/scram-tls.yaml");

        EdgeConfig config = LoadValid(File.ReadAllText(path), new Dictionary<string, string> { ["EDGE_TLS_CERT"] = cert, ["EDGE_TLS_KEY"] = key }, path);

        ListenerConfig listener = Assert.Single(config.Listeners);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 15432), listener.Endpoint);
        Assert.Equal(AuthMethod.ScramSha256, listener.Auth);
        Assert.Equal(new TlsConfig(cert, key, Required: true), listener.Tls);
        Assert.True(ScramVerifier.TryParse(config.Users["analyst"].ScramVerifier!, out ScramVerifier? verifier));
        Assert.True(verifier!.VerifyPassword("edge-secret"));
    }

    [Fact]
    public void Scram_tls_example_without_tls_files_reports_both_paths()
    {
        using var dir = new TempDirectory();
        string path = RepoFile("configs/examples/scram-tls.yaml");
        var env = new Dictionary<string, string> { ["EDGE_TLS_CERT"] = Path.Combine(dir.Path, "none.pem"), ["EDGE_TLS_KEY"] = Path.Combine(dir.Path, "none.key") };

        IReadOnlyList<ConfigError> errors = LoadErrors(File.ReadAllText(path), env, path);

        Assert.Equal(2, errors.Count);
        Assert.Contains("does not exist", ErrorAt(errors, "listeners.postgres.tls.certificate").Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", ErrorAt(errors, "listeners.postgres.tls.key").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duckdb_file_example_loads()
    {
        using var dir = new TempDirectory();
        string database = dir.File("warehouse.duckdb");
        string path = RepoFile("configs/examples/duckdb-file.yaml");

        EdgeConfig config = LoadValid(File.ReadAllText(path), new Dictionary<string, string> { ["EDGE_DUCKDB_FILE"] = database }, path);

        ClusterConfig cluster = config.Clusters["warehouse"];
        Assert.Equal(new DuckDbOptions { Path = database, ReadOnly = true, Threads = 4, MemoryLimit = "2GB" }, cluster.DuckDb);
        Assert.Equal(TimeSpan.FromMinutes(5), cluster.Limits.QueryTimeout);
        Assert.Equal("warehouse", config.Routing.DefaultGroup);
    }

    [Fact]
    public void Routing_example_loads_with_every_condition_kind()
    {
        string path = RepoFile("configs/examples/routing.yaml");

        EdgeConfig config = LoadValid(File.ReadAllText(path), sourcePath: path);

        Assert.Equal("interactive", config.Fallback);
        Assert.Equal(["etl", "writers"], config.Users["etl_bot"].Roles);
        var fields = new HashSet<RouteField>();
        var kinds = new HashSet<Type>();
        var stack = new Stack<RouteCondition>();
        foreach (RouteRuleConfig rule in config.Routes)
        {
            if (rule.When is { } when)
            {
                stack.Push(when);
            }
        }

        while (stack.Count > 0)
        {
            RouteCondition condition = stack.Pop();
            kinds.Add(condition.GetType());
            switch (condition)
            {
                case AllCondition all:
                    all.Items.ToList().ForEach(stack.Push);
                    break;
                case AnyCondition any:
                    any.Items.ToList().ForEach(stack.Push);
                    break;
                case NotCondition not:
                    stack.Push(not.Item);
                    break;
                case FieldCondition field:
                    fields.Add(field.Field);
                    break;
            }
        }

        Assert.Equal(Enum.GetValues<RouteField>().ToHashSet(), fields);
        Assert.Equal(8, kinds.Count); // all, any, not, field, property (session/header), regex, tables, time
        Assert.Contains(config.Routes, r => r.Action.Kind == RouteActionKind.Deny);
        Assert.Contains(config.Routes, r => r.Action.Kind == RouteActionKind.Split && r.Action.Stable == SplitStability.Fingerprint);
        Assert.Contains(config.Routes, r => r.Action.Kind == RouteActionKind.Continue);
    }

    private static string RepoFile(string relative)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}");
    }
}
