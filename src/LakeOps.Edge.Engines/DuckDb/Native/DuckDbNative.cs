using System.Runtime.InteropServices;

namespace LakeOps.Edge.Engines.DuckDb.Native;

/// <summary>
/// The part of the DuckDB C API (duckdb.h, v1.5) this adapter uses. Source-generated P/Invoke, so it
/// is AOT-safe. "duckdb" resolves to libduckdb.so shipped by the DuckDB.NET.Bindings.Full package.
/// Handles are plain pointers here; <see cref="DuckDbHandle"/> subclasses wrap the long-lived ones in SafeHandles.
/// </summary>
internal static unsafe partial class DuckDbNative
{
    private const string Lib = "duckdb";

    // ---- database, config, connection ----

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_create_config(nint* outConfig);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_set_config(nint config, byte* name, byte* option);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_config(nint* config);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_open_ext(byte* path, nint* outDatabase, nint config, byte** outError);

    [LibraryImport(Lib)]
    public static partial void duckdb_close(nint* database);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_connect(nint database, nint* outConnection);

    [LibraryImport(Lib)]
    public static partial void duckdb_disconnect(nint* connection);

    [LibraryImport(Lib)]
    public static partial void duckdb_interrupt(nint connection);

    [LibraryImport(Lib)]
    public static partial void duckdb_free(void* ptr);

    // ---- prepared statements ----

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_prepare(nint connection, byte* query, nint* outPrepared);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_prepare_error(nint prepared);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_prepare(nint* prepared);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_nparams(nint prepared);

    /// <summary>Parameter index is 1-based; the result must be destroyed.</summary>
    [LibraryImport(Lib)]
    public static partial nint duckdb_param_logical_type(nint prepared, ulong paramIndex);

    [LibraryImport(Lib)]
    public static partial DuckDbStatementType duckdb_prepared_statement_type(nint prepared);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_prepared_statement_column_count(nint prepared);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_prepared_statement_column_name(nint prepared, ulong column);

    [LibraryImport(Lib)]
    public static partial nint duckdb_prepared_statement_column_logical_type(nint prepared, ulong column);

    // ---- binding (parameter index is 1-based) ----

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_clear_bindings(nint prepared);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_boolean(nint prepared, ulong index, byte value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_int16(nint prepared, ulong index, short value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_int32(nint prepared, ulong index, int value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_int64(nint prepared, ulong index, long value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_decimal(nint prepared, ulong index, DuckDbDecimal value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_float(nint prepared, ulong index, float value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_double(nint prepared, ulong index, double value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_varchar_length(nint prepared, ulong index, byte* value, ulong length);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_blob(nint prepared, ulong index, void* data, ulong length);

    /// <summary>duckdb_date: days since 1970-01-01.</summary>
    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_date(nint prepared, ulong index, int days);

    /// <summary>duckdb_time: microseconds since midnight.</summary>
    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_time(nint prepared, ulong index, long micros);

    /// <summary>duckdb_timestamp: microseconds since 1970-01-01.</summary>
    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_timestamp(nint prepared, ulong index, long micros);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_timestamp_tz(nint prepared, ulong index, long micros);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_interval(nint prepared, ulong index, DuckDbInterval value);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_null(nint prepared, ulong index);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_bind_value(nint prepared, ulong index, nint value);

    // ---- values (for list parameters) ----

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_bool(byte value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_int16(short value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_int32(int value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_int64(long value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_float(float value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_double(double value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_varchar_length(byte* text, ulong length);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_blob(byte* data, ulong length);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_date(int days);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_time(long micros);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_timestamp(long micros);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_timestamp_tz(long micros);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_interval(DuckDbInterval value);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_null_value();

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_list_value(nint childType, nint* values, ulong count);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_value(nint* value);

    // ---- execution ----

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_query(nint connection, byte* query, DuckDbResult* outResult);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_pending_prepared_streaming(nint prepared, nint* outPending);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_pending_error(nint pending);

    [LibraryImport(Lib)]
    public static partial DuckDbState duckdb_execute_pending(nint pending, DuckDbResult* outResult);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_pending(nint* pending);

    // ---- results ----

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_result(DuckDbResult* result);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_result_error(DuckDbResult* result);

    [LibraryImport(Lib)]
    public static partial DuckDbErrorType duckdb_result_error_type(DuckDbResult* result);

    [LibraryImport(Lib)]
    public static partial DuckDbResultType duckdb_result_return_type(DuckDbResult result);

    [LibraryImport(Lib)]
    public static partial DuckDbStatementType duckdb_result_statement_type(DuckDbResult result);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_column_count(DuckDbResult* result);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_column_name(DuckDbResult* result, ulong column);

    [LibraryImport(Lib)]
    public static partial nint duckdb_column_logical_type(DuckDbResult* result, ulong column);

    /// <summary>Next chunk of a (streaming) result, or null at the end or on error (see duckdb_result_error).</summary>
    [LibraryImport(Lib)]
    public static partial nint duckdb_fetch_chunk(DuckDbResult result);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_data_chunk_get_size(nint chunk);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_data_chunk(nint* chunk);

    [LibraryImport(Lib)]
    public static partial nint duckdb_data_chunk_get_vector(nint chunk, ulong column);

    [LibraryImport(Lib)]
    public static partial void* duckdb_vector_get_data(nint vector);

    // ---- logical types ----

    [LibraryImport(Lib)]
    public static partial DuckDbType duckdb_get_type_id(nint logicalType);

    /// <summary>The alias (e.g. "JSON") or null; must be freed with duckdb_free.</summary>
    [LibraryImport(Lib)]
    public static partial byte* duckdb_logical_type_get_alias(nint logicalType);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_logical_type(DuckDbType type);

    [LibraryImport(Lib)]
    public static partial nint duckdb_create_list_type(nint childType);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_logical_type(nint* logicalType);

    [LibraryImport(Lib)]
    public static partial byte duckdb_decimal_width(nint logicalType);

    [LibraryImport(Lib)]
    public static partial byte duckdb_decimal_scale(nint logicalType);

    [LibraryImport(Lib)]
    public static partial nint duckdb_list_type_child_type(nint logicalType);

    [LibraryImport(Lib)]
    public static partial nint duckdb_array_type_child_type(nint logicalType);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_array_type_array_size(nint logicalType);

    [LibraryImport(Lib)]
    public static partial nint duckdb_map_type_key_type(nint logicalType);

    [LibraryImport(Lib)]
    public static partial nint duckdb_map_type_value_type(nint logicalType);

    [LibraryImport(Lib)]
    public static partial ulong duckdb_struct_type_child_count(nint logicalType);

    /// <summary>Must be freed with duckdb_free.</summary>
    [LibraryImport(Lib)]
    public static partial byte* duckdb_struct_type_child_name(nint logicalType, ulong index);

    [LibraryImport(Lib)]
    public static partial nint duckdb_struct_type_child_type(nint logicalType, ulong index);

    // ---- arrow ----

    [LibraryImport(Lib)]
    public static partial void duckdb_connection_get_arrow_options(nint connection, nint* outOptions);

    [LibraryImport(Lib)]
    public static partial nint duckdb_result_get_arrow_options(DuckDbResult* result);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_arrow_options(nint* options);

    /// <summary>Returns a duckdb_error_data (null on success); out_schema is a C Data Interface ArrowSchema.</summary>
    [LibraryImport(Lib)]
    public static partial nint duckdb_to_arrow_schema(nint options, nint* types, byte** names, ulong count, void* outSchema);

    /// <summary>Returns a duckdb_error_data (null on success); out_array is a C Data Interface ArrowArray (a struct of the columns).</summary>
    [LibraryImport(Lib)]
    public static partial nint duckdb_data_chunk_to_arrow(nint options, nint chunk, void* outArray);

    [LibraryImport(Lib)]
    public static partial byte* duckdb_error_data_message(nint errorData);

    [LibraryImport(Lib)]
    public static partial DuckDbErrorType duckdb_error_data_error_type(nint errorData);

    [LibraryImport(Lib)]
    public static partial void duckdb_destroy_error_data(nint* errorData);
}

internal enum DuckDbState
{
    Success = 0,
    Error = 1,
}

/// <summary>duckdb_result: a 48-byte struct the caller owns; only internal_data matters to us.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResult
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public nint DeprecatedColumns;
    public nint DeprecatedErrorMessage;
    public nint InternalData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbInterval
{
    public int Months;
    public int Days;
    public long Micros;
}

/// <summary>duckdb_decimal: width, scale and the unscaled value as a 128-bit integer (lower, upper).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbDecimal
{
    public byte Width;
    public byte Scale;
    public ulong Lower;
    public long Upper;
}

internal enum DuckDbResultType
{
    Invalid = 0,
    ChangedRows = 1,
    Nothing = 2,
    QueryResult = 3,
}

internal enum DuckDbType
{
    Invalid = 0,
    Boolean = 1,
    TinyInt = 2,
    SmallInt = 3,
    Integer = 4,
    BigInt = 5,
    UTinyInt = 6,
    USmallInt = 7,
    UInteger = 8,
    UBigInt = 9,
    Float = 10,
    Double = 11,
    Timestamp = 12,
    Date = 13,
    Time = 14,
    Interval = 15,
    HugeInt = 16,
    Varchar = 17,
    Blob = 18,
    Decimal = 19,
    TimestampS = 20,
    TimestampMs = 21,
    TimestampNs = 22,
    Enum = 23,
    List = 24,
    Struct = 25,
    Map = 26,
    Uuid = 27,
    Union = 28,
    Bit = 29,
    TimeTz = 30,
    TimestampTz = 31,
    UHugeInt = 32,
    Array = 33,
    Any = 34,
    BigNum = 35,
    SqlNull = 36,
    StringLiteral = 37,
    IntegerLiteral = 38,
    TimeNs = 39,
}

internal enum DuckDbStatementType
{
    Invalid = 0,
    Select = 1,
    Insert = 2,
    Update = 3,
    Explain = 4,
    Delete = 5,
    Prepare = 6,
    Create = 7,
    Execute = 8,
    Alter = 9,
    Transaction = 10,
    Copy = 11,
    Analyze = 12,
    VariableSet = 13,
    CreateFunc = 14,
    Drop = 15,
    Export = 16,
    Pragma = 17,
    Vacuum = 18,
    Call = 19,
    Set = 20,
    Load = 21,
    Relation = 22,
    Extension = 23,
    LogicalPlan = 24,
    Attach = 25,
    Detach = 26,
    Multi = 27,
}

internal enum DuckDbErrorType
{
    Invalid = 0,
    OutOfRange = 1,
    Conversion = 2,
    UnknownType = 3,
    Decimal = 4,
    MismatchType = 5,
    DivideByZero = 6,
    ObjectSize = 7,
    InvalidType = 8,
    Serialization = 9,
    Transaction = 10,
    NotImplemented = 11,
    Expression = 12,
    Catalog = 13,
    Parser = 14,
    Planner = 15,
    Scheduler = 16,
    Executor = 17,
    Constraint = 18,
    Index = 19,
    Stat = 20,
    Connection = 21,
    Syntax = 22,
    Settings = 23,
    Binder = 24,
    Network = 25,
    Optimizer = 26,
    NullPointer = 27,
    IO = 28,
    Interrupt = 29,
    Fatal = 30,
    Internal = 31,
    InvalidInput = 32,
    OutOfMemory = 33,
    Permission = 34,
    ParameterNotResolved = 35,
    ParameterNotAllowed = 36,
    Dependency = 37,
    Http = 38,
    MissingExtension = 39,
    Autoload = 40,
    Sequence = 41,
    InvalidConfiguration = 42,
}
