using System.Globalization;
using System.Text;
using System.Text.Unicode;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres.Types;

namespace LakeOps.Edge.Engines.Postgres;

/// <summary>
/// Encodes engine-neutral parameters for Bind. Values go in PostgreSQL's text format, which the server
/// converts to whatever type the parameter has (so an Int64 binds to an int4 or numeric parameter
/// alike); bytea goes in binary format, as its raw bytes.
/// </summary>
internal static class PgParameterWriter
{
    private const int UnixEpochDayNumber = 719_162; // DateOnly.DayNumber of 1970-01-01

    /// <summary>The bytes to bind (null for SQL NULL) and the format code (0 text, 1 binary).</summary>
    public static byte[]? Encode(in ParameterValue value, int typeOid, out short format)
    {
        format = 0;
        if (value.IsNull)
        {
            return null;
        }

        if (value.Kind == ParameterKind.Bytes && typeOid is PgTypes.Bytea or 0 or PgTypes.Unknown)
        {
            format = 1;
            return value.AsBytes;
        }

        return Encoding.UTF8.GetBytes(ToText(value, typeOid, inArray: false));
    }

    /// <summary>The PostgreSQL text form of a parameter value.</summary>
    public static string ToText(in ParameterValue value, int typeOid, bool inArray)
    {
        switch (value.Kind)
        {
            case ParameterKind.Boolean:
                // A number-typed parameter cannot parse 't'/'f'.
                return IsNumeric(typeOid) ? (value.AsBoolean ? "1" : "0") : (value.AsBoolean ? "t" : "f");
            case ParameterKind.Int16 or ParameterKind.Int32 or ParameterKind.Int64:
                return value.AsInt64.ToString(CultureInfo.InvariantCulture);
            case ParameterKind.Float32:
                return FloatText(value.AsFloat32);
            case ParameterKind.Float64:
                return FloatText(value.AsFloat64);
            case ParameterKind.Decimal or ParameterKind.Text or ParameterKind.Uuid or ParameterKind.Json:
                return value.AsString;
            case ParameterKind.Bytes:
                byte[] bytes = value.AsBytes;

                // Into a text-like parameter, valid UTF-8 is the string it spells; anything else bytea's hex form.
                return !inArray && typeOid is not PgTypes.Bytea && Utf8.IsValid(bytes)
                    ? Encoding.UTF8.GetString(bytes)
                    : "\\x" + Convert.ToHexStringLower(bytes);
            case ParameterKind.Date:
                return DateText((int)value.AsInt64);
            case ParameterKind.Time:
                return TimeText(value.AsInt64);
            case ParameterKind.Timestamp:
                return TimestampText(value.AsInt64, withZone: false);
            case ParameterKind.TimestampTz:
                return TimestampText(value.AsInt64, withZone: true);
            case ParameterKind.Interval:
                IntervalValue interval = value.AsInterval;
                return string.Create(CultureInfo.InvariantCulture, $"{interval.Months} mons {interval.Days} days {interval.Microseconds} microseconds");
            case ParameterKind.Array:
                return ArrayText(value.AsArray, ElementOf(typeOid));
            default:
                throw new EngineException($"parameter kind {value.Kind} cannot be sent to PostgreSQL", SqlStates.FeatureNotSupported);
        }
    }

    private static string FloatText(double value) =>
        double.IsPositiveInfinity(value) ? "Infinity"
        : double.IsNegativeInfinity(value) ? "-Infinity"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string FloatText(float value) =>
        float.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : FloatText((double)value);

    private static string DateText(int days)
    {
        if (days == int.MaxValue)
        {
            return "infinity";
        }

        if (days == int.MinValue)
        {
            return "-infinity";
        }

        long dayNumber = (long)days + UnixEpochDayNumber;
        if (dayNumber is < 0 or > 3_652_058)
        {
            throw new EngineException("date parameter is outside years 1..9999", "22008");
        }

        return DateOnly.FromDayNumber((int)dayNumber).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    private static string TimeText(long micros)
    {
        if (micros is < 0 or > 86_400_000_000)
        {
            throw new EngineException("time parameter is outside 00:00..24:00", "22008");
        }

        long seconds = Math.DivRem(micros, 1_000_000, out long fraction);
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}.{fraction:000000}");
    }

    private static string TimestampText(long micros, bool withZone)
    {
        if (micros == long.MaxValue)
        {
            return "infinity";
        }

        if (micros == long.MinValue)
        {
            return "-infinity";
        }

        long ticks = DateTime.UnixEpoch.Ticks + (micros * 10);
        if (micros > (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10 || micros < -DateTime.UnixEpoch.Ticks / 10)
        {
            throw new EngineException("timestamp parameter is outside years 1..9999", "22008");
        }

        string text = new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        return withZone ? text + "+00" : text;
    }

    /// <summary>An array literal: {a,"b c",NULL}; every element quoted except NULL, so no element text needs analysis.</summary>
    private static string ArrayText(ParameterValue[] elements, int elementOid)
    {
        var text = new StringBuilder("{");
        for (int i = 0; i < elements.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            ParameterValue element = elements[i];
            if (element.IsNull)
            {
                text.Append("NULL");
                continue;
            }

            string item = ToText(element, elementOid, inArray: true);
            if (element.Kind == ParameterKind.Array)
            {
                text.Append(item); // a nested array literal: a further dimension
                continue;
            }

            text.Append('"');
            foreach (char c in item)
            {
                if (c is '"' or '\\')
                {
                    text.Append('\\');
                }

                text.Append(c);
            }

            text.Append('"');
        }

        return text.Append('}').ToString();
    }

    private static bool IsNumeric(int oid) =>
        oid is PgTypes.Int2 or PgTypes.Int4 or PgTypes.Int8 or PgTypes.Numeric or PgTypes.Float4 or PgTypes.Float8 or PgTypes.Oid;

    private static int ElementOf(int arrayOid) => PgTypes.Find(arrayOid) is { IsArray: true } type ? type.ElementOid : 0;
}
