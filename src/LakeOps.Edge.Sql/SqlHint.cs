namespace LakeOps.Edge.Sql;

/// <summary>
/// The leading hint comment <c>/* edge: tags=a,b group=x */</c>: a block comment before the first
/// token of the statement whose text starts with <c>edge:</c>, then space-separated <c>key=value</c>
/// pairs. <c>tags</c> is a comma-separated list; <c>group</c> one name. Unknown keys are ignored so
/// older gateways accept newer hints.
/// </summary>
public sealed class SqlHint
{
    public static readonly SqlHint None = new([], null);

    public SqlHint(IReadOnlyList<string> tags, string? group)
    {
        Tags = tags;
        Group = group;
    }

    public IReadOnlyList<string> Tags { get; }

    public string? Group { get; }

    public bool IsEmpty => Tags.Count == 0 && Group is null;

    /// <summary>Parses one block comment token's text (with its <c>/*</c> and <c>*/</c>); null when it is not an edge hint.</summary>
    public static SqlHint? TryParse(ReadOnlySpan<char> comment)
    {
        if (!comment.StartsWith("/*", StringComparison.Ordinal))
        {
            return null;
        }

        ReadOnlySpan<char> body = comment[2..];
        if (body.EndsWith("*/", StringComparison.Ordinal))
        {
            body = body[..^2];
        }

        body = body.TrimStart();
        if (!body.StartsWith("edge:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        body = body[5..];
        List<string>? tags = null;
        string? group = null;
        while (true)
        {
            body = body.TrimStart();
            if (body.IsEmpty)
            {
                break;
            }

            int end = body.IndexOfAny(" \t\n\r");
            ReadOnlySpan<char> pair = end < 0 ? body : body[..end];
            body = end < 0 ? default : body[end..];
            int eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }

            ReadOnlySpan<char> key = pair[..eq];
            ReadOnlySpan<char> value = pair[(eq + 1)..];
            if (key.Equals("tags", StringComparison.OrdinalIgnoreCase) || key.Equals("tag", StringComparison.OrdinalIgnoreCase))
            {
                foreach (Range r in value.Split(','))
                {
                    ReadOnlySpan<char> tag = value[r].Trim();
                    if (!tag.IsEmpty)
                    {
                        (tags ??= []).Add(tag.ToString());
                    }
                }
            }
            else if (key.Equals("group", StringComparison.OrdinalIgnoreCase) && !value.IsEmpty)
            {
                group = value.ToString();
            }
        }

        return new SqlHint(tags is null ? [] : tags.ToArray(), group);
    }
}
