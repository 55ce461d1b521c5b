using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>Binding of <c>clusters.X.health</c>, <c>clusters.X.state</c>, <c>groups.X.balancing</c> and <c>groups.X.weights</c>.</summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] HealthKeys =
        ["probe_interval", "probe_timeout", "failure_threshold", "open_base", "open_max", "error_rate_threshold", "window", "min_samples"];

    // Same bound as route splits: large enough for fine ramps, small enough that sums never overflow.
    private const int MaxWeight = 1_000_000;

    private HealthOptions BindHealth(YamlMappingNode cluster, string clusterPath)
    {
        string path = YamlBinder.Join(clusterPath, "health");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(cluster, "health"), path);
        var defaults = new HealthOptions();
        if (map is null)
        {
            return defaults;
        }

        _y.CheckKeys(map, path, HealthKeys);
        TimeSpan openBase = _y.Optional(map, "open_base", path, defaults.OpenBase, TryParsePositiveDuration);
        TimeSpan openMax = _y.Optional(map, "open_max", path, defaults.OpenMax, TryParsePositiveDuration);
        if (openMax < openBase)
        {
            _y.Error(YamlBinder.Join(path, "open_max"), $"open_max ({Seconds(openMax)}) must not be less than open_base ({Seconds(openBase)})", YamlBinder.Get(map, "open_max") ?? YamlBinder.Get(map, "open_base"));
            openMax = openBase;
        }

        int window = _y.Int(map, "window", path, defaults.Window, 1, HealthOptions.MaxWindow);
        int minSamples = _y.Int(map, "min_samples", path, Math.Min(defaults.MinSamples, window), 1, HealthOptions.MaxWindow);
        if (minSamples > window)
        {
            _y.Error(YamlBinder.Join(path, "min_samples"), $"min_samples ({minSamples}) must not exceed window ({window})", YamlBinder.Get(map, "min_samples"));
            minSamples = window;
        }

        return new HealthOptions
        {
            ProbeInterval = _y.Optional(map, "probe_interval", path, defaults.ProbeInterval, ConfigValues.TryParseDuration),
            ProbeTimeout = _y.Optional(map, "probe_timeout", path, defaults.ProbeTimeout, TryParsePositiveDuration),
            FailureThreshold = _y.Int(map, "failure_threshold", path, defaults.FailureThreshold, 1, 1000),
            OpenBase = openBase,
            OpenMax = openMax,
            ErrorRateThreshold = _y.Optional(map, "error_rate_threshold", path, defaults.ErrorRateThreshold, TryParseRate),
            Window = window,
            MinSamples = minSamples,
        };
    }

    /// <summary><c>balancing</c> and, for <c>weighted</c>, one weight per member (every member must have one).</summary>
    private (BalancingStrategy Balancing, IReadOnlyList<int> Weights) BindBalancing(YamlMappingNode group, string groupPath, List<string> members)
    {
        BalancingStrategy balancing = _y.Optional(group, "balancing", groupPath, BalancingStrategy.RoundRobin, ConfigValues.TryParseBalancing);
        string path = YamlBinder.Join(groupPath, "weights");
        YamlNode? node = YamlBinder.Get(group, "weights");
        YamlMappingNode? map = _y.AsMapping(node, path);
        if (balancing != BalancingStrategy.Weighted)
        {
            if (map is not null)
            {
                _y.Error(path, "weights apply only to 'balancing: weighted'", node);
            }

            return (balancing, []);
        }

        if (map is null)
        {
            _y.Error(groupPath, "balancing 'weighted' needs 'weights' (a weight for every cluster of the group, e.g. weights: { pg1: 90, pg2: 10 })", node ?? group);
            return (balancing, []);
        }

        var weights = new int[members.Count];
        var seen = new bool[members.Count];
        long total = 0;
        foreach (KeyValuePair<YamlNode, YamlNode> pair in map.Children)
        {
            if (pair.Key is not YamlScalarNode { Value: { } cluster })
            {
                _y.Error(path, $"keys must be cluster names, found {YamlBinder.Describe(pair.Key)}", pair.Key);
                continue;
            }

            string itemPath = YamlBinder.Join(path, cluster);
            int index = members.IndexOf(cluster);
            if (index < 0)
            {
                _y.Error(itemPath, $"cluster '{cluster}' is not a member of this group (members: {NameList(members)})", pair.Key);
                continue;
            }

            seen[index] = true;
            if (!_y.TryText(pair.Value, itemPath, out string? text))
            {
                continue;
            }

            if (!ConfigValues.TryParseInt(text ?? string.Empty, out int weight, out string? error) || weight is < 0 or > MaxWeight)
            {
                _y.Error(itemPath, error ?? $"{weight} is out of range (0 to {MaxWeight})", pair.Value);
                continue;
            }

            weights[index] = weight;
            total += weight;
        }

        int errorsBefore = _y.ErrorCount;
        for (int i = 0; i < members.Count; i++)
        {
            if (!seen[i])
            {
                _y.Error(path, $"missing weight for cluster '{members[i]}' (give every member a weight; 0 means never picked)", map);
            }
        }

        if (total == 0 && members.Count > 0 && _y.ErrorCount == errorsBefore)
        {
            _y.Error(path, "at least one weight must be greater than 0", map);
        }

        return (balancing, weights.AsReadOnly());
    }

    /// <summary>A share from 0 to 1, e.g. 0.5 (or 50%); 0 disables.</summary>
    private static bool TryParseRate(string text, out double value, out string? error)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        bool percent = s.EndsWith('%');
        if (percent)
        {
            s = s[..^1].TrimEnd();
        }

        if (!double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value))
        {
            error = $"'{text}' is not a rate; use a number from 0 to 1 (e.g. 0.5) or a percentage (e.g. 50%)";
            return false;
        }

        if (percent)
        {
            value /= 100;
        }

        if (value > 1)
        {
            error = $"'{text}' is out of range (0 to 1, or 0% to 100%)";
            return false;
        }

        error = null;
        return true;
    }

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
