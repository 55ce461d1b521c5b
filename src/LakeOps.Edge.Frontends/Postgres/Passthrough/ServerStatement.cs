using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>
/// One distinct prepared statement (query text plus declared parameter types) under the name Edge
/// gives it on server connections. Clients name their statements as they like; on the wire to the
/// server the same (query, types) always carries the same name, so any client can reuse a statement
/// that another client already prepared on a pooled connection.
/// </summary>
internal sealed class ServerStatement
{
    internal ServerStatement(long id, byte[] key)
    {
        Id = id;
        Key = key;
        Name = string.Create(CultureInfo.InvariantCulture, $"lkp_{id}");
        NameBytes = Encoding.ASCII.GetBytes(Name);

        // The Parse frame Edge sends: 'P', length, name NUL, then the client's query NUL + types as they came.
        int bodyLength = NameBytes.Length + 1 + key.Length;
        ParseFrame = new byte[1 + 4 + bodyLength];
        ParseFrame[0] = PgMessageTypes.Parse;
        BinaryPrimitives.WriteInt32BigEndian(ParseFrame.AsSpan(1), 4 + bodyLength);
        NameBytes.CopyTo(ParseFrame.AsSpan(5));
        key.CopyTo(ParseFrame.AsSpan(5 + NameBytes.Length + 1));

        int end = key.AsSpan().IndexOf((byte)0);
        Effects = StatementEffects.Classify(key.AsSpan(0, end < 0 ? key.Length : end));
    }

    public long Id { get; }

    /// <summary>The server-side name, "lkp_&lt;id&gt;".</summary>
    public string Name { get; }

    public byte[] NameBytes { get; }

    /// <summary>The Parse body after the statement name: query, NUL, Int16 count, Int32 type OIDs.</summary>
    public byte[] Key { get; }

    /// <summary>A complete Parse message that prepares this statement under <see cref="Name"/>.</summary>
    public byte[] ParseFrame { get; }

    /// <summary>What running the statement does to the session (pinning, SET); null for ordinary statements.</summary>
    public StatementEffects? Effects { get; }

    /// <summary>
    /// The cluster on which a Parse of this statement last succeeded. A client's Parse of a statement known
    /// to be valid there is answered by Edge when the client has no server connection, so preparing never
    /// waits for the pool (a blocking PQprepare would otherwise stall clients that hold connections).
    /// </summary>
    public string? VerifiedOn { get; set; }

    public override string ToString() => Name;
}

/// <summary>
/// The process-wide map from (query, parameter types) to <see cref="ServerStatement"/>. Lookups by the
/// raw Parse bytes allocate nothing; a new statement costs one entry for the life of the process.
/// </summary>
internal static class ServerStatementRegistry
{
    private static readonly ConcurrentDictionary<byte[], ServerStatement> Statements = new(ByteKeyComparer.Instance);
    private static readonly ConcurrentDictionary<byte[], ServerStatement>.AlternateLookup<ReadOnlySpan<byte>> BySpan =
        Statements.GetAlternateLookup<ReadOnlySpan<byte>>();

    private static long _nextId;

    public static int Count => Statements.Count;

    /// <summary>The statement for a Parse body's tail (<see cref="ServerStatement.Key"/>), created on first use.</summary>
    public static ServerStatement GetOrAdd(ReadOnlySpan<byte> key)
    {
        if (BySpan.TryGetValue(key, out ServerStatement? statement))
        {
            return statement;
        }

        byte[] copy = key.ToArray();
        var created = new ServerStatement(Interlocked.Increment(ref _nextId), copy);
        return Statements.GetOrAdd(copy, created);
    }
}
