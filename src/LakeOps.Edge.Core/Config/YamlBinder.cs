using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// Reads values out of YamlDotNet's representation model by hand (no reflection, so AOT-safe) and records
/// every problem with its YAML path and line instead of stopping at the first.
/// </summary>
internal sealed class YamlBinder(List<ConfigError> errors, Func<string, string?> getEnvironmentVariable)
{
    public int ErrorCount => errors.Count;

    public static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    public void Error(string path, string message, YamlNode? at) =>
        errors.Add(new ConfigError(path, message, LineOf(at)));

    public static int LineOf(YamlNode? node) =>
        node is null || node.Start.Line <= 0 ? 0 : (int)Math.Min(node.Start.Line, int.MaxValue);

    /// <summary>Null when the node is absent or YAML null; an error when it is not a mapping.</summary>
    public YamlMappingNode? AsMapping(YamlNode? node, string path)
    {
        switch (node)
        {
            case null:
                return null;
            case YamlMappingNode mapping:
                return mapping;
            case YamlScalarNode scalar when IsNull(scalar):
                return null;
            default:
                Error(path, $"expected a mapping (key: value lines), found {Describe(node)}", node);
                return null;
        }
    }

    /// <summary>Null when the node is absent or YAML null; an error when it is not a sequence.</summary>
    public YamlSequenceNode? AsSequence(YamlNode? node, string path)
    {
        switch (node)
        {
            case null:
                return null;
            case YamlSequenceNode sequence:
                return sequence;
            case YamlScalarNode scalar when IsNull(scalar):
                return null;
            default:
                Error(path, $"expected a list, found {Describe(node)}", node);
                return null;
        }
    }

    /// <summary>Every key must be a plain string from <paramref name="allowed"/>.</summary>
    public void CheckKeys(YamlMappingNode map, string path, string[] allowed)
    {
        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is not YamlScalarNode { Value: { } key })
            {
                Error(path, $"keys must be strings, found {Describe(pair.Key)}", pair.Key);
                continue;
            }

            if (Array.IndexOf(allowed, key) < 0)
            {
                string hint = key == "password" && Array.IndexOf(allowed, "scram") >= 0
                    ? "; passwords are not stored in the config: put the output of 'lakeops-edge hash-password' under 'scram'"
                    : string.Empty;
                Error(Join(path, key), $"unknown key '{key}' (expected one of: {string.Join(", ", allowed)}){hint}", pair.Key);
            }
        }
    }

    public static YamlNode? Get(YamlMappingNode map, string key)
    {
        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is YamlScalarNode { Value: { } name } && name == key)
            {
                return pair.Value;
            }
        }

        return null;
    }

    /// <summary>
    /// The scalar's text after ${VAR} substitution; <paramref name="text"/> is null when the key is absent or
    /// YAML null. False (error recorded) when the node is not a scalar or substitution failed.
    /// </summary>
    public bool TryText(YamlNode? node, string path, out string? text)
    {
        text = null;
        if (node is null)
        {
            return true;
        }

        if (node is not YamlScalarNode scalar)
        {
            Error(path, $"expected a single value, found {Describe(node)}", node);
            return false;
        }

        if (IsNull(scalar))
        {
            return true;
        }

        text = EnvSubstitution.Substitute(scalar.Value ?? string.Empty, getEnvironmentVariable, out string? error);
        if (error is not null)
        {
            Error(path, error, node);
            return false;
        }

        return true;
    }

    /// <summary>An optional value: absent, null or empty (after substitution) means <paramref name="fallback"/>.</summary>
    public T Optional<T>(YamlMappingNode map, string key, string path, T fallback, ValueParser<T> parse)
    {
        string at = Join(path, key);
        YamlNode? node = Get(map, key);
        if (!TryText(node, at, out string? text) || string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (!parse(text, out T value, out string? error))
        {
            Error(at, error!, node);
            return fallback;
        }

        return value;
    }

    /// <summary>A required value; <paramref name="fallback"/> is returned (with an error recorded) when missing or bad.</summary>
    public T Required<T>(YamlMappingNode map, string key, string path, T fallback, ValueParser<T> parse)
    {
        string at = Join(path, key);
        YamlNode? node = Get(map, key);
        if (!TryText(node, at, out string? text))
        {
            return fallback;
        }

        if (text is null)
        {
            Error(path, $"missing required key '{key}'", node ?? map);
            return fallback;
        }

        if (text.Length == 0)
        {
            Error(at, "must not be empty", node);
            return fallback;
        }

        if (!parse(text, out T value, out string? error))
        {
            Error(at, error!, node);
            return fallback;
        }

        return value;
    }

    /// <summary>An optional integer within [min, max].</summary>
    public int Int(YamlMappingNode map, string key, string path, int fallback, int min, int max) =>
        IntOrNull(map, key, path, min, max) ?? fallback;

    public int? IntOrNull(YamlMappingNode map, string key, string path, int min, int max)
    {
        int? value = Optional<int?>(map, key, path, null, static (string text, out int? v, out string? e) =>
        {
            bool ok = ConfigValues.TryParseInt(text, out int parsed, out e);
            v = ok ? parsed : null;
            return ok;
        });
        if (value is { } v && (v < min || v > max))
        {
            Error(Join(path, key), $"{v} is out of range ({min} to {max})", Get(map, key));
            return null;
        }

        return value;
    }

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "an alias",
    };

    /// <summary>Plain empty, '~' and 'null' are YAML null; quoted "" is an empty string (treated as not set by callers).</summary>
    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style is YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
