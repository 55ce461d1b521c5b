namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>One shared Edge process (trust auth, in-memory DuckDB) for tests that do not need their own config.</summary>
public sealed class EdgeFixture : IAsyncLifetime
{
    public EdgeProcess Edge { get; private set; } = null!;

    public async Task InitializeAsync() => Edge = await EdgeProcess.StartAsync(Configs.Trust);

    public async Task DisposeAsync() => await Edge.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class EdgeCollection : ICollectionFixture<EdgeFixture>
{
    public const string Name = "edge";
}
