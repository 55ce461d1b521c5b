using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace LakeOps.Edge.Engines.Tests.Postgres;

/// <summary>
/// Prints an Arrow value the way PostgreSQL prints the same value as text (DateStyle ISO, TimeZone UTC),
/// so tests compare what the engine decoded with what the server says, not with constants.
/// </summary>
internal static class PgArrowText
{
    public static string? Format(IArrowArray array, int index)
    {
        if (array.IsNull(index))
        {
            return null;
        }

        switch (array)
        {
            case BooleanArray a:
                return a.GetValue(index)!.Value ? "true" : "false"; // bool::text, not psql's t/f
            case Int16Array a:
                return a.GetValue(index)!.Value.ToString(CultureInfo.InvariantCulture);
            case Int32Array a:
                return a.GetValue(index)!.Value.ToString(CultureInfo.InvariantCulture);
            case Int64Array a:
                return a.GetValue(index)!.Value.ToString(CultureInfo.InvariantCulture);
            case UInt32Array a:
                return a.GetValue(index)!.Value.ToString(CultureInfo.InvariantCulture);
            case FloatArray a:
                return FloatText(a.GetValue(index)!.Value);
            case DoubleArray a:
                return FloatText(a.GetValue(index)!.Value);
            case Decimal128Array a:
                return a.GetString(index);
            case StringArray a:
                return a.GetString(index);
            case BinaryArray a:
                return "\\x" + Convert.ToHexStringLower(a.GetBytes(index));
            case Date32Array a:
                return DateOnly.FromDayNumber(a.GetValue(index)!.Value + 719_162).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            case Time64Array a:
                return TimeText(a.GetValue(index)!.Value);
            case TimestampArray a:
                long micros = a.GetValue(index)!.Value;
                var time = DateTime.UnixEpoch.AddTicks(micros * 10);
                string text = time.ToString("yyyy-MM-dd ", CultureInfo.InvariantCulture) + TimeText(micros - (long)(time.Date - DateTime.UnixEpoch).TotalMicroseconds);
                return ((TimestampType)a.Data.DataType).Timezone is null ? text : text + "+00";
            case MonthDayNanosecondIntervalArray a:
                var interval = a.GetValue(index)!.Value;
                return string.Create(CultureInfo.InvariantCulture, $"{interval.Months}|{interval.Days}|{interval.Nanoseconds / 1000}");
            case ListArray a:
                var items = new StringBuilder("{");
                IArrowArray values = a.Values;
                for (int i = a.ValueOffsets[index]; i < a.ValueOffsets[index + 1]; i++)
                {
                    if (i > a.ValueOffsets[index])
                    {
                        items.Append('|');
                    }

                    items.Append(Format(values, i) ?? "NULL");
                }

                return items.Append('}').ToString();
            default:
                throw new NotSupportedException(array.GetType().Name);
        }
    }

    private static string FloatText(double value) =>
        double.IsPositiveInfinity(value) ? "Infinity" : double.IsNegativeInfinity(value) ? "-Infinity" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string TimeText(long micros)
    {
        long seconds = Math.DivRem(micros, 1_000_000, out long fraction);
        string text = string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}");
        return fraction == 0 ? text : text + "." + fraction.ToString("000000", CultureInfo.InvariantCulture).TrimEnd('0');
    }
}
