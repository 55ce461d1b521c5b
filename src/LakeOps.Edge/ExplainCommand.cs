using System.Globalization;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Routing;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge;

/// <summary>
/// <c>lakeops-edge explain</c>: routes one statement through a config's rules offline and prints
/// why it goes where it goes (the same decision a session would get).
/// </summary>
internal static class ExplainCommand
{
    public const string Usage = """
          explain --config FILE [--protocol postgres|mysql|trino] [--user U] [--role R]... [--tags a,b]
                  [--database D] [--schema S] [--application A] [--listener L] [--session k=v]...
                  [--header k=v]... [--time 2026-01-31T23:00:00Z] [--dialect D] "SQL"
                                 print the routing decision for SQL: matched rule, the conditions
                                 that held, group (or deny), statement kind, tables, fingerprint
        """;

    private static readonly string[] ValueOptions =
        ["--config", "--protocol", "--user", "--role", "--tags", "--database", "--schema", "--application", "--listener", "--session", "--header", "--time", "--dialect"];

    /// <summary>Parses arguments, routes, prints. Returns the exit code; throws <see cref="ArgumentException"/> for usage errors.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var sql = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            string arg = args[i];
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            string name = arg.StartsWith("--", StringComparison.Ordinal) && eq > 0 ? arg[..eq] : arg;
            if (Array.IndexOf(ValueOptions, name) >= 0)
            {
                string value = eq > 0 && name != arg ? arg[(eq + 1)..]
                    : i + 1 < args.Length ? args[++i]
                    : throw new ArgumentException($"{name} needs a value");
                if (!options.TryGetValue(name, out List<string>? values))
                {
                    options[name] = values = [];
                }

                values.Add(value);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg != "--")
            {
                throw new ArgumentException($"explain: unknown option '{arg}'");
            }
            else if (arg != "--")
            {
                sql.Add(arg);
            }
        }

        string path = One(options, "--config") ?? throw new ArgumentException("'explain' needs --config FILE");
        if (sql.Count == 0)
        {
            throw new ArgumentException("'explain' needs the SQL text as its last argument");
        }

        ConfigLoadResult loaded = ConfigLoader.LoadFile(path);
        if (!loaded.Success)
        {
            Cli.PrintErrors(path, loaded.Errors);
            return 1;
        }

        EdgeConfig config = loaded.Config!;
        RouteRequest request = BuildRequest(config, options, string.Join(' ', sql));
        TimeProvider time = TimeProvider.System;
        if (One(options, "--time") is { } at)
        {
            if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset instant))
            {
                throw new ArgumentException($"--time '{at}' is not a date and time (use e.g. 2026-01-31T23:00:00Z)");
            }

            time = new FixedTime(instant);
        }

        RouteExplanation explanation = RouteTable.Compile(config, time).Explain(request);
        RouteExplanationFields.Write(explanation, output);
        return 0;
    }

    private static RouteRequest BuildRequest(EdgeConfig config, Dictionary<string, List<string>> options, string sql)
    {
        string protocol = (One(options, "--protocol") ?? "postgres").ToLowerInvariant();
        if (!RouteVocabulary.Protocols.Contains(protocol))
        {
            throw new ArgumentException($"unknown protocol '{protocol}' (expected one of: {string.Join(", ", RouteVocabulary.Protocols)})");
        }

        string user = One(options, "--user") ?? "";
        List<string> roles = options.TryGetValue("--role", out List<string>? r) ? r : [];
        if (roles.Count == 0 && config.Users.TryGetValue(user, out UserConfig? userConfig))
        {
            roles = [.. userConfig.Roles];
        }

        string? listener = One(options, "--listener");
        if (listener is null)
        {
            foreach (ListenerConfig l in config.Listeners)
            {
                if (string.Equals(ProtocolName(l.Protocol), protocol, StringComparison.Ordinal))
                {
                    listener = l.Name;
                    break;
                }
            }
        }

        string dialect = One(options, "--dialect") ?? protocol;
        var request = new RouteRequest
        {
            Protocol = protocol,
            Listener = listener ?? "",
            User = user,
            Roles = roles,
            Database = One(options, "--database") ?? "",
            Schema = One(options, "--schema") ?? "",
            Application = One(options, "--application") ?? "",
            Tags = options.TryGetValue("--tags", out List<string>? tags) ? SplitTags(tags) : [],
            Session = Pairs(options, "--session"),
            Headers = Pairs(options, "--header"),
            Syntax = dialect switch
            {
                "mysql" => SqlSyntax.MySql,
                "trino" => SqlSyntax.Trino,
                _ => SqlSyntax.Postgres,
            },
            Sql = sql,
        };
        return request;
    }

    private static string ProtocolName(ListenerProtocol protocol) => protocol switch
    {
        ListenerProtocol.MySql => "mysql",
        ListenerProtocol.Trino => "trino",
        _ => "postgres",
    };

    private static string? One(Dictionary<string, List<string>> options, string name) =>
        options.TryGetValue(name, out List<string>? values) ? values[^1] : null;

    private static List<string> SplitTags(List<string> values)
    {
        var tags = new List<string>();
        foreach (string value in values)
        {
            foreach (string tag in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                tags.Add(tag);
            }
        }

        return tags;
    }

    private static Dictionary<string, string> Pairs(Dictionary<string, List<string>> options, string name)
    {
        Dictionary<string, string> pairs = RouteRequest.NewProperties();
        if (options.TryGetValue(name, out List<string>? values))
        {
            foreach (string value in values)
            {
                int eq = value.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new ArgumentException($"{name} '{value}' is not key=value");
                }

                pairs[value[..eq]] = value[(eq + 1)..];
            }
        }

        return pairs;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
