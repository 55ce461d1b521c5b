using System.Reflection;
using LakeOps.Edge.Core.Config;
using LakeOps.Edge.Core.Diagnostics;
using LakeOps.Edge.Core.Security;

namespace LakeOps.Edge;

/// <summary>The command line: run, validate, explain, version, hash-password.</summary>
internal static class Cli
{
    private const string Usage = """
        usage: lakeops-edge <verb> [options]

          run --config FILE [--log-level debug|info|warn|error]
                                 start the gateway (SIGHUP reloads FILE, SIGTERM/SIGINT drain and stop)
          validate --config FILE check FILE; prints every error with its YAML path, exit code 1 if any
                                 (the same checks a SIGHUP reload runs before it applies anything)
        """ + "\n" + ExplainCommand.Usage + """

          hash-password [--md5 USER | --mysql-native]
                                 read a password from stdin and print the SCRAM-SHA-256 verifier
                                 (or, with --md5 USER, the md5 hash; with --mysql-native, the
                                 mysql_native_password hash) to put under users.NAME in the config
          version                print the version
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            return args[0] switch
            {
                "run" => await RunGatewayAsync(args).ConfigureAwait(false),
                "validate" => Validate(args),
                "explain" => Explain(args),
                "version" or "--version" => PrintVersion(),
                "hash-password" => HashPassword(args),
                _ => UsageError($"unknown verb '{args[0]}'"),
            };
        }
        catch (UsageException ex)
        {
            return UsageError(ex.Message);
        }
    }

    public static string Version =>
        typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static int PrintVersion()
    {
        Console.Out.WriteLine($"lakeops-edge {Version}");
        return 0;
    }

    private static int Validate(string[] args)
    {
        string path = RequiredOption(args, "--config");
        ConfigLoadResult result = ConfigLoader.LoadFile(path);
        if (!result.Success)
        {
            PrintErrors(path, result.Errors);
            return 1;
        }

        EdgeConfig config = result.Config!;
        Console.Out.WriteLine($"{path}: OK ({config.Listeners.Count} listener(s), {config.Clusters.Count} cluster(s), {config.Groups.Count} group(s), {config.Users.Count} user(s), {config.Routes.Count} route(s)); sha256 {config.ContentHash} (a running gateway logs this hash for the revision it serves)");
        return 0;
    }

    private static int Explain(string[] args)
    {
        try
        {
            return ExplainCommand.Run(args, Console.Out, Console.Error);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static async Task<int> RunGatewayAsync(string[] args)
    {
        string path = RequiredOption(args, "--config");
        string? level = Option(args, "--log-level");
        if (level is not null)
        {
            Log.MinimumLevel = LogLevels.TryParse(level, out LogLevel parsed)
                ? parsed
                : throw new UsageException($"unknown log level '{level}' (expected one of: {LogLevels.Expected})");
        }

        ConfigLoadResult result = ConfigLoader.LoadFile(path);
        if (!result.Success)
        {
            PrintErrors(path, result.Errors);
            return 1;
        }

        return await GatewayHost.RunAsync(path, result.Config!).ConfigureAwait(false);
    }

    private static int HashPassword(string[] args)
    {
        string? md5User = Option(args, "--md5");
        string? password = Console.In.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            throw new UsageException("hash-password reads the password from the first line of stdin; it was empty");
        }

        string hash = md5User is not null ? PasswordHashing.CreateMd5(md5User, password)
            : args.Contains("--mysql-native") ? MySqlNativePassword.Hash(password)
            : PasswordHashing.CreateScramVerifier(password);
        Console.Out.WriteLine(hash);
        return 0;
    }

    internal static void PrintErrors(string path, IReadOnlyList<ConfigError> errors)
    {
        Console.Error.WriteLine($"{path}: {errors.Count} error(s)");
        foreach (ConfigError error in errors)
        {
            Console.Error.WriteLine($"  {error}");
        }
    }

    private static string RequiredOption(string[] args, string name) =>
        Option(args, name) ?? throw new UsageException($"'{args[0]}' needs {name} FILE");

    private static string? Option(string[] args, string name)
    {
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == name)
            {
                return i + 1 < args.Length ? args[i + 1] : throw new UsageException($"{name} needs a value");
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"lakeops-edge: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    private sealed class UsageException(string message) : Exception(message);
}
