using static LakeOps.Edge.Engines.Tests.DuckDb.DuckDbFixture;

namespace LakeOps.Edge.Engines.Tests.DuckDb;

public class DuckDbPgCatalogInstallTests
{
    // Neither query mentions a catalog marker, so counting never installs anything itself.
    private const string CountTempObjects =
        "select (select count(*) from duckdb_functions() where database_name = 'temp') + (select count(*) from duckdb_views() where temporary)";

    [Fact]
    public async Task Catalog_objects_are_installed_once_per_session_on_first_need()
    {
        Assert.True(LakeOps.Edge.Sql.Translation.DuckDbPgCatalog.IsNeeded("select 1 as pg_marker"));
        Assert.False(LakeOps.Edge.Sql.Translation.DuckDbPgCatalog.IsNeeded(CountTempObjects));
        await using var engine = Engine();
        await using var a = await Session(engine);
        await using var b = await Session(engine);
        long builtIn = (long)(await Scalar(a, CountTempObjects))!;

        Assert.Equal(1, await Scalar(a, "select 1 as pg_marker"));
        long installed = (long)(await Scalar(a, CountTempObjects))!;
        Assert.True(installed > builtIn);
        Assert.Equal(2, await Scalar(a, "select 2 as pg_marker"));
        Assert.Equal(installed, await Scalar(a, CountTempObjects));
        Assert.Equal(builtIn, await Scalar(b, CountTempObjects));
    }

    [Fact]
    public async Task Catalog_objects_rolled_back_with_their_transaction_are_installed_again()
    {
        await using var engine = Engine();
        await using var session = await Session(engine);
        long builtIn = (long)(await Scalar(session, CountTempObjects))!;
        await Run(session, "begin");
        Assert.Equal(1, await Scalar(session, "select 1 as pg_marker"));
        Assert.True((long)(await Scalar(session, CountTempObjects))! > builtIn);
        await Run(session, "rollback");
        Assert.Equal(builtIn, await Scalar(session, CountTempObjects));

        Assert.Equal(1, await Scalar(session, "select 1 as pg_marker"));
        Assert.True((long)(await Scalar(session, CountTempObjects))! > builtIn);
    }
}
