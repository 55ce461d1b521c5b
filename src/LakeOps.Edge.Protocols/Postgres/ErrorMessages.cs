using System.Globalization;

namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>Severity values of ErrorResponse and NoticeResponse (the non-localized 'V' field).</summary>
public static class PgSeverity
{
    public const string Error = "ERROR";
    public const string Fatal = "FATAL";
    public const string Panic = "PANIC";
    public const string Warning = "WARNING";
    public const string Notice = "NOTICE";
    public const string Debug = "DEBUG";
    public const string Info = "INFO";
    public const string Log = "LOG";
}

/// <summary>The fields of an ErrorResponse or NoticeResponse that Edge produces and reads.</summary>
/// <param name="Severity">One of <see cref="PgSeverity"/>.</param>
/// <param name="SqlState">Five-character SQLSTATE.</param>
/// <param name="Message">Primary message, one line.</param>
/// <param name="Detail">Optional secondary message.</param>
/// <param name="Hint">Optional suggestion.</param>
/// <param name="Position">1-based character position in the query string, 0 when none.</param>
public readonly record struct PgError(string Severity, string SqlState, string Message, string? Detail = null, string? Hint = null, int Position = 0);

/// <summary>The one-byte field codes of ErrorResponse / NoticeResponse.</summary>
public static class PgErrorFields
{
    public const byte Severity = (byte)'S';
    public const byte SeverityNonLocalized = (byte)'V';
    public const byte Code = (byte)'C';
    public const byte Message = (byte)'M';
    public const byte Detail = (byte)'D';
    public const byte Hint = (byte)'H';
    public const byte Position = (byte)'P';
}

/// <summary>ErrorResponse ('E') and NoticeResponse ('N') share one body format.</summary>
public static class ErrorResponseMessage
{
    /// <summary>
    /// Reads the fields Edge models; unknown field codes are skipped, as the protocol asks clients to.
    /// Severity, code and message are required.
    /// </summary>
    public static PgError Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "ErrorResponse");
        string? severity = null, localizedSeverity = null, code = null, message = null, detail = null, hint = null;
        int position = 0;
        while (true)
        {
            byte field = reader.ReadByte();
            if (field == 0)
            {
                break;
            }

            switch (field)
            {
                case PgErrorFields.Severity:
                    localizedSeverity = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.SeverityNonLocalized:
                    severity = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.Code:
                    code = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.Message:
                    message = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.Detail:
                    detail = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.Hint:
                    hint = reader.ReadCStringAsString();
                    break;
                case PgErrorFields.Position:
                    // A bad position is not worth rejecting the whole error over.
                    if (!int.TryParse(reader.ReadCString(), NumberStyles.None, CultureInfo.InvariantCulture, out position))
                    {
                        position = 0;
                    }

                    break;
                default:
                    reader.ReadCString();
                    break;
            }
        }

        reader.End();
        severity ??= localizedSeverity; // servers before 9.6 send only the localized 'S'
        if (severity is null || code is null || message is null)
        {
            PgThrow.Malformed("ErrorResponse", "severity, code and message fields are required");
        }

        return new PgError(severity, code, message, detail, hint, position);
    }
}
