namespace LakeOps.Edge.Protocols.MySql;

/// <summary>
/// Protocol::ColumnDefinition41: one column of a result set or one parameter of a prepared statement.
/// Result encoders pre-encode these once per result shape (<see cref="Encode"/>) and resend the bytes.
/// </summary>
public sealed record MySqlColumnDefinition
{
    public string Catalog { get; init; } = "def";

    public string Schema { get; init; } = "";

    /// <summary>Table alias as in the query.</summary>
    public string Table { get; init; } = "";

    public string OriginalTable { get; init; } = "";

    /// <summary>Column alias (what clients show).</summary>
    public required string Name { get; init; }

    public string OriginalName { get; init; } = "";

    /// <summary>Collation id of the values (63 binary for numbers, dates and bytes).</summary>
    public ushort CharacterSet { get; init; } = MySqlCharacterSet.Binary;

    /// <summary>Maximum display length of the column.</summary>
    public uint ColumnLength { get; init; }

    public required MySqlColumnType Type { get; init; }

    public MySqlColumnFlags Flags { get; init; }

    /// <summary>Digits after the point (decimals, fractional seconds); 0x1F for "not fixed" (floats, text).</summary>
    public byte Decimals { get; init; }

    /// <summary>The payload bytes of this definition (for caching and resending as is).</summary>
    public byte[] Encode(bool withFieldListDefault = false)
    {
        int size = PayloadSize(withFieldListDefault);
        byte[] buffer = new byte[MySqlPacketScanner.HeaderLength + size];
        var payload = new MySqlPayloadWriter(buffer, large: false);
        WriteFields(ref payload, withFieldListDefault);
        return buffer[MySqlPacketScanner.HeaderLength..];
    }

    /// <summary>Writes the definition as one packet; <paramref name="withFieldListDefault"/> appends COM_FIELD_LIST's (NULL) default value.</summary>
    public void Write(MySqlPacketWriter writer, bool withFieldListDefault = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int size = PayloadSize(withFieldListDefault);
        MySqlPayloadWriter payload = writer.BeginPacket(size);
        WriteFields(ref payload, withFieldListDefault);
        writer.EndPacket(payload);
    }

    private void WriteFields(ref MySqlPayloadWriter payload, bool withFieldListDefault)
    {
        payload.WriteLengthEncodedString(Catalog);
        payload.WriteLengthEncodedString(Schema);
        payload.WriteLengthEncodedString(Table);
        payload.WriteLengthEncodedString(OriginalTable);
        payload.WriteLengthEncodedString(Name);
        payload.WriteLengthEncodedString(OriginalName);
        payload.WriteByte(0x0C); // length of the fixed-length fields that follow
        payload.WriteUInt16(CharacterSet);
        payload.WriteUInt32(ColumnLength);
        payload.WriteByte((byte)Type);
        payload.WriteUInt16((ushort)Flags);
        payload.WriteByte(Decimals);
        payload.WriteZeros(2);
        if (withFieldListDefault)
        {
            payload.WriteNull();
        }
    }

    private int PayloadSize(bool withFieldListDefault) =>
        MySqlPayloadWriter.LengthEncodedStringSize(Catalog) + MySqlPayloadWriter.LengthEncodedStringSize(Schema)
        + MySqlPayloadWriter.LengthEncodedStringSize(Table) + MySqlPayloadWriter.LengthEncodedStringSize(OriginalTable)
        + MySqlPayloadWriter.LengthEncodedStringSize(Name) + MySqlPayloadWriter.LengthEncodedStringSize(OriginalName)
        + 13 + (withFieldListDefault ? 1 : 0);

    /// <summary>Parses a ColumnDefinition41 payload (a COM_FIELD_LIST default value after it is ignored).</summary>
    public static MySqlColumnDefinition Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "ColumnDefinition41");
        string catalog = reader.ReadLengthEncodedString("catalog");
        string schema = reader.ReadLengthEncodedString("schema");
        string table = reader.ReadLengthEncodedString("table");
        string originalTable = reader.ReadLengthEncodedString("org_table");
        string name = reader.ReadLengthEncodedString("name");
        string originalName = reader.ReadLengthEncodedString("org_name");
        ulong fixedLength = reader.ReadLengthEncodedInteger("length of fixed fields");
        if (fixedLength < 10)
        {
            MySqlThrow.Malformed("ColumnDefinition41", "fixed-length fields are shorter than 10 bytes");
        }

        ushort charset = reader.ReadUInt16("character_set");
        uint columnLength = reader.ReadUInt32("column_length");
        var type = (MySqlColumnType)reader.ReadByte("type");
        var flags = (MySqlColumnFlags)reader.ReadUInt16("flags");
        byte decimals = reader.ReadByte("decimals");
        return new MySqlColumnDefinition
        {
            Catalog = catalog,
            Schema = schema,
            Table = table,
            OriginalTable = originalTable,
            Name = name,
            OriginalName = originalName,
            CharacterSet = charset,
            ColumnLength = columnLength,
            Type = type,
            Flags = flags,
            Decimals = decimals,
        };
    }
}
