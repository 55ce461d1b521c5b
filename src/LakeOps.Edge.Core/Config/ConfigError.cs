using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LakeOps.Edge.Core.Config;

/// <summary>One problem in a config file, located by YAML path (e.g. <c>listeners.pg.address</c>) and line (0 = unknown).</summary>
public sealed record ConfigError(string Path, string Message, int Line = 0)
{
    public override string ToString()
    {
        string located = Path.Length == 0 ? Message : $"{Path}: {Message}";
        return Line > 0 ? string.Create(CultureInfo.InvariantCulture, $"{located} (line {Line})") : located;
    }
}

/// <summary>The outcome of loading a config: a snapshot, or every error found (never both).</summary>
public sealed class ConfigLoadResult
{
    internal ConfigLoadResult(EdgeConfig? config, IReadOnlyList<ConfigError> errors)
    {
        Config = errors.Count == 0 ? config : null;
        Errors = errors;
    }

    public EdgeConfig? Config { get; }

    public IReadOnlyList<ConfigError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Config))]
    public bool Success => Config is not null;
}
