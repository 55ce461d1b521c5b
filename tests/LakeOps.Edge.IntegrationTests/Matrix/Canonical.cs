using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>
/// Turns what a client shows for one cell into canonical text, given the column's logical kind.
/// Strict on purpose: a value in an unexpected form (a date shown with a time, a decimal that arrived
/// as a double, a timestamp with an offset) does not get coerced; it becomes "!Kind? what-was-seen",
/// which then shows up as a mismatch. Only differences that are the client's or the engine's nature
/// are normalised (documented in docs/type-mapping.md, "Comparing results across clients"):
/// psql prints booleans t/f and bytea as \x-hex; MySQL clients see booleans as TINYINT(1) 1/0;
/// the mysql CLI prints bytes raw; each client prints doubles and timestamps with its own digits.
/// </summary>
public static partial class Canonical
{
    public const string Null = "<NULL>";

    /// <summary>A cell as text, as psql and the mysql CLI print it (NULL markers already mapped by the caller).</summary>
    public static string FromText(ColumnKind kind, string text)
    {
        switch (kind)
        {
            case ColumnKind.Int:
                return IntegerText().IsMatch(text) ? BigInteger.Parse(text, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) : Bad(kind, text);
            case ColumnKind.Decimal:
                // Already canonical when well-formed: the scale is what the engine chose.
                return DecimalText().IsMatch(text) ? text : Bad(kind, text);
            case ColumnKind.Double:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && DoubleText().IsMatch(text)
                    ? d.ToString("R", CultureInfo.InvariantCulture)
                    : Bad(kind, text);
            case ColumnKind.Bool:
                return text switch
                {
                    "t" or "true" or "1" => "true",
                    "f" or "false" or "0" => "false",
                    _ => Bad(kind, text),
                };
            case ColumnKind.Text:
                return text;
            case ColumnKind.Date:
                return DateText().IsMatch(text) ? text : Bad(kind, text);
            case ColumnKind.Timestamp:
                Match m = TimestampText().Match(text);
                return m.Success ? m.Groups[1].Value + "." + m.Groups[2].Value.PadRight(6, '0') : Bad(kind, text);
            case ColumnKind.Bytes:
                // psql: bytea_output = hex.
                return text.StartsWith("\\x", StringComparison.Ordinal) && HexText().IsMatch(text.AsSpan(2))
                    ? text[2..].ToLowerInvariant()
                    : Bad(kind, text);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>A cell the mysql CLI printed with --raw: bytes columns are the raw bytes, everything else UTF-8 text.</summary>
    public static string FromRawBytes(ColumnKind kind, ReadOnlySpan<byte> raw)
    {
        if (kind == ColumnKind.Bytes)
        {
            return Convert.ToHexStringLower(raw);
        }

        try
        {
            return FromText(kind, StrictUtf8.GetString(raw));
        }
        catch (DecoderFallbackException)
        {
            return Bad(kind, "invalid UTF-8 " + Convert.ToHexStringLower(raw));
        }
    }

    /// <summary>A cell as an ADO.NET provider returned it (GetValue), DBNull excluded.</summary>
    public static string FromValue(ColumnKind kind, object value)
    {
        switch (kind)
        {
            case ColumnKind.Int:
                return value switch
                {
                    sbyte or byte or short or ushort or int or uint or long or ulong or BigInteger or Int128 or UInt128 =>
                        Convert.ToString(value, CultureInfo.InvariantCulture)!,
                    decimal m when m == decimal.Truncate(m) && m.Scale == 0 => m.ToString(CultureInfo.InvariantCulture),
                    _ => BadValue(kind, value),
                };
            case ColumnKind.Decimal:
                return value is decimal dec ? dec.ToString(CultureInfo.InvariantCulture) : BadValue(kind, value);
            case ColumnKind.Double:
                return value is double dbl ? dbl.ToString("R", CultureInfo.InvariantCulture) : BadValue(kind, value);
            case ColumnKind.Bool:
                return value switch
                {
                    bool b => b ? "true" : "false",
                    sbyte or byte or short or int or long when Convert.ToInt64(value, CultureInfo.InvariantCulture) is 0 or 1 =>
                        Convert.ToInt64(value, CultureInfo.InvariantCulture) == 1 ? "true" : "false",
                    _ => BadValue(kind, value),
                };
            case ColumnKind.Text:
                return value is string s ? s : BadValue(kind, value);
            case ColumnKind.Date:
                return value switch
                {
                    DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateTime dt when dt.TimeOfDay == TimeSpan.Zero && dt.Kind != DateTimeKind.Utc => dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    _ => BadValue(kind, value),
                };
            case ColumnKind.Timestamp:
                // A UTC DateTime means the column arrived as timestamptz: not the same type.
                return value is DateTime ts && ts.Kind != DateTimeKind.Utc
                    ? ts.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)
                    : BadValue(kind, value);
            case ColumnKind.Bytes:
                return value is byte[] bytes ? Convert.ToHexStringLower(bytes) : BadValue(kind, value);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    public static bool IsBad(string canonical) => canonical.StartsWith('!');

    private static string Bad(ColumnKind kind, string seen) => $"!{kind}? {seen}";

    private static string BadValue(ColumnKind kind, object value) => value switch
    {
        byte[] bytes => Bad(kind, "byte[] " + Convert.ToHexStringLower(bytes)),
        DateTime dt => Bad(kind, $"DateTime({dt.Kind}) {dt:yyyy-MM-dd HH:mm:ss.ffffff}"),
        IFormattable f => Bad(kind, value.GetType().Name + " " + f.ToString(null, CultureInfo.InvariantCulture)),
        _ => Bad(kind, value.GetType().Name + " " + value),
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [GeneratedRegex(@"^-?[0-9]+$")]
    private static partial Regex IntegerText();

    [GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?$")]
    private static partial Regex DecimalText();

    [GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex DoubleText();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    private static partial Regex DateText();

    [GeneratedRegex(@"^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?$")]
    private static partial Regex TimestampText();

    [GeneratedRegex(@"^[0-9a-fA-F]*$")]
    private static partial Regex HexText();
}
