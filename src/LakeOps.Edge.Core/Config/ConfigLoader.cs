using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// Reads a YAML config into an <see cref="EdgeConfig"/> snapshot: parse, substitute ${VAR}, bind, validate.
/// Every error is collected with its YAML path and line; a snapshot is produced only when there are none.
/// </summary>
/// <remarks>Uses YamlDotNet's representation model and binds by hand, so it is trim- and AOT-safe.</remarks>
public static class ConfigLoader
{
    /// <summary>Loads <paramref name="path"/>, substituting from the process environment.</summary>
    public static ConfigLoadResult LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            if (Directory.Exists(path))
            {
                return Failed($"config file '{path}' is a directory");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Failed($"config file '{path}' does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            return Failed($"config file '{path}' is not readable (permission denied)");
        }
        catch (IOException ex)
        {
            return Failed($"config file '{path}' could not be read: {ex.Message}");
        }

        return Load(text, path, Environment.GetEnvironmentVariable);
    }

    /// <summary>
    /// Loads YAML text. <paramref name="sourcePath"/> (may be null) names the file in the snapshot, and relative
    /// paths inside the config (TLS files, DuckDB files) are resolved against its directory, else the current one.
    /// </summary>
    public static ConfigLoadResult Load(string yamlText, string? sourcePath, Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);

        var errors = new List<ConfigError>();
        YamlMappingNode? root = Parse(yamlText, errors);
        if (root is null)
        {
            return new ConfigLoadResult(null, errors);
        }

        string baseDirectory = sourcePath is null
            ? Directory.GetCurrentDirectory()
            : Path.GetDirectoryName(Path.GetFullPath(sourcePath)) ?? Directory.GetCurrentDirectory();
        EdgeConfig config = new ConfigBinder(errors, getEnvironmentVariable, baseDirectory).Bind(root, sourcePath, ContentHash(yamlText));
        return new ConfigLoadResult(config, SortByLine(errors));
    }

    /// <summary>The first 12 hex digits of the SHA-256 of the text: enough to tell revisions apart in a log line.</summary>
    public static string ContentHash(string yamlText)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(yamlText), hash);
        return Convert.ToHexStringLower(hash[..6]);
    }

    private static YamlMappingNode? Parse(string yamlText, List<ConfigError> errors)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yamlText));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            // YamlDotNet wraps some errors (e.g. duplicate keys) around the position-carrying inner exception.
            YamlException located = ex.InnerException as YamlException ?? ex;
            int line = located.Start.Line > 0 ? (int)Math.Min(located.Start.Line, int.MaxValue) : 0;
            errors.Add(new ConfigError(string.Empty, $"YAML syntax error: {located.Message}", line));
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet can fail outside its own exception type on some malformed input; bad input must not crash.
            int line = parser.Current is { } current && current.Start.Line > 0 ? (int)Math.Min(current.Start.Line, int.MaxValue) : 0;
            errors.Add(new ConfigError(string.Empty, "YAML syntax error: malformed YAML at or after this line (check brackets, braces and quotes)", line));
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            errors.Add(new ConfigError(string.Empty, "the config is empty; expected a mapping with listeners, clusters, groups and routing"));
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            errors.Add(new ConfigError(string.Empty, "expected one YAML document, found several ('---' separators)", YamlBinder.LineOf(stream.Documents[1].RootNode)));
            return null;
        }

        YamlNode rootNode = stream.Documents[0].RootNode;
        if (rootNode is not YamlMappingNode mapping)
        {
            errors.Add(new ConfigError(string.Empty, $"expected a mapping with listeners, clusters, groups and routing, found {YamlBinder.Describe(rootNode)}", YamlBinder.LineOf(rootNode)));
            return null;
        }

        return mapping;
    }

    /// <summary>Errors in file order (stable, so errors on the same line keep the order they were found).</summary>
    private static List<ConfigError> SortByLine(List<ConfigError> errors)
    {
        var indexed = new List<(ConfigError Error, int Index)>(errors.Count);
        for (int i = 0; i < errors.Count; i++)
        {
            indexed.Add((errors[i], i));
        }

        indexed.Sort(static (a, b) => a.Error.Line != b.Error.Line ? a.Error.Line.CompareTo(b.Error.Line) : a.Index.CompareTo(b.Index));
        var sorted = new List<ConfigError>(errors.Count);
        foreach ((ConfigError error, _) in indexed)
        {
            sorted.Add(error);
        }

        return sorted;
    }

    private static ConfigLoadResult Failed(string message) => new(null, [new ConfigError(string.Empty, message)]);
}
