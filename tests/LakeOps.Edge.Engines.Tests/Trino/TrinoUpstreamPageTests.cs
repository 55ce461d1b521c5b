using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.Trino;
using LakeOps.Edge.Tests.Shared;

namespace LakeOps.Edge.Engines.Tests.Trino;

/// <summary>
/// Which passthrough pages only report progress (<see cref="TrinoUpstreamPage.IsStatusOnly"/>: the front door may
/// follow such a page's nextUri itself), against <see cref="FakeTrinoCoordinator"/> (a fake: replays documented pages).
/// </summary>
public sealed class TrinoUpstreamPageTests : IAsyncLifetime
{
    private static readonly string Columns = TrinoPages.Columns(("n", "integer"));

    private readonly FakeTrinoCoordinator _fake = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    public static TheoryData<string, string, bool> Pages => new()
    {
        { "queued", TrinoPages.Queued(), true },
        { "running, no columns yet", TrinoPages.Running(), true },
        { "running with columns", TrinoPages.Running(Columns), false },
        { "running with rows", TrinoPages.Running(Columns, "[[1]]"), false },
        { "update", TrinoPages.Running(updateType: "INSERT", updateCount: 1), false },
        { "finished (no nextUri)", TrinoPages.Finished(), false },
        { "failed", TrinoPages.Failed("line 1:8: mismatched input", 1, "SYNTAX_ERROR", "USER_ERROR"), false },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Only_a_page_with_a_nextUri_and_nothing_else_is_status_only(string name, string body, bool statusOnly)
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(body), new FakePage(TrinoPages.Finished()));
        await using TrinoEngine engine = Engine();

        using TrinoUpstreamPage page = await ((ITrinoHttpEngine)engine).SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), CancellationToken.None);

        Assert.True(statusOnly == page.IsStatusOnly, name);
    }

    [Fact]
    public async Task A_page_that_is_not_http_200_is_not_status_only()
    {
        _fake.OnStatement = (_, _) => new FakeQuery(new FakePage(TrinoPages.Queued(), Status: 404));
        await using TrinoEngine engine = Engine();

        using TrinoUpstreamPage page = await ((ITrinoHttpEngine)engine).SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), CancellationToken.None);

        Assert.Equal(404, page.StatusCode);
        Assert.False(page.IsStatusOnly);
    }

    [Fact]
    public async Task A_failed_page_carries_the_coordinators_error_and_others_none()
    {
        _fake.OnStatement = (sql, _) => new FakeQuery(new FakePage(sql == "FAIL"
            ? TrinoPages.Failed("line 1:1: mismatched input 'FAIL'", 1, "SYNTAX_ERROR", "USER_ERROR")
            : TrinoPages.Finished()));
        await using TrinoEngine engine = Engine();

        using (TrinoUpstreamPage failed = await ((ITrinoHttpEngine)engine).SubmitAsync(new TrinoUpstreamRequest("FAIL", []), CancellationToken.None))
        {
            Assert.Equal(new TrinoUpstreamError("line 1:1: mismatched input 'FAIL'", 1, "SYNTAX_ERROR", "USER_ERROR"), failed.Error);
        }

        using TrinoUpstreamPage finished = await ((ITrinoHttpEngine)engine).SubmitAsync(new TrinoUpstreamRequest("SELECT 1", []), CancellationToken.None);
        Assert.Null(finished.Error);
    }

    private TrinoEngine Engine() =>
        new(new ClusterConfig { Name = "trino-a", Engine = EngineKind.Trino, Trino = new TrinoEngineOptions { Host = "127.0.0.1", Port = _fake.Port, User = "edge" } });
}
