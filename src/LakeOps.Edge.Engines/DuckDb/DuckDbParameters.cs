using System.Globalization;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Engines.DuckDb.Native;

namespace LakeOps.Edge.Engines.DuckDb;

/// <summary>
/// Binds <see cref="ParameterValue"/>s to a DuckDB prepared statement natively. Text-like values
/// (text of unknown type, decimal text, UUID, JSON) are bound as VARCHAR and DuckDB casts them to the
/// parameter's type; arrays become DuckDB LIST values built element by element.
/// </summary>
internal static unsafe class DuckDbParameters
{
    public static void Bind(nint prepared, int expected, ReadOnlySpan<ParameterValue> values)
    {
        if (values.Length != expected)
        {
            throw new EngineException(
                string.Create(CultureInfo.InvariantCulture, $"bind message supplies {values.Length} parameters, but prepared statement requires {expected}"),
                SqlStates.ProtocolViolation);
        }

        DuckDbNative.duckdb_clear_bindings(prepared);
        for (int i = 0; i < values.Length; i++)
        {
            ulong index = (ulong)(i + 1);
            if (BindOne(prepared, index, values[i]) != DuckDbState.Success)
            {
                string? detail = Utf8.Read(DuckDbNative.duckdb_prepare_error(prepared));
                throw new EngineException(
                    string.Create(CultureInfo.InvariantCulture, $"could not bind parameter ${index} ({values[i].Kind}): {detail}"),
                    SqlStates.InvalidParameterValue);
            }
        }
    }

    private static DuckDbState BindOne(nint prepared, ulong index, in ParameterValue value)
    {
        switch (value.Kind)
        {
            case ParameterKind.Null:
                return DuckDbNative.duckdb_bind_null(prepared, index);
            case ParameterKind.Boolean:
                return DuckDbNative.duckdb_bind_boolean(prepared, index, value.AsBoolean ? (byte)1 : (byte)0);
            case ParameterKind.Int16:
                return DuckDbNative.duckdb_bind_int16(prepared, index, (short)value.AsInt64);
            case ParameterKind.Int32:
                return DuckDbNative.duckdb_bind_int32(prepared, index, (int)value.AsInt64);
            case ParameterKind.Int64:
                return DuckDbNative.duckdb_bind_int64(prepared, index, value.AsInt64);
            case ParameterKind.Float32:
                return DuckDbNative.duckdb_bind_float(prepared, index, value.AsFloat32);
            case ParameterKind.Float64:
                return DuckDbNative.duckdb_bind_double(prepared, index, value.AsFloat64);
            case ParameterKind.Date:
                return DuckDbNative.duckdb_bind_date(prepared, index, (int)value.AsInt64);
            case ParameterKind.Time:
                return DuckDbNative.duckdb_bind_time(prepared, index, value.AsInt64);
            case ParameterKind.Timestamp:
                return DuckDbNative.duckdb_bind_timestamp(prepared, index, value.AsInt64);
            case ParameterKind.TimestampTz:
                return DuckDbNative.duckdb_bind_timestamp_tz(prepared, index, value.AsInt64);
            case ParameterKind.Interval:
                return DuckDbNative.duckdb_bind_interval(prepared, index, ToInterval(value.AsInterval));
            case ParameterKind.Bytes:
                byte[] bytes = value.AsBytes;
                fixed (byte* data = bytes)
                {
                    return DuckDbNative.duckdb_bind_blob(prepared, index, data, (ulong)bytes.Length);
                }

            case ParameterKind.Decimal:
                return BindDecimal(prepared, index, value.AsString);
            case ParameterKind.Text:
            case ParameterKind.Uuid:
            case ParameterKind.Json:
                return BindText(prepared, index, value.AsString);
            case ParameterKind.Array:
                nint list = CreateValue(value);
                try
                {
                    return DuckDbNative.duckdb_bind_value(prepared, index, list);
                }
                finally
                {
                    DuckDbNative.duckdb_destroy_value(&list);
                }

            default:
                return DuckDbState.Error;
        }
    }

    private static DuckDbState BindText(nint prepared, ulong index, string text)
    {
        byte[]? rented = null;
        try
        {
            Span<byte> utf8 = Utf8.EncodeZ(text, stackalloc byte[256], ref rented);
            fixed (byte* p = utf8)
            {
                return DuckDbNative.duckdb_bind_varchar_length(prepared, index, p, (ulong)(utf8.Length - 1));
            }
        }
        finally
        {
            Utf8.Return(rented);
        }
    }

    /// <summary>
    /// Decimal text binds as a DuckDB DECIMAL of exactly its digits (so "$1 + 1" stays numeric);
    /// NaN/Infinity bind as DOUBLE; more than 38 digits or odd text bind as VARCHAR for DuckDB to cast.
    /// </summary>
    private static DuckDbState BindDecimal(nint prepared, ulong index, string text)
    {
        if (TryParseDecimal(text, out DuckDbDecimal value))
        {
            return DuckDbNative.duckdb_bind_decimal(prepared, index, value);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double special) && !double.IsFinite(special))
        {
            return DuckDbNative.duckdb_bind_double(prepared, index, special);
        }

        return BindText(prepared, index, text);
    }

    internal static bool TryParseDecimal(ReadOnlySpan<char> text, out DuckDbDecimal value)
    {
        value = default;
        text = text.Trim();
        bool negative = false;
        if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
        {
            negative = text[0] == '-';
            text = text[1..];
        }

        Int128 unscaled = 0;
        int significant = 0;
        int scale = 0;
        bool dot = false;
        bool anyDigit = false;
        foreach (char c in text)
        {
            if (c == '.' && !dot)
            {
                dot = true;
                continue;
            }

            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            anyDigit = true;
            if (dot)
            {
                scale++;
            }

            if (unscaled != 0 || c != '0' || dot)
            {
                significant++;
            }

            if (significant > 38 || scale > 38)
            {
                return false;
            }

            unscaled = (unscaled * 10) + (c - '0');
        }

        if (!anyDigit)
        {
            return false;
        }

        if (negative)
        {
            unscaled = -unscaled;
        }

        value = new DuckDbDecimal
        {
            Width = (byte)Math.Clamp(Math.Max(significant, scale), 1, 38),
            Scale = (byte)scale,
            Lower = (ulong)unscaled,
            Upper = (long)(unscaled >> 64),
        };
        return true;
    }

    private static DuckDbInterval ToInterval(IntervalValue interval) =>
        new() { Months = interval.Months, Days = interval.Days, Micros = interval.Microseconds };

    /// <summary>A DuckDB value for one parameter (used for list elements); the caller destroys it.</summary>
    private static nint CreateValue(in ParameterValue value)
    {
        switch (value.Kind)
        {
            case ParameterKind.Null:
                return DuckDbNative.duckdb_create_null_value();
            case ParameterKind.Boolean:
                return DuckDbNative.duckdb_create_bool(value.AsBoolean ? (byte)1 : (byte)0);
            case ParameterKind.Int16:
                return DuckDbNative.duckdb_create_int16((short)value.AsInt64);
            case ParameterKind.Int32:
                return DuckDbNative.duckdb_create_int32((int)value.AsInt64);
            case ParameterKind.Int64:
                return DuckDbNative.duckdb_create_int64(value.AsInt64);
            case ParameterKind.Float32:
                return DuckDbNative.duckdb_create_float(value.AsFloat32);
            case ParameterKind.Float64:
                return DuckDbNative.duckdb_create_double(value.AsFloat64);
            case ParameterKind.Date:
                return DuckDbNative.duckdb_create_date((int)value.AsInt64);
            case ParameterKind.Time:
                return DuckDbNative.duckdb_create_time(value.AsInt64);
            case ParameterKind.Timestamp:
                return DuckDbNative.duckdb_create_timestamp(value.AsInt64);
            case ParameterKind.TimestampTz:
                return DuckDbNative.duckdb_create_timestamp_tz(value.AsInt64);
            case ParameterKind.Interval:
                return DuckDbNative.duckdb_create_interval(ToInterval(value.AsInterval));
            case ParameterKind.Bytes:
                byte[] bytes = value.AsBytes;
                fixed (byte* data = bytes)
                {
                    return DuckDbNative.duckdb_create_blob(data, (ulong)bytes.Length);
                }

            case ParameterKind.Array:
                return CreateList(value.AsArray);
            default:
                return CreateVarchar(value.AsString);
        }
    }

    private static nint CreateVarchar(string text)
    {
        byte[]? rented = null;
        try
        {
            Span<byte> utf8 = Utf8.EncodeZ(text, stackalloc byte[256], ref rented);
            fixed (byte* p = utf8)
            {
                return DuckDbNative.duckdb_create_varchar_length(p, (ulong)(utf8.Length - 1));
            }
        }
        finally
        {
            Utf8.Return(rented);
        }
    }

    /// <summary>
    /// A LIST value. The element type is the type of the non-null elements; when they differ (or all
    /// are null) the elements are sent as VARCHAR text and DuckDB casts the list to the parameter type.
    /// </summary>
    private static nint CreateList(ParameterValue[] elements)
    {
        nint childType = ElementType(elements, out bool asText);
        nint[] values = new nint[elements.Length];
        try
        {
            for (int i = 0; i < elements.Length; i++)
            {
                ParameterValue element = elements[i];
                values[i] = asText && !element.IsNull ? CreateVarchar(element.ToString()) : CreateValue(element);
            }

            nint none = 0;
            fixed (nint* v = values)
            {
                // DuckDB refuses a null values pointer even for an empty list.
                nint list = DuckDbNative.duckdb_create_list_value(childType, values.Length == 0 ? &none : v, (ulong)values.Length);
                return list != 0 ? list : throw new EngineException("DuckDB could not build a list parameter from the array elements", SqlStates.InvalidParameterValue);
            }
        }
        finally
        {
            for (int i = 0; i < values.Length; i++)
            {
                nint element = values[i];
                if (element != 0)
                {
                    DuckDbNative.duckdb_destroy_value(&element);
                }
            }

            DuckDbNative.duckdb_destroy_logical_type(&childType);
        }
    }

    /// <summary>The DuckDB type of a list's elements (the caller destroys it).</summary>
    private static nint ElementType(ParameterValue[] elements, out bool asText)
    {
        ParameterKind kind = ParameterKind.Null;
        int first = -1;
        asText = false;
        for (int i = 0; i < elements.Length; i++)
        {
            if (elements[i].IsNull)
            {
                continue;
            }

            if (first < 0)
            {
                first = i;
                kind = elements[i].Kind;
            }
            else if (kind != elements[i].Kind)
            {
                asText = true;
            }
        }

        if (first < 0 || asText)
        {
            asText = true;
            return DuckDbNative.duckdb_create_logical_type(DuckDbType.Varchar);
        }

        if (kind == ParameterKind.Array)
        {
            // Nested arrays: PostgreSQL arrays are rectangular, so the first inner array gives the type.
            nint inner = ElementType(elements[first].AsArray, out _);
            try
            {
                return DuckDbNative.duckdb_create_list_type(inner);
            }
            finally
            {
                DuckDbNative.duckdb_destroy_logical_type(&inner);
            }
        }

        DuckDbType id = kind switch
        {
            ParameterKind.Boolean => DuckDbType.Boolean,
            ParameterKind.Int16 => DuckDbType.SmallInt,
            ParameterKind.Int32 => DuckDbType.Integer,
            ParameterKind.Int64 => DuckDbType.BigInt,
            ParameterKind.Float32 => DuckDbType.Float,
            ParameterKind.Float64 => DuckDbType.Double,
            ParameterKind.Bytes => DuckDbType.Blob,
            ParameterKind.Date => DuckDbType.Date,
            ParameterKind.Time => DuckDbType.Time,
            ParameterKind.Timestamp => DuckDbType.Timestamp,
            ParameterKind.TimestampTz => DuckDbType.TimestampTz,
            ParameterKind.Interval => DuckDbType.Interval,
            _ => DuckDbType.Varchar,
        };
        return DuckDbNative.duckdb_create_logical_type(id);
    }
}
