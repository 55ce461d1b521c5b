using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Engines.Trino;

namespace LakeOps.Edge.Engines.Tests.Trino;

/// <summary>The <c>engine: trino</c> cluster section: defaults, every key, and errors with their YAML paths.</summary>
public sealed class TrinoConfigTests
{
    private static string Yaml(string trinoSection, string extra = "") => $"""
        listeners:
          pg:
            protocol: postgres
            address: 127.0.0.1:15432
            auth: trust
        clusters:
          lake:
            engine: trino
        {trinoSection}
        {extra}
        groups:
          g:
            clusters: [lake]
        routing:
          default_group: g
        """;

    [Fact]
    public void MinimalSectionTakesDefaults()
    {
        ConfigLoadResult result = ConfigLoader.Load(Yaml("    trino:\n      host: coordinator.local"), null, _ => null);
        Assert.True(result.Success, string.Join("; ", result.Errors));
        Assert.Empty(result.Errors);
        ClusterConfig cluster = result.Config!.Clusters["lake"];
        Assert.Equal(EngineKind.Trino, cluster.Engine);
        TrinoEngineOptions trino = cluster.Trino!;
        Assert.Equal(("coordinator.local", 8080, EngineTlsMode.Disable, "lakeops-edge", "lakeops-edge"), (trino.Host, trino.Port, trino.Tls, trino.User, trino.Source));
        Assert.Null(trino.Password);
        Assert.Null(trino.AccessToken);
        Assert.False(trino.ForwardUser);
        Assert.Equal(TrinoEngineOptions.DefaultForwardHeaders, trino.ForwardHeaders);
        Assert.Equal(TimeSpan.FromSeconds(60), trino.RequestTimeout);
    }

    [Fact]
    public void BindsEveryKey()
    {
        const string section = """
                trino:
                  host: trino.example.com
                  tls: require
                  user: edge
                  password: ${TRINO_PASSWORD}
                  access_token: abc.def
                  forward_user: true
                  catalog: hive
                  schema: sales
                  source: bi-gateway
                  client_tags: [edge, bi]
                  session_properties:
                    query_max_run_time: 10m
                    hive.insert_existing_partitions_behavior: OVERWRITE
                  forward_headers: [X-Trino-Catalog, X-Presto-Schema]
                  request_timeout: 30s
                  batch_rows: 1000
                pool:
                  max_size: 8
            """;
        ConfigLoadResult result = ConfigLoader.Load(Yaml(section), null, name => name == "TRINO_PASSWORD" ? "s3cret" : null);
        Assert.True(result.Success && result.Errors.Count == 0, string.Join("; ", result.Errors));
        ClusterConfig cluster = result.Config!.Clusters["lake"];
        TrinoEngineOptions trino = cluster.Trino!;
        Assert.Equal(443, trino.Port);
        Assert.Equal(EngineTlsMode.Require, trino.Tls);
        Assert.Equal("s3cret", trino.Password);
        Assert.Equal("abc.def", trino.AccessToken);
        Assert.True(trino.ForwardUser);
        Assert.Equal(("hive", "sales", "bi-gateway"), (trino.Catalog, trino.Schema, trino.Source));
        Assert.Equal(["edge", "bi"], trino.ClientTags);
        Assert.Equal(["query_max_run_time=10m", "hive.insert_existing_partitions_behavior=OVERWRITE"], trino.SessionProperties.Select(p => p.Key + "=" + p.Value));
        Assert.Equal(["X-Trino-Catalog", "X-Presto-Schema"], trino.ForwardHeaders);
        Assert.Equal(TimeSpan.FromSeconds(30), trino.RequestTimeout);
        Assert.Equal(1000, trino.BatchRows);
        Assert.Equal(8, cluster.Pool.MaxSize);

        // The registry creates the engine for it.
        IAsyncDisposable engine = (IAsyncDisposable)EngineRegistry.Create(cluster);
        Assert.IsType<TrinoEngine>(engine);
        Assert.Equal(new Uri("https://trino.example.com:443/"), ((TrinoEngine)engine).BaseUri);
    }

    [Theory]
    [InlineData("", "clusters.lake", "needs a 'trino' section")]
    [InlineData("    trino:\n      port: 8080", "clusters.lake.trino", "host")]
    [InlineData("    trino:\n      host: http://x:8080", "clusters.lake.trino.host", "no scheme")]
    [InlineData("    trino:\n      host: x\n      tls: prefer", "clusters.lake.trino.tls", "prefer")]
    [InlineData("    trino:\n      host: x\n      port: 70000", "clusters.lake.trino.port", "")]
    [InlineData("    trino:\n      host: x\n      forward_headers: [X-Trino-User]", "clusters.lake.trino.forward_headers[0]", "forward_user")]
    [InlineData("    trino:\n      host: x\n      forward_headers: [Cookie]", "clusters.lake.trino.forward_headers[0]", "not a Trino request header")]
    [InlineData("    trino:\n      host: x\n      client_tags: [a,b]\n      request_timeout: 0s", "clusters.lake.trino.request_timeout", "greater than 0")]
    [InlineData("    trino:\n      host: x\n      session_properties:\n        \"bad name\": 1", "clusters.lake.trino.session_properties", "session property")]
    [InlineData("    trino:\n      host: x\n      colour: blue", "clusters.lake.trino.colour", "")]
    [InlineData("    trino:\n      host: x\n    postgres:\n      host: y", "clusters.lake.postgres", "")]
    public void ReportsErrorsWithTheirPath(string section, string path, string text)
    {
        ConfigLoadResult result = ConfigLoader.Load(Yaml(section), null, _ => null);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(text, StringComparison.Ordinal));
    }

    [Fact]
    public void ATrinoSectionUnderAnotherEngineIsAnError()
    {
        string yaml = Yaml("    trino:\n      host: x").Replace("engine: trino", "engine: duckdb", StringComparison.Ordinal);
        ConfigLoadResult result = ConfigLoader.Load(yaml, null, _ => null);
        Assert.Contains(result.Errors, e => e.Path == "clusters.lake.trino" && e.Message.Contains("belongs to engine 'trino'", StringComparison.Ordinal));
    }
}
