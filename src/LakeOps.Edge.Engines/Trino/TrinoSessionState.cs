using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LakeOps.Edge.Core.Config;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// The client-side session of Trino's protocol: Trino keeps no session between queries, the client sends
/// catalog, schema, session properties, prepared statements and the transaction id with every query, and
/// the coordinator tells it what changed in response headers (X-Trino-Set-Catalog, -Set-Session,
/// -Added-Prepare, -Started-Transaction-Id, ...). One per engine session; not thread-safe.
/// </summary>
internal sealed class TrinoSessionState
{
    private readonly Dictionary<string, string> _properties = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _prepared = new(StringComparer.Ordinal);

    public TrinoSessionState(TrinoEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Catalog = options.Catalog;
        Schema = options.Schema;
        foreach (KeyValuePair<string, string> property in options.SessionProperties)
        {
            _properties[property.Key] = property.Value;
        }
    }

    public string? Catalog { get; private set; }

    public string? Schema { get; private set; }

    public string? Path { get; private set; }

    public string TimeZone { get; private set; } = "UTC";

    /// <summary>The open transaction's id, or null outside a transaction.</summary>
    public string? TransactionId { get; private set; }

    public IReadOnlyDictionary<string, string> Properties => _properties;

    /// <summary>Prepared statements by name (the SQL text), sent back with every query.</summary>
    public IReadOnlyDictionary<string, string> PreparedStatements => _prepared;

    /// <summary>Adds this session's headers to a statement request; <paramref name="extraPrepared"/> is one more prepared statement for this request only.</summary>
    public void WriteTo(HttpRequestHeaders headers, KeyValuePair<string, string>? extraPrepared = null)
    {
        if (Catalog is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Catalog", Catalog);
        }

        if (Schema is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Schema", Schema);
        }

        if (Path is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Path", Path);
        }

        headers.TryAddWithoutValidation("X-Trino-Time-Zone", TimeZone);
        headers.TryAddWithoutValidation("X-Trino-Transaction-Id", TransactionId ?? "NONE");
        if (_properties.Count > 0)
        {
            headers.TryAddWithoutValidation("X-Trino-Session", Join(_properties, null));
        }

        if (_prepared.Count > 0 || extraPrepared is not null)
        {
            headers.TryAddWithoutValidation("X-Trino-Prepared-Statement", Join(_prepared, extraPrepared));
        }
    }

    /// <summary>Applies the session changes a response announces.</summary>
    public void Apply(HttpResponseHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (KeyValuePair<string, IEnumerable<string>> header in headers)
        {
            string name = header.Key;
            if (!name.StartsWith("X-Trino-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (string value in header.Value)
            {
                Apply(name.AsSpan(8), value);
            }
        }
    }

    private void Apply(ReadOnlySpan<char> name, string value)
    {
        if (name.Equals("Set-Catalog", StringComparison.OrdinalIgnoreCase))
        {
            Catalog = value;
        }
        else if (name.Equals("Set-Schema", StringComparison.OrdinalIgnoreCase))
        {
            Schema = value;
        }
        else if (name.Equals("Set-Path", StringComparison.OrdinalIgnoreCase))
        {
            Path = value;
        }
        else if (name.Equals("Set-Time-Zone", StringComparison.OrdinalIgnoreCase))
        {
            TimeZone = value;
        }
        else if (name.Equals("Set-Session", StringComparison.OrdinalIgnoreCase) && Split(value) is (string key, string setting))
        {
            _properties[key] = setting;
        }
        else if (name.Equals("Clear-Session", StringComparison.OrdinalIgnoreCase))
        {
            _properties.Remove(value.Trim());
        }
        else if (name.Equals("Added-Prepare", StringComparison.OrdinalIgnoreCase) && Split(value) is (string statement, string sql))
        {
            _prepared[statement] = sql;
        }
        else if (name.Equals("Deallocated-Prepare", StringComparison.OrdinalIgnoreCase))
        {
            _prepared.Remove(WebUtility.UrlDecode(value.Trim()));
        }
        else if (name.Equals("Started-Transaction-Id", StringComparison.OrdinalIgnoreCase))
        {
            TransactionId = value.Trim();
        }
        else if (name.Equals("Clear-Transaction-Id", StringComparison.OrdinalIgnoreCase))
        {
            TransactionId = null;
        }
    }

    /// <summary>"name=url-encoded value" as Trino writes Set-Session and Added-Prepare.</summary>
    private static (string, string)? Split(string value)
    {
        int equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return null;
        }

        return (WebUtility.UrlDecode(value[..equals].Trim()), WebUtility.UrlDecode(value[(equals + 1)..]));
    }

    private static string Join(Dictionary<string, string> entries, KeyValuePair<string, string>? extra)
    {
        var text = new StringBuilder();
        foreach (KeyValuePair<string, string> entry in entries)
        {
            Append(text, entry.Key, entry.Value);
        }

        if (extra is { } one)
        {
            Append(text, one.Key, one.Value);
        }

        return text.ToString();

        static void Append(StringBuilder text, string key, string value)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
