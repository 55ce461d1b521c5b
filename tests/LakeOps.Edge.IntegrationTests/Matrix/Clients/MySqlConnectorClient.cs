using System.Data.Common;
using System.Globalization;
using MySqlConnector;

namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>
/// MySqlConnector with its defaults (TINYINT(1) read as bool), TLS off like the CLI. By default the text
/// protocol (COM_QUERY); with <paramref name="prepared"/> every command is prepared first, so results come
/// in the binary protocol (COM_STMT_EXECUTE).
/// </summary>
public sealed class MySqlConnectorClient(bool prepared = false) : AdoClient
{
    public override string Name => prepared ? "MySqlConnector (prepared)" : "MySqlConnector";

    protected override bool Prepare => prepared;

    public override bool SpeaksPostgres => false;

    protected override DbConnection CreateConnection(MatrixEndpoint endpoint) => new MySqlConnection(string.Create(CultureInfo.InvariantCulture,
        $"Server={endpoint.Host};Port={endpoint.Port};User ID={endpoint.User};Password={endpoint.Password};Database={endpoint.Database};SslMode=None;Pooling=false;AllowPublicKeyRetrieval=true;Connection Timeout=10;Default Command Timeout=30;Ignore Prepare=false"));

    protected override bool IsServerError(DbException exception, out string code, out string message)
    {
        if (exception is MySqlException my)
        {
            code = string.Create(CultureInfo.InvariantCulture, $"ERROR {my.Number} ({my.SqlState})");
            message = my.Message;
            return true;
        }

        code = message = "";
        return false;
    }
}
