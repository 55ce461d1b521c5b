using System.Buffers.Binary;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>
/// The parts of a client's COM_STMT_EXECUTE that the passthrough may need to rewrite: the statement id (always
/// Edge's own), the parameter types (sent again when the server connection has other types bound, or never
/// saw the statement), and query attributes (CLIENT_QUERY_ATTRIBUTES, which MySQL-wire engines such as
/// MariaDB do not take, are dropped).
/// </summary>
internal readonly ref struct MySqlExecutePacket
{
    private const byte ParameterCountAvailable = 0x08;

    private MySqlExecutePacket(byte flags, uint iterations, ReadOnlySpan<byte> nullBitmap, ReadOnlySpan<byte> types, ReadOnlySpan<byte> values)
    {
        Flags = flags;
        Iterations = iterations;
        NullBitmap = nullBitmap;
        Types = types;
        Values = values;
    }

    public byte Flags { get; }

    public uint Iterations { get; }

    /// <summary>(n + 7) / 8 bytes for the statement's n parameters.</summary>
    public ReadOnlySpan<byte> NullBitmap { get; }

    /// <summary>2 bytes per parameter when the client sent types with this execution, else empty.</summary>
    public ReadOnlySpan<byte> Types { get; }

    /// <summary>The values of the statement's parameters (query attribute values cut off).</summary>
    public ReadOnlySpan<byte> Values { get; }

    public bool OpensCursor => (Flags & 0x07) != 0;

    /// <summary>
    /// Reads a COM_STMT_EXECUTE for a statement with <paramref name="parameterCount"/> placeholders.
    /// <paramref name="knownTypes"/> are the types of an earlier execution, needed to size the values of
    /// attributes to drop when the client did not resend types. Parameters in <paramref name="longDataParameters"/>
    /// (bit i = parameter i) were streamed with COM_STMT_SEND_LONG_DATA and have no value here.
    /// </summary>
    public static MySqlExecutePacket Parse(ReadOnlySpan<byte> payload, bool queryAttributes, int parameterCount, ReadOnlySpan<byte> knownTypes, ulong longDataParameters)
    {
        MySqlExecuteHeader header = MySqlCommandPackets.ParseExecuteHeader(payload);
        var reader = new MySqlPayloadReader(payload, "COM_STMT_EXECUTE");
        reader.Skip(MySqlExecuteHeader.Length);
        int sent = parameterCount;
        if (queryAttributes && (parameterCount > 0 || (header.Flags & ParameterCountAvailable) != 0))
        {
            ulong count = reader.ReadLengthEncodedInteger("parameter_count");
            if (count < (ulong)parameterCount || count > (ulong)payload.Length)
            {
                MySqlThrow.Malformed("COM_STMT_EXECUTE", "parameter_count is below the statement's parameter count");
            }

            sent = (int)count;
        }

        byte flags = (byte)(header.Flags & ~ParameterCountAvailable);
        if (parameterCount == 0)
        {
            return new MySqlExecutePacket(flags, header.IterationCount, default, default, default);
        }

        ReadOnlySpan<byte> bitmap = reader.ReadBytes((sent + 7) / 8, "null_bitmap")[..((parameterCount + 7) / 8)];
        byte bound = reader.ReadByte("new_params_bind_flag");
        ReadOnlySpan<byte> types = default;
        if (bound == 1)
        {
            if (!queryAttributes)
            {
                types = reader.ReadBytes(2 * parameterCount, "parameter_types");
            }
            else
            {
                // Types are followed by (empty) names with query attributes; only the statement's own are kept.
                int start = reader.Position;
                reader.ReadUInt16("parameter_type");
                reader.ReadLengthEncodedBytes("parameter_name");
                int stride = reader.Position - start;
                if (stride == 3)
                {
                    // Every name empty (what connectors send): the types can be gathered without copying.
                    types = CollectTypes(payload, start, parameterCount);
                }
                else
                {
                    MySqlThrow.Malformed("COM_STMT_EXECUTE", "named parameters are not supported");
                }

                for (int i = 1; i < sent; i++)
                {
                    reader.ReadUInt16("parameter_type");
                    if (reader.ReadLengthEncodedBytes("parameter_name").Length != 0 && i < parameterCount)
                    {
                        MySqlThrow.Malformed("COM_STMT_EXECUTE", "named parameters are not supported");
                    }
                }
            }
        }
        else if (bound != 0)
        {
            MySqlThrow.Malformed("COM_STMT_EXECUTE", "new_params_bind_flag is neither 0 nor 1");
        }

        ReadOnlySpan<byte> values = reader.RemainingSpan;
        if (sent > parameterCount)
        {
            ReadOnlySpan<byte> typeSource = types.IsEmpty ? knownTypes : types;
            values = values[..ValuesLength(values, bitmap, typeSource, parameterCount, longDataParameters)];
        }

        return new MySqlExecutePacket(flags, header.IterationCount, bitmap, types, values);
    }

    // With query attributes, type i sits at start + 3 i; the gathered copy is small and rare (one per execution with types).
    private static ReadOnlySpan<byte> CollectTypes(ReadOnlySpan<byte> payload, int start, int count)
    {
        byte[] types = new byte[2 * count];
        for (int i = 0; i < count; i++)
        {
            types[2 * i] = payload[start + (3 * i)];
            types[(2 * i) + 1] = payload[start + (3 * i) + 1];
        }

        return types;
    }

    /// <summary>Bytes the first <paramref name="count"/> parameters' values take.</summary>
    private static int ValuesLength(ReadOnlySpan<byte> values, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> types, int count, ulong longData)
    {
        if (types.Length < 2 * count)
        {
            MySqlThrow.Malformed("COM_STMT_EXECUTE", "parameter types were never sent");
        }

        int position = 0;
        for (int i = 0; i < count; i++)
        {
            bool isNull = (bitmap[i >> 3] & (1 << (i & 7))) != 0;
            bool streamed = i < 64 && (longData & (1UL << i)) != 0;
            if (!isNull && !streamed)
            {
                position += ValueLength(values[position..], (MySqlColumnType)types[2 * i]);
            }
        }

        return position;
    }

    /// <summary>Length of one binary-protocol value of <paramref name="type"/> at the start of <paramref name="data"/>.</summary>
    public static int ValueLength(ReadOnlySpan<byte> data, MySqlColumnType type)
    {
        switch (type)
        {
            case MySqlColumnType.Null:
                return 0;
            case MySqlColumnType.Tiny:
            case MySqlColumnType.Bool:
                return 1;
            case MySqlColumnType.Short:
            case MySqlColumnType.Year:
                return 2;
            case MySqlColumnType.Long:
            case MySqlColumnType.Int24:
            case MySqlColumnType.Float:
                return 4;
            case MySqlColumnType.LongLong:
            case MySqlColumnType.Double:
                return 8;
            case MySqlColumnType.Date:
            case MySqlColumnType.NewDate:
            case MySqlColumnType.DateTime:
            case MySqlColumnType.DateTime2:
            case MySqlColumnType.Timestamp:
            case MySqlColumnType.Timestamp2:
            case MySqlColumnType.Time:
            case MySqlColumnType.Time2:
                if (data.IsEmpty)
                {
                    MySqlThrow.Truncated("COM_STMT_EXECUTE", "temporal value");
                }

                return 1 + data[0];
            default:
                var reader = new MySqlPayloadReader(data, "COM_STMT_EXECUTE");
                reader.ReadLengthEncodedBytes("value");
                return reader.Position;
        }
    }

    /// <summary>Payload size of <see cref="Write"/>'s packet.</summary>
    public int RewrittenLength(int typesLength) =>
        MySqlExecuteHeader.Length + (NullBitmap.IsEmpty && typesLength == 0 ? 0 : NullBitmap.Length + 1 + typesLength) + Values.Length;

    /// <summary>Writes the execution for the server: its statement id, without query attributes, with <paramref name="types"/> bound.</summary>
    public void Write(MySqlPacketWriter writer, uint serverStatementId, ReadOnlySpan<byte> types)
    {
        writer.ResetSequence();
        MySqlPayloadWriter payload = writer.BeginPacket(RewrittenLength(types.Length));
        payload.WriteByte((byte)MySqlCommand.StmtExecute);
        payload.WriteUInt32(serverStatementId);
        payload.WriteByte(Flags);
        payload.WriteUInt32(Iterations);
        if (!NullBitmap.IsEmpty || !types.IsEmpty)
        {
            payload.WriteBytes(NullBitmap);
            payload.WriteByte(types.IsEmpty ? (byte)0 : (byte)1);
            payload.WriteBytes(types);
        }

        payload.WriteBytes(Values);
        writer.EndPacket(payload);
    }

    /// <summary>Rewrites the statement id (bytes 1..4) of a COM_STMT_* payload copied into <paramref name="destination"/>.</summary>
    public static void PatchStatementId(Span<byte> destination, uint statementId) =>
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], statementId);
}
