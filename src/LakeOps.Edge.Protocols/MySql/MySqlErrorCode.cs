namespace LakeOps.Edge.Protocols.MySql;

/// <summary>MySQL error numbers (ER_* server errors, CR_* client-style ones) Edge reports, with their SQLSTATEs.</summary>
public static class MySqlErrorCode
{
    /// <summary>ER_CON_COUNT_ERROR: Too many connections.</summary>
    public const ushort TooManyConnections = 1040;

    /// <summary>ER_HANDSHAKE_ERROR: Bad handshake.</summary>
    public const ushort HandshakeError = 1043;

    /// <summary>ER_DBACCESS_DENIED_ERROR: Access denied for user to database.</summary>
    public const ushort DbAccessDenied = 1044;

    /// <summary>ER_ACCESS_DENIED_ERROR: Access denied for user (using password: YES/NO).</summary>
    public const ushort AccessDenied = 1045;

    /// <summary>ER_NO_DB_ERROR: No database selected.</summary>
    public const ushort NoDatabaseSelected = 1046;

    /// <summary>ER_UNKNOWN_COM_ERROR: Unknown command.</summary>
    public const ushort UnknownCommand = 1047;

    /// <summary>ER_BAD_NULL_ERROR: Column cannot be null.</summary>
    public const ushort BadNull = 1048;

    /// <summary>ER_BAD_DB_ERROR: Unknown database.</summary>
    public const ushort UnknownDatabase = 1049;

    /// <summary>ER_TABLE_EXISTS_ERROR.</summary>
    public const ushort TableExists = 1050;

    /// <summary>ER_BAD_FIELD_ERROR: Unknown column.</summary>
    public const ushort UnknownColumn = 1054;

    /// <summary>ER_DUP_ENTRY: Duplicate entry for key.</summary>
    public const ushort DuplicateEntry = 1062;

    /// <summary>ER_PARSE_ERROR: You have an error in your SQL syntax.</summary>
    public const ushort ParseError = 1064;

    /// <summary>ER_EMPTY_QUERY: Query was empty.</summary>
    public const ushort EmptyQuery = 1065;

    /// <summary>ER_NO_SUCH_THREAD: Unknown thread id.</summary>
    public const ushort NoSuchThread = 1094;

    /// <summary>ER_KILL_DENIED_ERROR: You are not owner of thread.</summary>
    public const ushort KillDenied = 1095;

    /// <summary>ER_UNKNOWN_ERROR.</summary>
    public const ushort UnknownError = 1105;

    /// <summary>ER_NO_SUCH_TABLE: Table doesn't exist.</summary>
    public const ushort NoSuchTable = 1146;

    /// <summary>ER_NET_PACKET_TOO_LARGE: Got a packet bigger than 'max_allowed_packet' bytes.</summary>
    public const ushort NetPacketTooLarge = 1153;

    /// <summary>ER_NET_PACKETS_OUT_OF_ORDER: Got packets out of order (used for any malformed input).</summary>
    public const ushort NetPacketsOutOfOrder = 1156;

    /// <summary>ER_UNKNOWN_SYSTEM_VARIABLE.</summary>
    public const ushort UnknownSystemVariable = 1193;

    /// <summary>ER_WRONG_ARGUMENTS: Incorrect arguments to ...</summary>
    public const ushort WrongArguments = 1210;

    /// <summary>ER_NOT_SUPPORTED_YET: This version doesn't yet support ...</summary>
    public const ushort NotSupportedYet = 1235;

    /// <summary>ER_UNKNOWN_STMT_HANDLER: Unknown prepared statement handler.</summary>
    public const ushort UnknownStatementHandler = 1243;

    /// <summary>ER_NOT_SUPPORTED_AUTH_MODE: Client does not support authentication protocol requested by server.</summary>
    public const ushort NotSupportedAuthMode = 1251;

    /// <summary>ER_WARN_DATA_OUT_OF_RANGE: Out of range value.</summary>
    public const ushort DataOutOfRange = 1264;

    /// <summary>ER_QUERY_INTERRUPTED: Query execution was interrupted.</summary>
    public const ushort QueryInterrupted = 1317;

    /// <summary>ER_DIVISION_BY_ZERO.</summary>
    public const ushort DivisionByZero = 1365;

    /// <summary>ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: Incorrect value.</summary>
    public const ushort TruncatedWrongValue = 1366;

    /// <summary>ER_MAX_PREPARED_STMT_COUNT_REACHED.</summary>
    public const ushort MaxPreparedStatementCountReached = 1461;

    /// <summary>ER_CONNECTION_KILLED (MariaDB): Connection was killed.</summary>
    public const ushort ConnectionKilled = 1927;

    /// <summary>ER_SECURE_TRANSPORT_REQUIRED: Connections using insecure transport are prohibited.</summary>
    public const ushort SecureTransportRequired = 3159;

    /// <summary>ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.</summary>
    public const ushort ReadOnlyTransaction = 1792;

    /// <summary>ER_QUERY_TIMEOUT: Query execution was interrupted, maximum statement execution time exceeded.</summary>
    public const ushort QueryTimeout = 3024;

    /// <summary>CR_CONN_HOST_ERROR: Can't connect to MySQL server (reported for an unreachable engine).</summary>
    public const ushort ConnectionHostError = 2003;

    /// <summary>CR_SERVER_LOST: Lost connection to MySQL server during query (engine connection died).</summary>
    public const ushort ServerLost = 2013;

    /// <summary>The SQLSTATE MySQL pairs with <paramref name="errorCode"/>; HY000 for codes without one.</summary>
    public static string SqlStateOf(ushort errorCode) => errorCode switch
    {
        TooManyConnections => "08004",
        HandshakeError or UnknownCommand or NetPacketTooLarge or NetPacketsOutOfOrder => "08S01",
        AccessDenied => "28000",
        DbAccessDenied or ParseError or EmptyQuery or UnknownDatabase or NotSupportedYet or MaxPreparedStatementCountReached => "42000",
        NoDatabaseSelected => "3D000",
        BadNull or DuplicateEntry => "23000",
        TableExists => "42S01",
        UnknownColumn => "42S22",
        NoSuchTable => "42S02",
        NotSupportedAuthMode => "08004",
        DataOutOfRange => "22003",
        QueryInterrupted or ConnectionKilled => "70100",
        DivisionByZero => "22012",
        ReadOnlyTransaction => "25006",
        _ => "HY000",
    };
}
