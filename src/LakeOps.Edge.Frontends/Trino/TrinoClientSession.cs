using System.Net;
using Microsoft.AspNetCore.Http;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>
/// A Trino client's session as its request headers carry it (Trino clients are stateless per request:
/// catalog, schema, session properties, prepared statements and the transaction travel in X-Trino-*
/// headers, or the legacy X-Presto-* ones). Built once per POST.
/// </summary>
internal sealed class TrinoClientSession
{
    public string? User { get; private set; }

    public string Catalog { get; private set; } = "";

    public string Schema { get; private set; } = "";

    public string Source { get; private set; } = "";

    public IReadOnlyList<string> ClientTags { get; private set; } = [];

    public string? ClientInfo { get; private set; }

    public string? TimeZone { get; private set; }

    public string? Language { get; private set; }

    public string? TraceToken { get; private set; }

    public string? TransactionId { get; private set; }

    public string? RoutingGroup { get; private set; }

    /// <summary>X-Trino-Session: name=value pairs (values URL-decoded), case-insensitive names.</summary>
    public Dictionary<string, string> Properties { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>X-Trino-Prepared-Statement: name=sql pairs (SQL URL-decoded).</summary>
    public Dictionary<string, string> PreparedStatements { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every X-Trino-* / X-Presto-* header, named the Trino way (for routing conditions and the Trino engine).</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the session from the request headers; X-Trino-* wins over X-Presto-* for the same name.</summary>
    public static TrinoClientSession FromHeaders(IHeaderDictionary headers)
    {
        var session = new TrinoClientSession();
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in headers)
        {
            string name = header.Key;
            string suffix;
            bool presto;
            if (name.StartsWith("X-Trino-", StringComparison.OrdinalIgnoreCase))
            {
                suffix = name["X-Trino-".Length..];
                presto = false;
            }
            else if (name.StartsWith("X-Presto-", StringComparison.OrdinalIgnoreCase))
            {
                suffix = name["X-Presto-".Length..];
                presto = true;
            }
            else
            {
                continue;
            }

            string trinoName = "X-Trino-" + suffix;
            if (presto && headers.ContainsKey(trinoName))
            {
                continue;
            }

            session.Apply(suffix, header.Value);
            session.Headers[trinoName] = header.Value.ToString();
        }

        return session;
    }

    private void Apply(string suffix, Microsoft.Extensions.Primitives.StringValues values)
    {
        string value = values.ToString();
        switch (suffix.ToUpperInvariant())
        {
            case "USER": User = value.Trim(); break;
            case "CATALOG": Catalog = value.Trim(); break;
            case "SCHEMA": Schema = value.Trim(); break;
            case "SOURCE": Source = value.Trim(); break;
            case "CLIENT-TAGS": ClientTags = Routing.RouteAttributes.SplitTags(value); break;
            case "CLIENT-INFO": ClientInfo = value; break;
            case "TIME-ZONE": TimeZone = value.Trim(); break;
            case "LANGUAGE": Language = value.Trim(); break;
            case "TRACE-TOKEN": TraceToken = value.Trim(); break;
            case "TRANSACTION-ID": TransactionId = string.Equals(value.Trim(), "NONE", StringComparison.OrdinalIgnoreCase) ? null : value.Trim(); break;
            case "ROUTING-GROUP": RoutingGroup = value.Trim(); break;
            case "SESSION":
                foreach (string? item in values)
                {
                    ParsePairs(item, Properties);
                }

                break;
            case "PREPARED-STATEMENT":
                foreach (string? item in values)
                {
                    ParsePairs(item, PreparedStatements);
                }

                break;
        }
    }

    /// <summary>"a=1, b=x%20y" -> {a: 1, b: "x y"}; items without '=' are ignored.</summary>
    internal static void ParsePairs(string? header, Dictionary<string, string> into)
    {
        if (string.IsNullOrEmpty(header))
        {
            return;
        }

        foreach (string item in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            into[item[..equals].Trim()] = WebUtility.UrlDecode(item[(equals + 1)..].Trim());
        }
    }
}
