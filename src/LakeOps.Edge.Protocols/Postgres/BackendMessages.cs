namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>One column of a RowDescription.</summary>
/// <param name="Name">Column name.</param>
/// <param name="TableOid">Source table OID, or 0.</param>
/// <param name="ColumnNumber">Source column attribute number, or 0.</param>
/// <param name="TypeOid">Data type OID.</param>
/// <param name="TypeSize">pg_type.typlen (-1 varlena, -2 C string).</param>
/// <param name="TypeModifier">pg_attribute.atttypmod (-1 when none).</param>
/// <param name="FormatCode">0 text, 1 binary (0 in a Describe of a statement: formats are not known yet).</param>
public readonly record struct PgFieldDescription(string Name, int TableOid, short ColumnNumber, int TypeOid, short TypeSize, int TypeModifier, short FormatCode);

/// <summary>RowDescription ('T').</summary>
public static class RowDescriptionMessage
{
    /// <summary>Fixed bytes per field after its name: table OID, column, type OID, size, modifier, format.</summary>
    internal const int FixedFieldSize = 4 + 2 + 4 + 2 + 4 + 2;

    public static PgFieldDescription[] Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "RowDescription");
        int count = reader.ReadUInt16();
        reader.Ensure(count * (FixedFieldSize + 1)); // before allocating for a hostile count
        PgFieldDescription[] fields = count == 0 ? [] : new PgFieldDescription[count];
        for (int i = 0; i < fields.Length; i++)
        {
            string name = reader.ReadCStringAsString();
            int tableOid = reader.ReadInt32();
            short column = reader.ReadInt16();
            int typeOid = reader.ReadInt32();
            short typeSize = reader.ReadInt16();
            int typeModifier = reader.ReadInt32();
            short format = reader.ReadInt16();
            fields[i] = new PgFieldDescription(name, tableOid, column, typeOid, typeSize, typeModifier, format);
        }

        reader.End();
        return fields;
    }
}

/// <summary>DataRow ('D').</summary>
public static class DataRowMessage
{
    /// <summary>Copies every value out; null entries are SQL NULL.</summary>
    public static byte[]?[] Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "DataRow");
        int count = reader.ReadUInt16();
        reader.Ensure(count * 4);
        byte[]?[] values = count == 0 ? [] : new byte[]?[count];
        for (int i = 0; i < values.Length; i++)
        {
            int length = reader.ReadInt32();
            if (length == -1)
            {
                continue;
            }

            if (length < 0)
            {
                PgThrow.Malformed("DataRow", "negative value length");
            }

            values[i] = reader.ReadBytes(length).ToArray();
        }

        reader.End();
        return values;
    }
}

/// <summary>CommandComplete ('C'): the command tag, e.g. "SELECT 5" or "INSERT 0 1".</summary>
public static class CommandCompleteMessage
{
    public static string Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "CommandComplete");
        string tag = reader.ReadCStringAsString();
        reader.End();
        return tag;
    }
}

/// <summary>ParameterStatus ('S'): a run-time setting the server reports (server_version, TimeZone, ...).</summary>
public readonly record struct ParameterStatusMessage(string Name, string Value)
{
    public static ParameterStatusMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "ParameterStatus");
        string name = reader.ReadCStringAsString();
        string value = reader.ReadCStringAsString();
        reader.End();
        return new ParameterStatusMessage(name, value);
    }
}

/// <summary>BackendKeyData ('K'): what a client needs to send a CancelRequest (protocol 3.0: 4-byte key).</summary>
public readonly record struct BackendKeyDataMessage(int ProcessId, int SecretKey)
{
    public static BackendKeyDataMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "BackendKeyData");
        int processId = reader.ReadInt32();
        int secretKey = reader.ReadInt32();
        reader.End();
        return new BackendKeyDataMessage(processId, secretKey);
    }
}

/// <summary>ReadyForQuery ('Z'): returns the <see cref="PgTransactionStatus"/> byte.</summary>
public static class ReadyForQueryMessage
{
    public static byte Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "ReadyForQuery");
        byte status = reader.ReadByte();
        if (status is not (PgTransactionStatus.Idle or PgTransactionStatus.InTransaction or PgTransactionStatus.Failed))
        {
            PgThrow.Malformed("ReadyForQuery", "transaction status must be 'I', 'T' or 'E'");
        }

        reader.End();
        return status;
    }
}

/// <summary>ParameterDescription ('t'): the parameter type OIDs of a statement.</summary>
public static class ParameterDescriptionMessage
{
    public static int[] Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "ParameterDescription");
        int count = reader.ReadUInt16();
        reader.Ensure(count * 4);
        int[] oids = count == 0 ? [] : new int[count];
        for (int i = 0; i < oids.Length; i++)
        {
            oids[i] = reader.ReadInt32();
        }

        reader.End();
        return oids;
    }
}

/// <summary>NegotiateProtocolVersion ('v'): the newest minor version the server speaks and the "_pq_." options it ignored.</summary>
public readonly record struct NegotiateProtocolVersionMessage(int NewestMinor, string[] UnsupportedOptions)
{
    public static NegotiateProtocolVersionMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "NegotiateProtocolVersion");
        int newestMinor = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (count < 0)
        {
            PgThrow.Malformed("NegotiateProtocolVersion", "negative option count");
        }

        reader.Ensure(count); // each option takes at least its NUL
        string[] options = count == 0 ? [] : new string[count];
        for (int i = 0; i < options.Length; i++)
        {
            options[i] = reader.ReadCStringAsString();
        }

        reader.End();
        return new NegotiateProtocolVersionMessage(newestMinor, options);
    }
}
