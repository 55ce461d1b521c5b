using System.Text;

namespace LakeOps.Edge.Core.Config;

/// <summary>
/// <c>${VAR}</c> and <c>${VAR:-default}</c> inside scalar values; <c>$${</c> is a literal <c>${</c>.
/// It runs on parsed scalars, so a substituted value can never change the YAML structure.
/// </summary>
internal static class EnvSubstitution
{
    /// <summary>Returns the substituted text, or null with <paramref name="error"/> set.</summary>
    public static string? Substitute(string text, Func<string, string?> getEnvironmentVariable, out string? error)
    {
        error = null;
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '$')
            {
                result.Append(c);
                i++;
                continue;
            }

            if (text.AsSpan(i).StartsWith("$${", StringComparison.Ordinal))
            {
                result.Append("${");
                i += 3;
                continue;
            }

            if (i + 1 >= text.Length || text[i + 1] != '{')
            {
                // A '$' not followed by '{' is ordinary text (e.g. inside a SCRAM verifier).
                result.Append(c);
                i++;
                continue;
            }

            int close = text.IndexOf('}', i + 2);
            if (close < 0)
            {
                error = "unterminated '${' (write '$${' for a literal '${')";
                return null;
            }

            ReadOnlySpan<char> body = text.AsSpan(i + 2, close - i - 2);
            int defaultAt = body.IndexOf(":-", StringComparison.Ordinal);
            ReadOnlySpan<char> name = defaultAt < 0 ? body : body[..defaultAt];
            if (!IsVariableName(name))
            {
                error = $"'${{{body}}}' is not a valid substitution; use ${{NAME}} or ${{NAME:-default}} where NAME is letters, digits and '_'";
                return null;
            }

            string variable = name.ToString();
            string? value = getEnvironmentVariable(variable);

            // Shell semantics: ':-' uses the default when the variable is unset or empty.
            if (string.IsNullOrEmpty(value) && defaultAt >= 0)
            {
                value = body[(defaultAt + 2)..].ToString();
            }
            else if (value is null)
            {
                error = $"environment variable '{variable}' is not set (use ${{{variable}:-default}} to give a default)";
                return null;
            }

            result.Append(value);
            i = close + 1;
        }

        return result.ToString();
    }

    private static bool IsVariableName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
