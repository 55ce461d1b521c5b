namespace LakeOps.Edge.Core.Config;

/// <summary>The fixed words of routing rules, shared by the config binder, the router and the CLI.</summary>
public static class RouteVocabulary
{
    /// <summary>Front doors a rule may name (some arrive in later releases; naming them is not an error).</summary>
    public static IReadOnlyList<string> Protocols { get; } = ["postgres", "mysql", "trino", "flight_sql"];

    /// <summary>Statement kinds for <c>statement:</c>.</summary>
    public static IReadOnlyList<string> StatementKinds { get; } = ["select", "insert", "update", "delete", "merge", "ddl", "utility"];
}
