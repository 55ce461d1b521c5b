using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>Npgsql with its defaults (type loading on connect, extended query protocol, binary results).</summary>
public sealed class NpgsqlClient : AdoClient
{
    public override string Name => "Npgsql";

    public override bool SpeaksPostgres => true;

    protected override DbConnection CreateConnection(MatrixEndpoint endpoint) => new NpgsqlConnection(string.Create(CultureInfo.InvariantCulture,
        $"Host={endpoint.Host};Port={endpoint.Port};Username={endpoint.User};Password={endpoint.Password};Database={endpoint.Database};Pooling=false;Timeout=10;Command Timeout=30"));

    protected override bool IsServerError(DbException exception, out string code, out string message)
    {
        if (exception is PostgresException pg)
        {
            code = "SQLSTATE " + pg.SqlState;
            message = pg.MessageText;
            return true;
        }

        code = message = "";
        return false;
    }
}
