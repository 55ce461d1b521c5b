namespace LakeOps.Edge.IntegrationTests.Matrix.Clients;

/// <summary>Where a client connects: Edge's front door (database = group) or an engine directly.</summary>
public sealed record MatrixEndpoint(string Host, int Port, string User, string Password, string Database);

/// <summary>A real client program or driver that runs one query and returns what it saw, canonicalised.</summary>
public interface IMatrixClient
{
    string Name { get; }

    /// <summary>True for PostgreSQL-wire clients, false for MySQL-wire clients.</summary>
    bool SpeaksPostgres { get; }

    Task<MatrixOutcome> RunAsync(MatrixEndpoint endpoint, MatrixQuery query);
}
