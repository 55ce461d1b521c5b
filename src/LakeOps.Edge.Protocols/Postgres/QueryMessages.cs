namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>Query ('Q'): one string holding one or more SQL statements (simple query protocol).</summary>
public static class QueryMessage
{
    /// <summary>Parses the body (bytes after the 5-byte header) and returns the SQL text.</summary>
    public static string Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Query");
        string sql = reader.ReadCStringAsString();
        reader.End();
        return sql;
    }

    /// <summary>The SQL bytes without decoding them (for forwarding or fingerprinting without a string).</summary>
    public static ReadOnlySpan<byte> ParseUtf8(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Query");
        ReadOnlySpan<byte> sql = reader.ReadCString();
        reader.End();
        return sql;
    }
}

/// <summary>Sync ('S'), Flush ('H'), Terminate ('X') and CopyDone ('c') carry no body.</summary>
public static class EmptyMessage
{
    /// <summary>Throws unless <paramref name="body"/> is empty.</summary>
    public static void Parse(byte messageType, ReadOnlySpan<byte> body)
    {
        if (!body.IsEmpty)
        {
            PgThrow.Malformed(PgMessageTypes.Describe(messageType), "expected an empty body");
        }
    }
}
