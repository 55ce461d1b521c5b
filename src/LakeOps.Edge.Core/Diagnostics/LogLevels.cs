namespace LakeOps.Edge.Core.Diagnostics;

/// <summary>
/// The words operators write for a log level: --log-level, server.log_level and the reload's "log level" line.
/// (Log lines themselves use four-letter tags, see <see cref="Log.Format"/>.)
/// </summary>
public static class LogLevels
{
    private static readonly (string Word, LogLevel Level)[] Words =
    [
        ("debug", LogLevel.Debug),
        ("info", LogLevel.Information),
        ("warn", LogLevel.Warning),
        ("error", LogLevel.Error),
    ];

    /// <summary>The accepted words, for error messages: "debug, info, warn, error".</summary>
    public static string Expected { get; } = string.Join(", ", Array.ConvertAll(Words, static w => w.Word));

    /// <summary>Exact, case-sensitive match, like every other config keyword.</summary>
    public static bool TryParse(string text, out LogLevel level)
    {
        foreach ((string word, LogLevel value) in Words)
        {
            if (text == word)
            {
                level = value;
                return true;
            }
        }

        level = default;
        return false;
    }

    /// <summary>The word <see cref="TryParse"/> reads back as <paramref name="level"/>.</summary>
    public static string Name(LogLevel level)
    {
        foreach ((string word, LogLevel value) in Words)
        {
            if (value == level)
            {
                return word;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(level), level, "unknown log level");
    }
}
