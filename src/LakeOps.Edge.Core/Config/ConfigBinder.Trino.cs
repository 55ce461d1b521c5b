using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>Binding of <c>clusters.X.trino</c> (engine trino).</summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] TrinoKeys =
    [
        "host", "port", "tls", "ca_file", "user", "password", "access_token", "forward_user", "catalog", "schema", "source",
        "client_tags", "session_properties", "forward_headers", "request_timeout", "batch_rows",
    ];

    /// <summary>The trino section for engine trino (required there), and an error when it appears under another engine.</summary>
    private TrinoEngineOptions? BindTrinoSection(YamlMappingNode cluster, string clusterPath, EngineKind engine)
    {
        const string key = "trino";
        string path = YamlBinder.Join(clusterPath, key);
        YamlNode? node = YamlBinder.Get(cluster, key);
        if (engine != EngineKind.Trino)
        {
            if (node is not null)
            {
                _y.Error(path, "section 'trino' belongs to engine 'trino', but this cluster's engine is not 'trino'", node);
            }

            return null;
        }

        int errorsBefore = _y.ErrorCount;
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (map is null)
        {
            if (_y.ErrorCount == errorsBefore)
            {
                _y.Error(clusterPath, "engine 'trino' needs a 'trino' section with at least 'host'", node ?? cluster);
            }

            return null;
        }

        _y.CheckKeys(map, path, TrinoKeys);
        EngineTlsMode tls = _y.Optional(map, "tls", path, EngineTlsMode.Disable, ConfigValues.TryParseEngineTls);
        if (tls == EngineTlsMode.Prefer)
        {
            // HTTP has no in-band upgrade to fall back from: the URL scheme decides.
            _y.Error(YamlBinder.Join(path, "tls"), "tls 'prefer' does not exist for trino (use disable, require or verify-full)", YamlBinder.Get(map, "tls"));
        }

        var defaults = new TrinoEngineOptions { Host = string.Empty, Port = 0 };
        return new TrinoEngineOptions
        {
            Host = _y.Required(map, "host", path, string.Empty, static (string text, out string value, out string? error) =>
            {
                value = text.Trim();
                error = value.Length == 0 || value.Contains('/', StringComparison.Ordinal) ? "must be a host name or address (no scheme or path)" : null;
                return error is null;
            }),
            Port = _y.Int(map, "port", path, tls == EngineTlsMode.Disable ? 8080 : 443, 1, 65535),
            Tls = tls,
            CaFile = _y.Optional<string?>(map, "ca_file", path, null, ReadableFile),
            User = _y.Optional(map, "user", path, defaults.User, NonEmptyHeaderValue),
            Password = _y.Optional<string?>(map, "password", path, null, static (string text, out string? value, out string? error) =>
            {
                value = text;
                error = null;
                return true;
            }),
            AccessToken = _y.Optional<string?>(map, "access_token", path, null, static (string text, out string? value, out string? error) =>
            {
                value = text.Trim();
                error = value.Contains('\n', StringComparison.Ordinal) ? "must be one line" : null;
                return error is null;
            }),
            ForwardUser = _y.Optional(map, "forward_user", path, false, ConfigValues.TryParseBool),
            Catalog = _y.Optional<string?>(map, "catalog", path, null, OptionalHeaderValue),
            Schema = _y.Optional<string?>(map, "schema", path, null, OptionalHeaderValue),
            Source = _y.Optional(map, "source", path, defaults.Source, NonEmptyHeaderValue),
            ClientTags = StringList(YamlBinder.Get(map, "client_tags"), YamlBinder.Join(path, "client_tags"), static (string value, out string? error) =>
            {
                error = value.Contains(',', StringComparison.Ordinal) ? "a client tag must not contain ','" : null;
                return error is null;
            }) ?? [],
            SessionProperties = BindSessionProperties(map, path),
            ForwardHeaders = StringList(YamlBinder.Get(map, "forward_headers"), YamlBinder.Join(path, "forward_headers"), static (string value, out string? error) =>
            {
                error = value.StartsWith("X-Trino-", StringComparison.OrdinalIgnoreCase) || value.StartsWith("X-Presto-", StringComparison.OrdinalIgnoreCase)
                    ? value.Equals("X-Trino-User", StringComparison.OrdinalIgnoreCase) || value.Equals("X-Trino-Extra-Credential", StringComparison.OrdinalIgnoreCase)
                        ? $"'{value}' is decided by the cluster config (user, forward_user), not forwarded"
                        : null
                    : $"'{value}' is not a Trino request header (X-Trino-...)";
                return error is null;
            }) ?? defaults.ForwardHeaders,
            RequestTimeout = _y.Optional(map, "request_timeout", path, defaults.RequestTimeout, TryParsePositiveDuration),
            BatchRows = _y.Int(map, "batch_rows", path, defaults.BatchRows, 1, 1_000_000),
        };
    }

    private IReadOnlyList<KeyValuePair<string, string>> BindSessionProperties(YamlMappingNode trino, string trinoPath)
    {
        string path = YamlBinder.Join(trinoPath, "session_properties");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(trino, "session_properties"), path);
        if (map is null)
        {
            return [];
        }

        var properties = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is not YamlScalarNode { Value: { Length: > 0 } name } || !IsSessionPropertyName(name))
            {
                _y.Error(path, $"session property names are words like 'query_max_run_time' or 'hive.insert_existing_partitions_behavior', found {YamlBinder.Describe(pair.Key)}", pair.Key);
                continue;
            }

            string at = YamlBinder.Join(path, name);
            if (_y.TryText(pair.Value, at, out string? value))
            {
                if (value is null || value.Contains('\n', StringComparison.Ordinal))
                {
                    _y.Error(at, "needs a one-line value", pair.Value);
                }
                else
                {
                    properties.Add(new KeyValuePair<string, string>(name, value));
                }
            }
        }

        return properties.AsReadOnly();
    }

    private static bool IsSessionPropertyName(string name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '.')
            {
                return false;
            }
        }

        return true;
    }

    private static bool NonEmptyHeaderValue(string text, out string value, out string? error)
    {
        value = text.Trim();
        error = value.Length == 0 ? "must not be empty"
            : value.AsSpan().IndexOfAny('\r', '\n') >= 0 ? "must be one line"
            : null;
        return error is null;
    }

    private static bool OptionalHeaderValue(string text, out string? value, out string? error)
    {
        bool ok = NonEmptyHeaderValue(text, out string trimmed, out error);
        value = trimmed;
        return ok;
    }
}
