namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// In-place quoting of a value already written at the start of a buffer: PostgreSQL array element
/// quoting (array_out) and JSON string escaping. The value is written once, scanned, and only when it
/// needs quoting is it expanded backwards in the same buffer (the caller reserved the worst case).
/// </summary>
internal static class PgTextEscaping
{
    /// <summary>Worst case of <see cref="QuoteArrayElementInPlace"/> for a value of this length.</summary>
    public static int MaxArrayElementLength(int valueLength) => (2 * valueLength) + 2;

    /// <summary>Worst case of <see cref="QuoteJsonInPlace"/> for a value of this length (\u00XX per byte).</summary>
    public static int MaxJsonStringLength(int valueLength) => (6 * valueLength) + 2;

    /// <summary>
    /// array_out rule: quote when empty, when equal to NULL (any case), or when containing
    /// <c>" \ { } ,</c> or whitespace; inside quotes escape <c>"</c> and <c>\</c> with a backslash.
    /// </summary>
    public static int QuoteArrayElementInPlace(Span<byte> buffer, int length)
    {
        ReadOnlySpan<byte> value = buffer[..length];
        bool quote = length == 0 || IsNullWord(value);
        int escapes = 0;
        foreach (byte c in value)
        {
            switch (c)
            {
                case (byte)'"':
                case (byte)'\\':
                    escapes++;
                    quote = true;
                    break;
                case (byte)'{':
                case (byte)'}':
                case (byte)',':
                case (byte)' ':
                case (byte)'\t':
                case (byte)'\n':
                case (byte)'\r':
                case (byte)'\v':
                case (byte)'\f':
                    quote = true;
                    break;
            }
        }

        if (!quote)
        {
            return length;
        }

        int total = length + escapes + 2;
        int to = total - 1;
        buffer[to--] = (byte)'"';
        for (int from = length - 1; from >= 0; from--)
        {
            byte c = buffer[from];
            buffer[to--] = c;
            if (c is (byte)'"' or (byte)'\\')
            {
                buffer[to--] = (byte)'\\';
            }
        }

        buffer[0] = (byte)'"';
        return total;
    }

    /// <summary>Turns the value at the start of the buffer into a JSON string literal.</summary>
    public static int QuoteJsonInPlace(Span<byte> buffer, int length)
    {
        int extra = 0;
        for (int i = 0; i < length; i++)
        {
            extra += JsonEscapeExtra(buffer[i]);
        }

        int total = length + extra + 2;
        int to = total - 1;
        buffer[to--] = (byte)'"';
        for (int from = length - 1; from >= 0; from--)
        {
            byte c = buffer[from];
            switch (JsonEscapeExtra(c))
            {
                case 0:
                    buffer[to--] = c;
                    break;
                case 1:
                    buffer[to--] = c switch
                    {
                        (byte)'\b' => (byte)'b',
                        (byte)'\f' => (byte)'f',
                        (byte)'\n' => (byte)'n',
                        (byte)'\r' => (byte)'r',
                        (byte)'\t' => (byte)'t',
                        _ => c,
                    };
                    buffer[to--] = (byte)'\\';
                    break;
                default:
                    buffer[to--] = HexDigit(c & 0xF);
                    buffer[to--] = HexDigit(c >> 4);
                    buffer[to--] = (byte)'0';
                    buffer[to--] = (byte)'0';
                    buffer[to--] = (byte)'u';
                    buffer[to--] = (byte)'\\';
                    break;
            }
        }

        buffer[0] = (byte)'"';
        return total;
    }

    /// <summary>Writes a constant string as a JSON string literal.</summary>
    public static int WriteJsonString(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        value.CopyTo(destination);
        return QuoteJsonInPlace(destination, value.Length);
    }

    /// <summary>Lower-case hex of the bytes, two characters per byte.</summary>
    public static int WriteHex(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        int pos = 0;
        foreach (byte b in value)
        {
            destination[pos++] = HexDigit(b >> 4);
            destination[pos++] = HexDigit(b & 0xF);
        }

        return pos;
    }

    public static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static int JsonEscapeExtra(byte c) => c switch
    {
        (byte)'"' or (byte)'\\' or (byte)'\b' or (byte)'\f' or (byte)'\n' or (byte)'\r' or (byte)'\t' => 1,
        < 0x20 => 5,
        _ => 0,
    };

    private static bool IsNullWord(ReadOnlySpan<byte> value) =>
        value.Length == 4
        && (value[0] | 0x20) == 'n'
        && (value[1] | 0x20) == 'u'
        && (value[2] | 0x20) == 'l'
        && (value[3] | 0x20) == 'l';
}
