using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.MySql.Client;

/// <summary>
/// COM_STMT_EXECUTE with parameters in the binary protocol, from engine-neutral <see cref="ParameterValue"/>s.
/// Types are always sent (new-params-bound = 1), so a statement can be executed on any connection.
/// </summary>
/// <remarks>
/// Mapping: bool TINY, int16 SHORT, int32 LONG, int64 LONGLONG, float FLOAT, double DOUBLE, decimal
/// NEWDECIMAL (text), text / uuid / json VAR_STRING, bytes BLOB, date DATE, time TIME, timestamp and
/// timestamptz DATETIME (the session is UTC, so an instant is its UTC wall-clock time), interval TIME
/// (days and microseconds only, no months). Arrays have no MySQL equivalent and are rejected.
/// </remarks>
public static class MySqlStatementExecuteWriter
{
    private const long MicrosPerSecond = 1_000_000;
    private const long MicrosPerDay = 86_400 * MicrosPerSecond;

    // DateOnly.DayNumber of 1970-01-01.
    private const int UnixEpochDayNumber = 719_162;

    /// <summary>
    /// Writes COM_STMT_EXECUTE; throws <see cref="NotSupportedException"/> for a value MySQL cannot take, before
    /// anything is written.
    /// </summary>
    public static void Write(MySqlPacketWriter writer, uint statementId, ReadOnlySpan<ParameterValue> parameters)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int size = 1 + 4 + 1 + 4;
        if (parameters.Length > 0)
        {
            size += ((parameters.Length + 7) / 8) + 1 + (2 * parameters.Length);
            foreach (ParameterValue value in parameters)
            {
                size += ValueSize(value);
            }
        }

        writer.ResetSequence();
        MySqlPayloadWriter payload = writer.BeginPacket(size);
        payload.WriteByte((byte)MySqlCommand.StmtExecute);
        payload.WriteUInt32(statementId);
        payload.WriteByte(0); // CURSOR_TYPE_NO_CURSOR
        payload.WriteUInt32(1); // iteration count
        if (parameters.Length > 0)
        {
            int bitmapLength = (parameters.Length + 7) / 8;
            Span<byte> bitmap = payload.FreeSpan[..bitmapLength];
            bitmap.Clear();
            for (int i = 0; i < parameters.Length; i++)
            {
                if (parameters[i].IsNull)
                {
                    bitmap[i / 8] |= (byte)(1 << (i % 8));
                }
            }

            payload.Advance(bitmapLength);
            payload.WriteByte(1); // new-params-bound
            foreach (ParameterValue value in parameters)
            {
                payload.WriteByte((byte)TypeOf(value));
                payload.WriteByte(0); // signed
            }

            foreach (ParameterValue value in parameters)
            {
                WriteValue(ref payload, value);
            }
        }

        writer.EndPacket(payload);
    }

    /// <summary>The MySQL type a parameter is sent as.</summary>
    public static MySqlColumnType TypeOf(ParameterValue value) => value.Kind switch
    {
        ParameterKind.Null => MySqlColumnType.Null,
        ParameterKind.Boolean => MySqlColumnType.Tiny,
        ParameterKind.Int16 => MySqlColumnType.Short,
        ParameterKind.Int32 => MySqlColumnType.Long,
        ParameterKind.Int64 => MySqlColumnType.LongLong,
        ParameterKind.Float32 => MySqlColumnType.Float,
        ParameterKind.Float64 => MySqlColumnType.Double,
        ParameterKind.Decimal => MySqlColumnType.NewDecimal,
        ParameterKind.Text or ParameterKind.Uuid or ParameterKind.Json => MySqlColumnType.VarString,
        ParameterKind.Bytes => MySqlColumnType.Blob,
        ParameterKind.Date => MySqlColumnType.Date,
        ParameterKind.Time or ParameterKind.Interval => MySqlColumnType.Time,
        ParameterKind.Timestamp or ParameterKind.TimestampTz => MySqlColumnType.DateTime,
        _ => throw new NotSupportedException($"a {value.Kind} parameter has no MySQL equivalent"),
    };

    private static int ValueSize(ParameterValue value)
    {
        switch (value.Kind)
        {
            case ParameterKind.Null:
                return 0;
            case ParameterKind.Boolean:
                return 1;
            case ParameterKind.Int16:
                return 2;
            case ParameterKind.Int32:
            case ParameterKind.Float32:
                return 4;
            case ParameterKind.Int64:
            case ParameterKind.Float64:
                return 8;
            case ParameterKind.Decimal:
            case ParameterKind.Text:
            case ParameterKind.Uuid:
            case ParameterKind.Json:
                return MySqlPayloadWriter.LengthEncodedStringSize(value.AsString);
            case ParameterKind.Bytes:
                return MySqlPayloadWriter.LengthEncodedIntegerSize((ulong)value.AsBytes.Length) + value.AsBytes.Length;
            case ParameterKind.Date:
                ToDate(value.AsInt64); // validates before anything is written
                return 1 + 4;
            case ParameterKind.Time:
                return 1 + 12;
            case ParameterKind.Interval:
                if (value.AsInterval.Months != 0)
                {
                    throw new NotSupportedException("an interval with months has no MySQL TIME equivalent");
                }

                return 1 + 12;
            case ParameterKind.Timestamp:
            case ParameterKind.TimestampTz:
                SplitTimestamp(value.AsInt64, out _);
                return 1 + 11;
            default:
                throw new NotSupportedException($"a {value.Kind} parameter has no MySQL equivalent");
        }
    }

    private static void WriteValue(ref MySqlPayloadWriter payload, ParameterValue value)
    {
        switch (value.Kind)
        {
            case ParameterKind.Null:
                break;
            case ParameterKind.Boolean:
                payload.WriteByte(value.AsBoolean ? (byte)1 : (byte)0);
                break;
            case ParameterKind.Int16:
                payload.WriteUInt16((ushort)(short)value.AsInt64);
                break;
            case ParameterKind.Int32:
                payload.WriteUInt32((uint)(int)value.AsInt64);
                break;
            case ParameterKind.Int64:
                payload.WriteUInt64((ulong)value.AsInt64);
                break;
            case ParameterKind.Float32:
                payload.WriteUInt32((uint)BitConverter.SingleToInt32Bits(value.AsFloat32));
                break;
            case ParameterKind.Float64:
                payload.WriteUInt64((ulong)BitConverter.DoubleToInt64Bits(value.AsFloat64));
                break;
            case ParameterKind.Decimal:
            case ParameterKind.Text:
            case ParameterKind.Uuid:
            case ParameterKind.Json:
                payload.WriteLengthEncodedString(value.AsString);
                break;
            case ParameterKind.Bytes:
                payload.WriteLengthEncodedBytes(value.AsBytes);
                break;
            case ParameterKind.Date:
                WriteDate(ref payload, value.AsInt64);
                break;
            case ParameterKind.Time:
                WriteTime(ref payload, value.AsInt64);
                break;
            case ParameterKind.Interval:
                IntervalValue interval = value.AsInterval;
                WriteTime(ref payload, (interval.Days * MicrosPerDay) + interval.Microseconds);
                break;
            case ParameterKind.Timestamp:
            case ParameterKind.TimestampTz:
                WriteDateTime(ref payload, value.AsInt64);
                break;
            default:
                throw new NotSupportedException($"a {value.Kind} parameter has no MySQL equivalent");
        }
    }

    private static DateOnly ToDate(long daysSinceEpoch)
    {
        long dayNumber = daysSinceEpoch + UnixEpochDayNumber;
        if (dayNumber < DateOnly.MinValue.DayNumber || dayNumber > DateOnly.MaxValue.DayNumber)
        {
            throw new NotSupportedException("the date is outside MySQL's range (years 1 to 9999)");
        }

        return DateOnly.FromDayNumber((int)dayNumber);
    }

    private static void WriteDate(ref MySqlPayloadWriter payload, long daysSinceEpoch)
    {
        DateOnly date = ToDate(daysSinceEpoch);
        payload.WriteByte(4);
        payload.WriteUInt16((ushort)date.Year);
        payload.WriteByte((byte)date.Month);
        payload.WriteByte((byte)date.Day);
    }

    private static void WriteTime(ref MySqlPayloadWriter payload, long micros)
    {
        bool negative = micros < 0;
        ulong magnitude = negative ? (ulong)-micros : (ulong)micros;
        ulong days = magnitude / (ulong)MicrosPerDay;
        ulong rest = magnitude % (ulong)MicrosPerDay;
        payload.WriteByte(12);
        payload.WriteByte(negative ? (byte)1 : (byte)0);
        payload.WriteUInt32((uint)days);
        payload.WriteByte((byte)(rest / 3_600_000_000UL));
        payload.WriteByte((byte)(rest / 60_000_000UL % 60));
        payload.WriteByte((byte)(rest / 1_000_000UL % 60));
        payload.WriteUInt32((uint)(rest % 1_000_000UL));
    }

    /// <summary>The calendar day of a timestamp (validated) and the microseconds into it.</summary>
    private static DateOnly SplitTimestamp(long microsSinceEpoch, out long rest)
    {
        long days = Math.DivRem(microsSinceEpoch, MicrosPerDay, out rest);
        if (rest < 0)
        {
            days--;
            rest += MicrosPerDay;
        }

        return ToDate(days);
    }

    private static void WriteDateTime(ref MySqlPayloadWriter payload, long microsSinceEpoch)
    {
        DateOnly date = SplitTimestamp(microsSinceEpoch, out long rest);
        payload.WriteByte(11);
        payload.WriteUInt16((ushort)date.Year);
        payload.WriteByte((byte)date.Month);
        payload.WriteByte((byte)date.Day);
        payload.WriteByte((byte)(rest / 3_600_000_000L));
        payload.WriteByte((byte)(rest / 60_000_000L % 60));
        payload.WriteByte((byte)(rest / 1_000_000L % 60));
        payload.WriteUInt32((uint)(rest % 1_000_000L));
    }
}
