using System.Globalization;
using LakeOps.Edge.Core.Engines;

namespace LakeOps.Edge.Frontends.Postgres;

/// <summary>
/// The PostgreSQL run-time parameters that the gateway itself owns for a session: those that
/// describe the wire format (encoding, DateStyle, TimeZone of timestamptz output...) and those
/// clients set for themselves (application_name). SET/SHOW/RESET of these never reach the engine;
/// everything else is passed through.
/// </summary>
internal sealed class PgSessionParameters
{
    /// <summary>Parameters PostgreSQL reports with ParameterStatus (GUC_REPORT), in startup order.</summary>
    private static readonly string[] Reported =
    [
        "application_name", "client_encoding", "DateStyle", "integer_datetimes", "IntervalStyle",
        "is_superuser", "server_encoding", "server_version", "session_authorization",
        "standard_conforming_strings", "TimeZone",
    ];

    /// <summary>Every parameter the gateway owns, with PostgreSQL's casing; the arrays below are indexed alike.</summary>
    private static readonly string[] Names =
    [
        "application_name", "client_encoding", "DateStyle", "integer_datetimes", "IntervalStyle",
        "is_superuser", "server_encoding", "server_version", "session_authorization",
        "standard_conforming_strings", "TimeZone", "extra_float_digits", "client_min_messages",
        "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "bytea_output",
        "default_transaction_isolation", "transaction_isolation", "edge.tags",
    ];

    /// <summary>Defaults; application_name, server_version and session_authorization come per session.</summary>
    private static readonly string[] Defaults =
    [
        "", "UTF8", "ISO, MDY", "on", "postgres",
        "off", "UTF8", "", "",
        "on", "UTC", "1", "notice",
        "0", "0", "0", "hex",
        "serializable", "serializable", "",
    ];

    private static readonly Dictionary<string, int> IndexOf = CreateIndex();

    // Two small arrays, not dictionaries: thousands of idle sessions each carry them.
    private readonly string[] _startup = (string[])Defaults.Clone();
    private readonly string[] _values = new string[Names.Length];
    private string? _zoneName;
    private TimeZoneInfo? _zone;

    public PgSessionParameters(string serverVersion, string user, string applicationName)
    {
        _startup[IndexOf["application_name"]] = applicationName;
        _startup[IndexOf["server_version"]] = serverVersion;
        _startup[IndexOf["session_authorization"]] = user;
        ResetAll();
    }

    public static IReadOnlyList<string> ReportedNames => Reported;

    public string this[string name] => _values[IndexOf[name]];

    public static bool IsReported(string name) => Array.Exists(Reported, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the gateway owns this parameter (SET/SHOW handled here, not by the engine).</summary>
    public bool Owns(string name) => IndexOf.ContainsKey(name);

    public bool TryGet(string name, out string value)
    {
        if (IndexOf.TryGetValue(name, out int index))
        {
            value = _values[index];
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>Applies a startup-packet parameter; unknown ones are ignored like PostgreSQL's "options".</summary>
    public string? ApplyStartup(string name, string value)
    {
        if (!IndexOf.TryGetValue(name, out int index) || index == IndexOf["server_version"])
        {
            return null;
        }

        string? error = Validate(name, value, out string normalized);
        if (error is null)
        {
            _startup[index] = normalized;
            _values[index] = normalized;
        }

        return error;
    }

    /// <summary>Sets a parameter; returns an error message (SQLSTATE in <paramref name="sqlState"/>) when the value is not supported.</summary>
    public string? Set(string name, string? value, out string sqlState)
    {
        sqlState = SqlStates.SuccessfulCompletion;
        string canonical = CanonicalName(name);
        if (canonical is "server_version" or "server_encoding" or "integer_datetimes" or "is_superuser" or "session_authorization")
        {
            sqlState = "55P02";
            return $"parameter \"{name}\" cannot be changed";
        }

        if (!IndexOf.TryGetValue(canonical, out int index))
        {
            // Only owned parameters reach here (see Owns); anything else is the engine's.
            sqlState = SqlStates.UndefinedObject;
            return $"unrecognized configuration parameter \"{name}\"";
        }

        if (value is null)
        {
            _values[index] = _startup[index];
            return null;
        }

        string? error = Validate(canonical, value, out string normalized);
        if (error is not null)
        {
            sqlState = SqlStates.FeatureNotSupported;
            return error;
        }

        _values[index] = normalized;
        return null;
    }

    public void ResetAll() => _startup.CopyTo(_values, 0);

    /// <summary>The stored name for a parameter (DateStyle keeps PostgreSQL's casing).</summary>
    public string CanonicalName(string name) => IndexOf.TryGetValue(name, out int index) ? Names[index] : name.ToLowerInvariant();

    private static Dictionary<string, int> CreateIndex()
    {
        var index = new Dictionary<string, int>(Names.Length, StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < Names.Length; i++)
        {
            index[Names[i]] = i;
        }

        return index;
    }

    /// <summary>The session TimeZone for timestamptz output; null when it is UTC.</summary>
    public TimeZoneInfo? OutputZone
    {
        get
        {
            string name = this["TimeZone"];
            if (name == "UTC")
            {
                return null;
            }

            if (!ReferenceEquals(name, _zoneName))
            {
                _zone = FindZone(name);
                _zoneName = name;
            }

            return _zone;
        }
    }

    private static TimeZoneInfo? FindZone(string name) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(name, out TimeZoneInfo? zone) ? zone : null;

    /// <summary>Statement timeout in milliseconds (0 = none), parsed from the PostgreSQL value syntax.</summary>
    public int StatementTimeoutMilliseconds => ParseMilliseconds(this["statement_timeout"]);

    internal static int ParseMilliseconds(string value)
    {
        ReadOnlySpan<char> text = value.AsSpan().Trim();
        int unitStart = 0;
        while (unitStart < text.Length && (char.IsAsciiDigit(text[unitStart]) || text[unitStart] == '.'))
        {
            unitStart++;
        }

        if (!double.TryParse(text[..unitStart], NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            return -1;
        }

        double factor = text[unitStart..].Trim().ToString().ToLowerInvariant() switch
        {
            "" or "ms" => 1,
            "s" => 1000,
            "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "us" => 0.001,
            _ => -1,
        };
        return factor < 0 ? -1 : (int)Math.Min(int.MaxValue, number * factor);
    }

    private static string? Validate(string name, string value, out string normalized)
    {
        normalized = value;
        switch (name.ToLowerInvariant())
        {
            case "client_encoding":
                return IsOneOf(value, "UTF8", "UTF-8", "UNICODE") ? Accept("UTF8", out normalized)
                    : $"client_encoding \"{value}\" is not supported: LakeOps Edge speaks UTF8 only";
            case "datestyle":
                // The order part only matters for input; output stays ISO.
                return !value.Contains("ISO", StringComparison.OrdinalIgnoreCase) ? $"DateStyle \"{value}\" is not supported: LakeOps Edge sends dates in ISO format"
                    : value.Contains("DMY", StringComparison.OrdinalIgnoreCase) ? Accept("ISO, DMY", out normalized)
                    : value.Contains("YMD", StringComparison.OrdinalIgnoreCase) ? Accept("ISO, YMD", out normalized)
                    : Accept("ISO, MDY", out normalized);
            case "intervalstyle":
                return IsOneOf(value, "postgres") ? Accept("postgres", out normalized)
                    : $"IntervalStyle \"{value}\" is not supported: LakeOps Edge sends intervals in postgres style";
            case "timezone":
                string zone = value.Trim();
                return IsOneOf(zone, "UTC", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Zulu", "Z", "0", "+0", "-0", "+00") ? Accept("UTC", out normalized)
                    : IsOneOf(zone, "localtime") ? Accept(TimeZoneInfo.Local.Id, out normalized)
                    : FindZone(zone) is not null ? Accept(zone, out normalized)
                    : $"invalid value for parameter \"TimeZone\": \"{value}\" (use an IANA zone name such as UTC or Europe/Berlin)";
            case "standard_conforming_strings":
                return IsOneOf(value, "on", "true") ? Accept("on", out normalized) : "standard_conforming_strings must be on";
            case "bytea_output":
                return IsOneOf(value, "hex") ? Accept("hex", out normalized)
                    : $"bytea_output \"{value}\" is not supported: LakeOps Edge sends bytea in hex";
            case "statement_timeout":
            case "lock_timeout":
            case "idle_in_transaction_session_timeout":
                return ParseMilliseconds(value) < 0 ? $"invalid value for parameter \"{name}\": \"{value}\"" : null;
            default:
                return null;
        }
    }

    private static bool IsOneOf(string value, params ReadOnlySpan<string> accepted)
    {
        foreach (string candidate in accepted)
        {
            if (value.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Accepts a value, storing it in its canonical spelling.</summary>
    private static string? Accept(string canonical, out string normalized)
    {
        normalized = canonical;
        return null;
    }
}
