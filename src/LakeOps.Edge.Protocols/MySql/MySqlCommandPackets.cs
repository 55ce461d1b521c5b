namespace LakeOps.Edge.Protocols.MySql;

/// <summary>COM_STMT_SEND_LONG_DATA: a chunk of one parameter's value, sent before COM_STMT_EXECUTE.</summary>
public readonly ref struct MySqlLongData
{
    public MySqlLongData(uint statementId, ushort parameterId, ReadOnlySpan<byte> data)
    {
        StatementId = statementId;
        ParameterId = parameterId;
        Data = data;
    }

    public uint StatementId { get; }

    public ushort ParameterId { get; }

    public ReadOnlySpan<byte> Data { get; }
}

/// <summary>The fixed part of COM_STMT_EXECUTE; parameters are decoded by <see cref="MySqlBinaryParameters"/> once the statement is known.</summary>
/// <param name="StatementId">The prepared statement.</param>
/// <param name="Flags">Cursor flags (enum_cursor_type) plus PARAMETER_COUNT_AVAILABLE (0x08).</param>
/// <param name="IterationCount">Always 1 from current clients.</param>
public readonly record struct MySqlExecuteHeader(uint StatementId, byte Flags, uint IterationCount)
{
    /// <summary>Bytes before the parameter block: command, statement id, flags, iteration count.</summary>
    public const int Length = 10;

    /// <summary>Cursor requested (CURSOR_TYPE_READ_ONLY and friends).</summary>
    public bool OpensCursor => (Flags & 0x07) != 0;

    /// <summary>PARAMETER_COUNT_AVAILABLE: the parameter count is sent (query attributes).</summary>
    public bool ParameterCountAvailable => (Flags & 0x08) != 0;
}

/// <summary>
/// Parsers for command-phase packets a client sends (the server side of COM_*). Each takes the whole payload,
/// command byte included, and checks it; none allocates except where noted.
/// </summary>
public static class MySqlCommandPackets
{
    /// <summary>The command byte; an empty payload is malformed.</summary>
    public static MySqlCommand ReadCommand(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            MySqlThrow.Malformed("command", "empty packet");
        }

        return (MySqlCommand)payload[0];
    }

    /// <summary>
    /// COM_QUERY: the statement text (UTF-8). With CLIENT_QUERY_ATTRIBUTES the attribute block before it is
    /// decoded and its values added to <paramref name="attributes"/> (when given) or skipped.
    /// </summary>
    public static ReadOnlySpan<byte> ParseQuery(ReadOnlySpan<byte> payload, MySqlCapabilities capabilities, List<MySqlQueryAttribute>? attributes = null)
    {
        var reader = new MySqlPayloadReader(payload, "COM_QUERY");
        Expect(ref reader, MySqlCommand.Query);
        if ((capabilities & MySqlCapabilities.QueryAttributes) != 0)
        {
            ulong count = reader.ReadLengthEncodedInteger("parameter_count");
            ulong sets = reader.ReadLengthEncodedInteger("parameter_set_count");
            if (count > 0)
            {
                if (sets != 1)
                {
                    MySqlThrow.Malformed("COM_QUERY", "parameter_set_count must be 1");
                }

                if (count > (ulong)reader.Remaining)
                {
                    MySqlThrow.Truncated("COM_QUERY", "query attributes");
                }

                MySqlBinaryParameters.ReadAttributes(ref reader, (int)count, attributes);
            }
        }

        return reader.ReadRest();
    }

    /// <summary>COM_STMT_PREPARE: the statement text.</summary>
    public static ReadOnlySpan<byte> ParsePrepare(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_STMT_PREPARE");
        Expect(ref reader, MySqlCommand.StmtPrepare);
        return reader.ReadRest();
    }

    /// <summary>COM_STMT_EXECUTE's fixed part.</summary>
    public static MySqlExecuteHeader ParseExecuteHeader(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_STMT_EXECUTE");
        Expect(ref reader, MySqlCommand.StmtExecute);
        uint id = reader.ReadUInt32("statement_id");
        byte flags = reader.ReadByte("flags");
        uint iterations = reader.ReadUInt32("iteration_count");
        return new MySqlExecuteHeader(id, flags, iterations);
    }

    /// <summary>COM_STMT_CLOSE / COM_STMT_RESET / COM_STMT_FETCH: the statement id.</summary>
    public static uint ParseStatementId(ReadOnlySpan<byte> payload, MySqlCommand command)
    {
        var reader = new MySqlPayloadReader(payload, CommandName(command));
        Expect(ref reader, command);
        return reader.ReadUInt32("statement_id");
    }

    public static MySqlLongData ParseSendLongData(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_STMT_SEND_LONG_DATA");
        Expect(ref reader, MySqlCommand.StmtSendLongData);
        uint id = reader.ReadUInt32("statement_id");
        ushort parameter = reader.ReadUInt16("param_id");
        return new MySqlLongData(id, parameter, reader.ReadRest());
    }

    /// <summary>COM_INIT_DB: the schema name.</summary>
    public static ReadOnlySpan<byte> ParseInitDb(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_INIT_DB");
        Expect(ref reader, MySqlCommand.InitDb);
        return reader.ReadRest();
    }

    /// <summary>COM_FIELD_LIST: table name (NUL-terminated) and a LIKE wildcard (rest, often empty).</summary>
    public static ReadOnlySpan<byte> ParseFieldList(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> wildcard)
    {
        var reader = new MySqlPayloadReader(payload, "COM_FIELD_LIST");
        Expect(ref reader, MySqlCommand.FieldList);

        // Some clients omit the terminator when there is no wildcard.
        ReadOnlySpan<byte> rest = reader.ReadRest();
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            wildcard = default;
            return rest;
        }

        wildcard = rest[(nul + 1)..];
        return rest[..nul];
    }

    /// <summary>COM_SET_OPTION: 0 enables multi-statements, 1 disables them.</summary>
    public static ushort ParseSetOption(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_SET_OPTION");
        Expect(ref reader, MySqlCommand.SetOption);
        return reader.ReadUInt16("option_operation");
    }

    /// <summary>COM_PROCESS_KILL: the connection id.</summary>
    public static uint ParseProcessKill(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_PROCESS_KILL");
        Expect(ref reader, MySqlCommand.ProcessKill);
        return reader.ReadUInt32("connection_id");
    }

    /// <summary>The protocol's name for a command, for messages.</summary>
    public static string CommandName(MySqlCommand command) => command switch
    {
        MySqlCommand.Query => "COM_QUERY",
        MySqlCommand.StmtPrepare => "COM_STMT_PREPARE",
        MySqlCommand.StmtExecute => "COM_STMT_EXECUTE",
        MySqlCommand.StmtClose => "COM_STMT_CLOSE",
        MySqlCommand.StmtReset => "COM_STMT_RESET",
        MySqlCommand.StmtFetch => "COM_STMT_FETCH",
        MySqlCommand.StmtSendLongData => "COM_STMT_SEND_LONG_DATA",
        MySqlCommand.InitDb => "COM_INIT_DB",
        MySqlCommand.FieldList => "COM_FIELD_LIST",
        MySqlCommand.Ping => "COM_PING",
        MySqlCommand.Quit => "COM_QUIT",
        MySqlCommand.Statistics => "COM_STATISTICS",
        MySqlCommand.ResetConnection => "COM_RESET_CONNECTION",
        MySqlCommand.SetOption => "COM_SET_OPTION",
        MySqlCommand.ProcessKill => "COM_PROCESS_KILL",
        MySqlCommand.ChangeUser => "COM_CHANGE_USER",
        _ => "COM_0x" + ((byte)command).ToString("X2", System.Globalization.CultureInfo.InvariantCulture),
    };

    private static void Expect(ref MySqlPayloadReader reader, MySqlCommand command)
    {
        if (reader.ReadByte("command") != (byte)command)
        {
            MySqlThrow.Malformed(CommandName(command), "wrong command byte");
        }
    }
}

/// <summary>COM_STMT_PREPARE_OK, the first packet of a successful prepare.</summary>
public readonly record struct MySqlPrepareOk(uint StatementId, ushort ColumnCount, ushort ParameterCount, ushort Warnings)
{
    public void Write(MySqlPacketWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        MySqlPayloadWriter payload = writer.BeginPacket(12);
        payload.WriteByte(MySqlPacketHeader.Ok);
        payload.WriteUInt32(StatementId);
        payload.WriteUInt16(ColumnCount);
        payload.WriteUInt16(ParameterCount);
        payload.WriteByte(0);
        payload.WriteUInt16(Warnings);
        writer.EndPacket(payload);
    }

    public static MySqlPrepareOk Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload, "COM_STMT_PREPARE_OK");
        if (reader.ReadByte("status") != MySqlPacketHeader.Ok)
        {
            MySqlThrow.Malformed("COM_STMT_PREPARE_OK", "status is not 0x00");
        }

        uint id = reader.ReadUInt32("statement_id");
        ushort columns = reader.ReadUInt16("num_columns");
        ushort parameters = reader.ReadUInt16("num_params");
        reader.Skip(1, "reserved_1");
        ushort warnings = reader.IsAtEnd ? (ushort)0 : reader.ReadUInt16("warning_count");
        return new MySqlPrepareOk(id, columns, parameters, warnings);
    }
}
