using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Frontends.MySql;

namespace LakeOps.Edge.Frontends.Tests.MySql;

public class MySqlErrorMappingTests
{
    [Theory]
    [InlineData(SqlStates.SyntaxError, 1064, "42000")]
    [InlineData(SqlStates.UndefinedTable, 1146, "42S02")]
    [InlineData(SqlStates.UndefinedColumn, 1054, "42S22")]
    [InlineData(SqlStates.UniqueViolation, 1062, "23000")]
    [InlineData(SqlStates.DivisionByZero, 1365, "22012")]
    [InlineData(SqlStates.ConnectionFailure, 2013, "HY000")]
    [InlineData(SqlStates.InternalError, 1105, "HY000")]
    [InlineData("XX999", 1105, "HY000")]
    public void Sqlstates_map_to_mysql_errors(string sqlState, int code, string mysqlState)
    {
        MySqlError error = MySqlErrorMapping.FromEngine(new EngineException("engine said so", sqlState), timedOut: false);
        Assert.Equal(((ushort)code, mysqlState, "engine said so"), (error.Code, error.SqlState, error.Message));
    }

    [Fact]
    public void Cancellation_is_1317_or_3024_after_a_timeout()
    {
        var canceled = new EngineException("INTERRUPT Error: Interrupted!", SqlStates.QueryCanceled);
        Assert.Equal((1317, "70100"), ((int)MySqlErrorMapping.FromEngine(canceled, false).Code, MySqlErrorMapping.FromEngine(canceled, false).SqlState));
        MySqlError timeout = MySqlErrorMapping.FromEngine(canceled, true);
        Assert.Equal((3024, "HY000"), ((int)timeout.Code, timeout.SqlState));
        Assert.Contains("maximum statement execution time exceeded", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mysql_engine_error_keeps_its_own_number()
    {
        var exception = new EngineException("Duplicate entry '1' for key 'PRIMARY'", "23000");
        exception.Data[MySqlErrorMapping.EngineErrorCodeKey] = 1062;
        MySqlError error = MySqlErrorMapping.FromEngine(exception, false);
        Assert.Equal((1062, "23000"), ((int)error.Code, error.SqlState));
    }
}
