using Apache.Arrow;

namespace LakeOps.Edge.Frontends.Postgres.Catalog;

/// <summary>A result the gateway computes itself instead of asking the engine.</summary>
/// <param name="Schema">Column names and types. Oid columns are UInt32 with field metadata
/// <see cref="PgCatalogEmulator.PgTypeOidKey"/> = "26" so they are described to clients as PostgreSQL oid.</param>
/// <param name="Batch">The rows; <c>null</c> when there are none.</param>
/// <param name="CommandTag">The CommandComplete tag, "SELECT n".</param>
public sealed record EmulatedResult(Schema Schema, RecordBatch? Batch, string CommandTag);

/// <summary>What the emulated answers depend on.</summary>
/// <param name="ServerVersion">The server_version Edge reports (e.g. "16.4").</param>
/// <param name="EngineName">The engine (cluster) the session talks to, shown in version().</param>
public sealed record PgEmulationContext(string ServerVersion, string EngineName);
