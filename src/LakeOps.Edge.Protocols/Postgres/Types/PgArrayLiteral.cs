using System.Text;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// array_in for text parameters: "{1,2,NULL}", nested braces for more dimensions, elements quoted with
/// '"' (backslash escapes inside and outside quotes), unquoted NULL (any case) is SQL NULL, whitespace
/// around elements ignored. An optional "[1:3]=" dimension prefix is skipped. Elements are decoded by
/// the caller's element decoder.
/// </summary>
internal static class PgArrayLiteral
{
    public static bool TryParse(string text, Func<string, ParameterValue> decodeElement, out ParameterValue value)
    {
        value = default;
        int pos = 0;
        SkipSpaces(text, ref pos);
        if (pos < text.Length && text[pos] == '[')
        {
            int equals = text.IndexOf('=', pos);
            if (equals < 0)
            {
                return false;
            }

            pos = equals + 1;
            SkipSpaces(text, ref pos);
        }

        if (!TryParseArray(text, ref pos, decodeElement, depth: 1, out value))
        {
            return false;
        }

        SkipSpaces(text, ref pos);
        return pos == text.Length;
    }

    private static bool TryParseArray(string text, ref int pos, Func<string, ParameterValue> decodeElement, int depth, out ParameterValue value)
    {
        value = default;
        if (depth > ListEncoder.MaxDimensions || pos >= text.Length || text[pos] != '{')
        {
            return false;
        }

        pos++;
        var elements = new List<ParameterValue>();
        SkipSpaces(text, ref pos);
        if (pos < text.Length && text[pos] == '}')
        {
            pos++;
            value = ParameterValue.FromArray([]);
            return true;
        }

        while (true)
        {
            SkipSpaces(text, ref pos);
            if (pos >= text.Length)
            {
                return false;
            }

            if (text[pos] == '{')
            {
                if (!TryParseArray(text, ref pos, decodeElement, depth + 1, out ParameterValue inner))
                {
                    return false;
                }

                elements.Add(inner);
            }
            else if (!TryParseElement(text, ref pos, decodeElement, out ParameterValue element))
            {
                return false;
            }
            else
            {
                elements.Add(element);
            }

            SkipSpaces(text, ref pos);
            if (pos >= text.Length)
            {
                return false;
            }

            if (text[pos] == ',')
            {
                pos++;
                continue;
            }

            if (text[pos] == '}')
            {
                pos++;
                value = ParameterValue.FromArray([.. elements]);
                return true;
            }

            return false;
        }
    }

    private static bool TryParseElement(string text, ref int pos, Func<string, ParameterValue> decodeElement, out ParameterValue value)
    {
        value = default;
        var builder = new StringBuilder();
        bool quoted = false;
        bool inQuotes = false;
        int lastSignificant = 0;
        while (pos < text.Length)
        {
            char c = text[pos];
            if (inQuotes)
            {
                if (c == '\\')
                {
                    if (++pos >= text.Length)
                    {
                        return false;
                    }

                    builder.Append(text[pos++]);
                }
                else if (c == '"')
                {
                    inQuotes = false;
                    pos++;
                }
                else
                {
                    builder.Append(c);
                    pos++;
                }

                lastSignificant = builder.Length;
                continue;
            }

            if (c is ',' or '}')
            {
                break;
            }

            if (c is '{')
            {
                return false;
            }

            if (c == '"')
            {
                quoted = true;
                inQuotes = true;
                pos++;
                continue;
            }

            if (c == '\\')
            {
                if (++pos >= text.Length)
                {
                    return false;
                }

                builder.Append(text[pos++]);
                lastSignificant = builder.Length;
                continue;
            }

            builder.Append(c);
            pos++;
            if (!char.IsWhiteSpace(c))
            {
                lastSignificant = builder.Length;
            }
        }

        if (inQuotes)
        {
            return false;
        }

        // Unquoted trailing whitespace is not part of the element.
        builder.Length = lastSignificant;
        string element = builder.ToString();
        if (!quoted && element.Length == 0)
        {
            return false;
        }

        value = !quoted && element.Equals("NULL", StringComparison.OrdinalIgnoreCase)
            ? ParameterValue.Null
            : decodeElement(element);
        return true;
    }

    private static void SkipSpaces(string text, ref int pos)
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos]))
        {
            pos++;
        }
    }
}
