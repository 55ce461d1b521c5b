using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LakeOps.Edge.Core.Config;

/// <summary>Parses one scalar into a typed value; on failure <c>error</c> says what was expected.</summary>
internal delegate bool ValueParser<T>(string text, out T value, out string? error);

/// <summary>Parsers for the scalar types of the config file (durations, sizes, addresses, enums, names).</summary>
internal static class ConfigValues
{
    /// <summary>Longest accepted duration: timers take at most int.MaxValue milliseconds (~24.8 days).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(24);

    private const string DurationHint = "use a whole number with a unit: 250ms, 10s, 5m, 1h, 1d (a plain number means seconds)";
    private const string SizeHint = "use a whole number with a unit: 512KiB, 64MiB, 1GiB, 64MB (a plain number means bytes)";

    /// <summary>"250ms", "10s", "5m", "1h", "1d", "0"; a plain integer means seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value, out string? error)
    {
        value = TimeSpan.Zero;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.StartsWith('-'))
        {
            error = $"duration '{text}' must not be negative";
            return false;
        }

        int digits = CountDigits(s);
        ReadOnlySpan<char> unit = s[digits..].TrimStart(' ');
        long perUnitMs = unit switch
        {
            "" or "s" => 1000,
            "ms" => 1,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => -1,
        };
        if (digits == 0 || perUnitMs < 0)
        {
            error = $"'{text}' is not a duration; {DurationHint}";
            return false;
        }

        if (!long.TryParse(s[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long amount)
            || amount > MaxDuration.TotalMilliseconds / perUnitMs)
        {
            error = $"duration '{text}' is too long (at most 24d)";
            return false;
        }

        value = TimeSpan.FromMilliseconds(amount * perUnitMs);
        error = null;
        return true;
    }

    /// <summary>"64MiB", "512KiB", "1GiB" (binary), "64MB", "1GB" (decimal), "1024" (bytes).</summary>
    public static bool TryParseSize(string text, out long value, out string? error)
    {
        value = 0;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.StartsWith('-'))
        {
            error = $"size '{text}' must not be negative";
            return false;
        }

        int digits = CountDigits(s);
        ReadOnlySpan<char> unit = s[digits..].TrimStart(' ');
        long multiplier = unit switch
        {
            "" or "B" => 1,
            "KB" => 1000,
            "MB" => 1000 * 1000,
            "GB" => 1000 * 1000 * 1000,
            "TB" => 1000L * 1000 * 1000 * 1000,
            "KiB" => 1L << 10,
            "MiB" => 1L << 20,
            "GiB" => 1L << 30,
            "TiB" => 1L << 40,
            _ => -1,
        };
        if (digits == 0 || multiplier < 0)
        {
            error = $"'{text}' is not a size; {SizeHint}";
            return false;
        }

        if (!long.TryParse(s[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long amount)
            || amount > long.MaxValue / multiplier)
        {
            error = $"size '{text}' is too large";
            return false;
        }

        value = amount * multiplier;
        error = null;
        return true;
    }

    public static bool TryParseBool(string text, out bool value, out string? error)
    {
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
        }
        else if (text.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            value = false;
        }
        else
        {
            value = false;
            error = $"'{text}' is not a boolean; use true or false";
            return false;
        }

        error = null;
        return true;
    }

    public static bool TryParseInt(string text, out int value, out string? error)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            error = null;
            return true;
        }

        error = CountDigits(s.TrimStart('-')) == s.TrimStart('-').Length && s.Length > 0
            ? $"'{text}' is out of range"
            : $"'{text}' is not a whole number";
        return false;
    }

    /// <summary>
    /// "host:port" or "[v6]:port". The host must be an IP address or "localhost" (127.0.0.1): a listener
    /// binds to an address, and resolving names at load time would make the config depend on DNS.
    /// </summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint? value, out string? error)
    {
        value = null;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (s.StartsWith('['))
        {
            int close = s.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{text}' is not an address; write [IPv6]:port, e.g. [::1]:15432";
                return false;
            }

            host = s[1..close];
            port = s[(close + 2)..];
        }
        else
        {
            int colon = s.LastIndexOf(':');
            if (colon < 0)
            {
                error = $"'{text}' has no port; write host:port, e.g. 127.0.0.1:15432";
                return false;
            }

            host = s[..colon];
            port = s[(colon + 1)..];
            if (host.Contains(':'))
            {
                error = $"'{text}': write IPv6 addresses in brackets, e.g. [::1]:15432";
                return false;
            }
        }

        IPAddress? address;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address)
            || (address.AddressFamily == AddressFamily.InterNetwork && host.Count('.') != 3)
            || (address.AddressFamily == AddressFamily.InterNetworkV6) != s.StartsWith('['))
        {
            // IPAddress.TryParse also takes shorthands like "127.1"; only the usual dotted quad is accepted.
            error = $"'{host}' is not an IP address; use an IPv4 address (e.g. 0.0.0.0, 127.0.0.1), [IPv6] or 'localhost'";
            return false;
        }

        if (port.IsEmpty || CountDigits(port) != port.Length
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int portNumber)
            || portNumber is < 1 or > 65535)
        {
            error = $"port '{port}' must be a number from 1 to 65535";
            return false;
        }

        value = new IPEndPoint(address, portNumber);
        error = null;
        return true;
    }

    /// <summary>127.0.0.0/8 and ::1 (also as IPv4-mapped IPv6).</summary>
    public static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    public static bool TryParseProtocol(string text, out ListenerProtocol value, out string? error) =>
        TryParseKeyword(text, out value, out error, "protocol", ("postgres", ListenerProtocol.Postgres), ("mysql", ListenerProtocol.MySql), ("trino", ListenerProtocol.Trino));

    public static bool TryParseAuth(string text, out AuthMethod value, out string? error) =>
        TryParseKeyword(
            text,
            out value,
            out error,
            "auth method",
            ("trust", AuthMethod.Trust),
            ("cleartext", AuthMethod.Cleartext),
            ("md5", AuthMethod.Md5),
            ("scram-sha-256", AuthMethod.ScramSha256),
            ("mysql_native_password", AuthMethod.MySqlNativePassword),
            ("caching_sha2_password", AuthMethod.CachingSha2Password),
            ("password", AuthMethod.Password));

    public static bool TryParseBalancing(string text, out BalancingStrategy value, out string? error) =>
        TryParseKeyword(
            text,
            out value,
            out error,
            "balancing",
            ("round_robin", BalancingStrategy.RoundRobin),
            ("weighted", BalancingStrategy.Weighted),
            ("least_loaded", BalancingStrategy.LeastLoaded),
            ("latency_aware", BalancingStrategy.LatencyAware),
            ("failover", BalancingStrategy.Failover));

    public static bool TryParseClusterState(string text, out ClusterAdminState value, out string? error) =>
        TryParseKeyword(text, out value, out error, "cluster state", ("enabled", ClusterAdminState.Enabled), ("draining", ClusterAdminState.Draining), ("disabled", ClusterAdminState.Disabled));

    public static bool TryParseEngine(string text, out EngineKind value, out string? error) =>
        TryParseKeyword(text, out value, out error, "engine", ("duckdb", EngineKind.DuckDb), ("postgres", EngineKind.Postgres), ("mysql", EngineKind.MySql), ("trino", EngineKind.Trino));

    /// <summary>server.log_level: the same words as the --log-level option.</summary>
    public static bool TryParseLogLevel(string text, out Diagnostics.LogLevel? value, out string? error)
    {
        if (Diagnostics.LogLevels.TryParse(text, out Diagnostics.LogLevel level))
        {
            value = level;
            error = null;
            return true;
        }

        value = null;
        error = $"unknown log level '{text}' (expected one of: {Diagnostics.LogLevels.Expected})";
        return false;
    }

    public static bool TryParseEngineTls(string text, out EngineTlsMode value, out string? error) =>
        TryParseKeyword(
            text,
            out value,
            out error,
            "tls mode",
            ("disable", EngineTlsMode.Disable),
            ("prefer", EngineTlsMode.Prefer),
            ("require", EngineTlsMode.Require),
            ("verify-full", EngineTlsMode.VerifyFull));

    /// <summary>The config spelling of an auth method (for messages).</summary>
    public static string Name(AuthMethod method) => method switch
    {
        AuthMethod.Trust => "trust",
        AuthMethod.Cleartext => "cleartext",
        AuthMethod.Md5 => "md5",
        AuthMethod.MySqlNativePassword => "mysql_native_password",
        AuthMethod.CachingSha2Password => "caching_sha2_password",
        AuthMethod.Password => "password",
        _ => "scram-sha-256",
    };

    /// <summary>Names of listeners, users, clusters and groups: [A-Za-z0-9_.-]+.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseKeyword<T>(string text, out T value, out string? error, string what, params ReadOnlySpan<(string Name, T Value)> choices)
    {
        foreach ((string name, T choice) in choices)
        {
            if (text == name)
            {
                value = choice;
                error = null;
                return true;
            }
        }

        var names = new string[choices.Length];
        for (int i = 0; i < choices.Length; i++)
        {
            names[i] = choices[i].Name;
        }

        value = default!;
        error = $"unknown {what} '{text}' (expected one of: {string.Join(", ", names)})";
        return false;
    }

    private static int CountDigits(ReadOnlySpan<char> s)
    {
        int i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        return i;
    }
}
