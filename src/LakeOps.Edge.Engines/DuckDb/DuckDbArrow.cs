using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.C;
using Apache.Arrow.Types;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// DuckDB logical types to Arrow: DuckDB's own exporter (duckdb_to_arrow_schema) decides the Arrow
/// types, so schemas always match the arrays duckdb_data_chunk_to_arrow produces; then the fields get
/// the metadata of <see cref="ArrowConventions"/> (JSON, UUID, the DuckDB type name).
/// </summary>
internal static unsafe class DuckDbArrow
{
    // Import with an empty registry: extension metadata stays plain field metadata, whatever
    // extension types other code registers globally.
    private static readonly ExtensionTypeRegistry NoExtensions = new();

    /// <summary>
    /// Builds the Arrow schema of columns given by DuckDB logical types and names. A column whose type
    /// DuckDB does not know yet (a prepared "select $1") is described as text with engine type
    /// "UNKNOWN"; the result of an execution always carries the real type.
    /// </summary>
    public static Schema BuildSchema(nint options, nint* types, byte** names, int count)
    {
        if (count == 0)
        {
            return EmptySchema;
        }

        nint[] exportTypes = new nint[count];
        bool[] unknown = new bool[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                unknown[i] = IsUnknown(types[i]);
                exportTypes[i] = unknown[i] ? DuckDbNative.duckdb_create_logical_type(DuckDbType.Varchar) : types[i];
            }

            Schema exported;
            fixed (nint* t = exportTypes)
            {
                exported = Export(options, t, names, count);
            }

            var fields = new List<Field>(count);
            for (int i = 0; i < count; i++)
            {
                fields.Add(Annotate(exported.FieldsList[i], types[i], unknown[i]));
            }

            return new Schema(fields, exported.Metadata);
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                if (unknown[i])
                {
                    nint created = exportTypes[i];
                    DuckDbNative.duckdb_destroy_logical_type(&created);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="BuildSchema(nint, nint*, byte**, int)"/> for column types the caller fetched just for
    /// this call: the logical types are destroyed here, whatever happens. The names stay DuckDB's.
    /// </summary>
    public static Schema BuildSchemaAndDestroyTypes(nint options, Span<nint> types, Span<nint> names)
    {
        fixed (nint* t = types)
        fixed (nint* n = names)
        {
            try
            {
                return BuildSchema(options, t, (byte**)n, types.Length);
            }
            finally
            {
                for (int i = 0; i < types.Length; i++)
                {
                    if (t[i] != 0)
                    {
                        DuckDbNative.duckdb_destroy_logical_type(&t[i]);
                    }
                }
            }
        }
    }

    private static bool IsUnknown(nint logicalType) =>
        logicalType == 0 || DuckDbNative.duckdb_get_type_id(logicalType) is DuckDbType.Invalid or DuckDbType.Any;

    /// <summary>The Arrow type DuckDB exports for one logical type, or null when DuckDB does not know it yet.</summary>
    public static IArrowType? ToArrowType(nint options, nint logicalType)
    {
        if (logicalType == 0)
        {
            return null;
        }

        DuckDbType id = DuckDbNative.duckdb_get_type_id(logicalType);
        if (id is DuckDbType.Invalid or DuckDbType.Any or DuckDbType.SqlNull or DuckDbType.StringLiteral or DuckDbType.IntegerLiteral)
        {
            return null;
        }

        try
        {
            fixed (byte* name = "p\0"u8)
            {
                byte* names = name;
                return Export(options, &logicalType, &names, 1).FieldsList[0].DataType;
            }
        }
        catch (EngineException)
        {
            return null;
        }
    }

    public static Schema EmptySchema { get; } = new([], null);

    private static Schema Export(nint options, nint* types, byte** names, int count)
    {
        CArrowSchema* cSchema = CArrowSchema.Create();
        try
        {
            nint error = DuckDbNative.duckdb_to_arrow_schema(options, types, names, (ulong)count, cSchema);
            if (error != 0)
            {
                throw TakeError(error);
            }

            return CArrowSchemaImporter.ImportSchema(cSchema, NoExtensions);
        }
        finally
        {
            CArrowSchema.Free(cSchema);
        }
    }

    /// <summary>Converts a duckdb_error_data into an exception and destroys it.</summary>
    public static EngineException TakeError(nint error)
    {
        try
        {
            string? message = Utf8.Read(DuckDbNative.duckdb_error_data_message(error));
            return DuckDbErrors.Create(message, DuckDbNative.duckdb_error_data_error_type(error));
        }
        finally
        {
            DuckDbNative.duckdb_destroy_error_data(&error);
        }
    }

    private static Field Annotate(Field field, nint logicalType, bool unknown)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (field.Metadata is not null)
        {
            foreach (KeyValuePair<string, string> pair in field.Metadata)
            {
                metadata[pair.Key] = pair.Value;
            }
        }

        if (unknown)
        {
            metadata[ArrowConventions.EngineTypeKey] = "UNKNOWN";
            return new Field(field.Name, field.DataType, field.IsNullable, metadata);
        }

        DuckDbType id = DuckDbNative.duckdb_get_type_id(logicalType);
        string? alias = Utf8.ReadAndFree(DuckDbNative.duckdb_logical_type_get_alias(logicalType));
        if (string.Equals(alias, "JSON", StringComparison.OrdinalIgnoreCase))
        {
            metadata[ArrowConventions.ExtensionNameKey] = ArrowConventions.JsonExtension;
        }
        else if (id == DuckDbType.Uuid)
        {
            metadata[ArrowConventions.ExtensionNameKey] = ArrowConventions.UuidExtension;
        }

        metadata[ArrowConventions.EngineTypeKey] = TypeName(logicalType);
        return new Field(field.Name, field.DataType, field.IsNullable, metadata);
    }

    /// <summary>DuckDB's SQL spelling of a logical type, e.g. "DECIMAL(10,2)", "INTEGER[]", "JSON".</summary>
    public static string TypeName(nint logicalType)
    {
        var text = new StringBuilder();
        AppendTypeName(text, logicalType);
        return text.ToString();
    }

    private static void AppendTypeName(StringBuilder text, nint type)
    {
        string? alias = Utf8.ReadAndFree(DuckDbNative.duckdb_logical_type_get_alias(type));
        if (!string.IsNullOrEmpty(alias))
        {
            text.Append(alias);
            return;
        }

        DuckDbType id = DuckDbNative.duckdb_get_type_id(type);
        switch (id)
        {
            case DuckDbType.Decimal:
                text.Append(CultureInfo.InvariantCulture, $"DECIMAL({DuckDbNative.duckdb_decimal_width(type)},{DuckDbNative.duckdb_decimal_scale(type)})");
                return;
            case DuckDbType.List:
                AppendChild(text, DuckDbNative.duckdb_list_type_child_type(type));
                text.Append("[]");
                return;
            case DuckDbType.Array:
                AppendChild(text, DuckDbNative.duckdb_array_type_child_type(type));
                text.Append(CultureInfo.InvariantCulture, $"[{DuckDbNative.duckdb_array_type_array_size(type)}]");
                return;
            case DuckDbType.Map:
                text.Append("MAP(");
                AppendChild(text, DuckDbNative.duckdb_map_type_key_type(type));
                text.Append(", ");
                AppendChild(text, DuckDbNative.duckdb_map_type_value_type(type));
                text.Append(')');
                return;
            case DuckDbType.Struct:
                text.Append("STRUCT(");
                ulong children = DuckDbNative.duckdb_struct_type_child_count(type);
                for (ulong i = 0; i < children; i++)
                {
                    if (i > 0)
                    {
                        text.Append(", ");
                    }

                    text.Append('"').Append(Utf8.ReadAndFree(DuckDbNative.duckdb_struct_type_child_name(type, i))).Append("\" ");
                    AppendChild(text, DuckDbNative.duckdb_struct_type_child_type(type, i));
                }

                text.Append(')');
                return;
            default:
                text.Append(SimpleTypeName(id));
                return;
        }
    }

    private static void AppendChild(StringBuilder text, nint child)
    {
        try
        {
            AppendTypeName(text, child);
        }
        finally
        {
            DuckDbNative.duckdb_destroy_logical_type(&child);
        }
    }

    private static string SimpleTypeName(DuckDbType id) => id switch
    {
        DuckDbType.Boolean => "BOOLEAN",
        DuckDbType.TinyInt => "TINYINT",
        DuckDbType.SmallInt => "SMALLINT",
        DuckDbType.Integer => "INTEGER",
        DuckDbType.BigInt => "BIGINT",
        DuckDbType.UTinyInt => "UTINYINT",
        DuckDbType.USmallInt => "USMALLINT",
        DuckDbType.UInteger => "UINTEGER",
        DuckDbType.UBigInt => "UBIGINT",
        DuckDbType.Float => "FLOAT",
        DuckDbType.Double => "DOUBLE",
        DuckDbType.Timestamp => "TIMESTAMP",
        DuckDbType.Date => "DATE",
        DuckDbType.Time => "TIME",
        DuckDbType.Interval => "INTERVAL",
        DuckDbType.HugeInt => "HUGEINT",
        DuckDbType.Varchar => "VARCHAR",
        DuckDbType.Blob => "BLOB",
        DuckDbType.TimestampS => "TIMESTAMP_S",
        DuckDbType.TimestampMs => "TIMESTAMP_MS",
        DuckDbType.TimestampNs => "TIMESTAMP_NS",
        DuckDbType.Enum => "ENUM",
        DuckDbType.Uuid => "UUID",
        DuckDbType.Union => "UNION",
        DuckDbType.Bit => "BIT",
        DuckDbType.TimeTz => "TIME WITH TIME ZONE",
        DuckDbType.TimestampTz => "TIMESTAMP WITH TIME ZONE",
        DuckDbType.UHugeInt => "UHUGEINT",
        DuckDbType.BigNum => "BIGNUM",
        DuckDbType.SqlNull => "NULL",
        DuckDbType.TimeNs => "TIME_NS",
        _ => "UNKNOWN",
    };
}
