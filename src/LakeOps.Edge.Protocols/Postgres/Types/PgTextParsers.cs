using System.Globalization;
using System.Text;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>Text input for the scalar parameter types (PostgreSQL's *_in functions).</summary>
internal static class PgTextParsers
{
    /// <summary>boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, unique prefixes, trimmed.</summary>
    public static bool TryParseBool(string text, out bool value)
    {
        value = false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.IsEmpty)
        {
            return false;
        }

        switch (char.ToLowerInvariant(s[0]))
        {
            case 't':
                value = true;
                return IsPrefixOf(s, "true");
            case 'y':
                value = true;
                return IsPrefixOf(s, "yes");
            case 'f':
                return IsPrefixOf(s, "false");
            case 'n':
                return IsPrefixOf(s, "no");
            case 'o':
                // "o" alone is ambiguous: "on", or "of" / "off".
                value = s.Equals("on", StringComparison.OrdinalIgnoreCase);
                return value || (s.Length >= 2 && IsPrefixOf(s, "off"));
            case '1':
                value = true;
                return s.Length == 1;
            case '0':
                return s.Length == 1;
            default:
                return false;
        }
    }

    /// <summary>Integer input: optional sign, digits, surrounding whitespace. Out of range is reported separately.</summary>
    public static bool TryParseInteger(string text, long min, long max, out long value, out bool outOfRange)
    {
        outOfRange = false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            outOfRange = value < min || value > max;
            return !outOfRange;
        }

        // Digits that do not fit a long are out of range, anything else is bad syntax.
        ReadOnlySpan<char> digits = s.Length > 0 && s[0] is '+' or '-' ? s[1..] : s;
        outOfRange = !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
        return false;
    }

    /// <summary>float4in/float8in: decimal or exponent notation, NaN, [+-]Infinity, [+-]inf.</summary>
    public static bool TryParseDouble(string text, bool single, out double value, out bool outOfRange)
    {
        outOfRange = false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (s.Equals("Infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("+Infinity", StringComparison.OrdinalIgnoreCase)
            || s.Equals("inf", StringComparison.OrdinalIgnoreCase) || s.Equals("+inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (s.Equals("-Infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("-inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }

        // Only plain numbers here: .NET would also accept its own spellings of infinity.
        if (s.IsEmpty || s.ContainsAnyExcept("0123456789+-.eE"))
        {
            value = 0;
            return false;
        }

        if (single)
        {
            bool ok = float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float f);
            value = f;
            outOfRange = ok && float.IsInfinity(f);
            return ok && !outOfRange;
        }

        bool parsed = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        outOfRange = parsed && double.IsInfinity(value);
        return parsed && !outOfRange;
    }

    /// <summary>
    /// numeric_in to canonical text: digits with the input's scale ("012.50" → "12.50", "1.5e3" → "1500",
    /// "-0" → "0"), or NaN / Infinity / -Infinity.
    /// </summary>
    public static bool TryParseNumeric(string text, out string canonical, out bool outOfRange)
    {
        canonical = string.Empty;
        outOfRange = false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            canonical = "NaN";
            return true;
        }

        if (s.Equals("Infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("+Infinity", StringComparison.OrdinalIgnoreCase)
            || s.Equals("inf", StringComparison.OrdinalIgnoreCase) || s.Equals("+inf", StringComparison.OrdinalIgnoreCase))
        {
            canonical = "Infinity";
            return true;
        }

        if (s.Equals("-Infinity", StringComparison.OrdinalIgnoreCase) || s.Equals("-inf", StringComparison.OrdinalIgnoreCase))
        {
            canonical = "-Infinity";
            return true;
        }

        int pos = 0;
        bool negative = false;
        if (pos < s.Length && s[pos] is '+' or '-')
        {
            negative = s[pos] == '-';
            pos++;
        }

        var digits = new StringBuilder(s.Length);
        int fractionDigits = 0;
        bool seenPoint = false;
        for (; pos < s.Length; pos++)
        {
            char c = s[pos];
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
                if (seenPoint)
                {
                    fractionDigits++;
                }
            }
            else if (c == '.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }

        if (digits.Length == 0)
        {
            return false;
        }

        long exponent = 0;
        if (pos < s.Length && s[pos] is 'e' or 'E')
        {
            pos++;
            if (!long.TryParse(s[pos..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent))
            {
                return false;
            }

            pos = s.Length;
        }

        if (pos != s.Length)
        {
            return false;
        }

        if (exponent is > PgNumericFormat.MaxScale or < PgNumericFormat.MinScale)
        {
            outOfRange = true;
            return false;
        }

        long scale = fractionDigits - exponent;
        if (scale < 0)
        {
            digits.Append('0', (int)-scale);
            scale = 0;
        }

        canonical = Format(digits.ToString(), negative, (int)scale);
        return true;
    }

    /// <summary>Canonical numeric text of a digit string (any leading zeros) with a scale ≥ 0.</summary>
    public static string Format(string digits, bool negative, int scale)
    {
        int integerLength = digits.Length - scale;
        var result = new StringBuilder(digits.Length + scale + 3);
        if (integerLength > 0)
        {
            ReadOnlySpan<char> integer = digits.AsSpan(0, integerLength).TrimStart('0');
            result.Append(integer.IsEmpty ? "0" : integer);
        }
        else
        {
            result.Append('0');
        }

        if (scale > 0)
        {
            result.Append('.');
            if (integerLength < 0)
            {
                result.Append('0', -integerLength);
            }

            result.Append(digits.AsSpan(Math.Max(integerLength, 0)));
        }

        bool zero = !digits.AsSpan().ContainsAnyExcept('0');
        if (negative && !zero)
        {
            result.Insert(0, '-');
        }

        return result.ToString();
    }

    /// <summary>
    /// uuid_in: 32 hex digits, any case, optionally in braces, with an optional hyphen after any group
    /// of four digits.
    /// </summary>
    public static bool TryParseUuid(string text, out Guid value)
    {
        value = Guid.Empty;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Length >= 2 && s[0] == '{' && s[^1] == '}')
        {
            s = s[1..^1];
        }

        Span<byte> bytes = stackalloc byte[16];
        int digits = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '-' && digits > 0 && digits % 4 == 0 && digits < 32 && i + 1 < s.Length && s[i + 1] != '-')
            {
                continue;
            }

            if (!char.IsAsciiHexDigit(c) || digits == 32)
            {
                return false;
            }

            int nibble = HexValue(c);
            bytes[digits / 2] = (byte)(digits % 2 == 0 ? nibble << 4 : bytes[digits / 2] | nibble);
            digits++;
        }

        if (digits != 32)
        {
            return false;
        }

        value = new Guid(bytes, bigEndian: true);
        return true;
    }

    /// <summary>byteain: "\x" hex (whitespace allowed between byte pairs) or the escape format (\\ and \ooo).</summary>
    public static bool TryParseBytea(string text, out byte[] value)
    {
        value = [];
        if (text.StartsWith("\\x", StringComparison.Ordinal) || text.StartsWith("\\X", StringComparison.Ordinal))
        {
            var bytes = new List<byte>(text.Length / 2);
            int i = 2;
            while (i < text.Length)
            {
                if (char.IsWhiteSpace(text[i]))
                {
                    i++;
                    continue;
                }

                if (i + 1 >= text.Length || !char.IsAsciiHexDigit(text[i]) || !char.IsAsciiHexDigit(text[i + 1]))
                {
                    return false;
                }

                bytes.Add((byte)((HexValue(text[i]) << 4) | HexValue(text[i + 1])));
                i += 2;
            }

            value = [.. bytes];
            return true;
        }

        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var result = new List<byte>(utf8.Length);
        for (int i = 0; i < utf8.Length; i++)
        {
            byte b = utf8[i];
            if (b != (byte)'\\')
            {
                result.Add(b);
                continue;
            }

            if (i + 1 < utf8.Length && utf8[i + 1] == (byte)'\\')
            {
                result.Add((byte)'\\');
                i++;
                continue;
            }

            if (i + 3 < utf8.Length && IsOctal(utf8[i + 1], '3') && IsOctal(utf8[i + 2], '7') && IsOctal(utf8[i + 3], '7'))
            {
                result.Add((byte)(((utf8[i + 1] - '0') << 6) | ((utf8[i + 2] - '0') << 3) | (utf8[i + 3] - '0')));
                i += 3;
                continue;
            }

            return false;
        }

        value = [.. result];
        return true;
    }

    private static bool IsOctal(byte c, char max) => c >= '0' && c <= max;

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static bool IsPrefixOf(ReadOnlySpan<char> input, string word) =>
        input.Length <= word.Length && word.AsSpan(0, input.Length).Equals(input, StringComparison.OrdinalIgnoreCase);
}
