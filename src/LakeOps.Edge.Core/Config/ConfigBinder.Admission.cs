using System.Collections.Frozen;
using YamlDotNet.RepresentationModel;

namespace LakeOps.Edge.Core.Config;

/// <summary>Binding of <c>groups.X.admission</c> and <c>clusters.X.admission</c>.</summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] AdmissionKeys = ["max_running", "max_queued", "queue_timeout", "overflow"];

    // Spill targets are checked once every group is known: (group, target, path of 'spill', node).
    private readonly List<(string Group, string Target, string Path, YamlNode Node)> _spills = [];

    /// <summary>Null when the section is absent: no limit, callers skip admission.</summary>
    private AdmissionConfig? BindAdmission(YamlMappingNode owner, string ownerPath, string ownerName, bool isGroup)
    {
        string path = YamlBinder.Join(ownerPath, "admission");
        YamlMappingNode? map = _y.AsMapping(YamlBinder.Get(owner, "admission"), path);
        if (map is null)
        {
            return null;
        }

        _y.CheckKeys(map, path, AdmissionKeys);
        int maxRunning = _y.Required(map, "max_running", path, 1, static (string text, out int value, out string? error) =>
            ConfigValues.TryParseInt(text, out value, out error));
        if (maxRunning is < 1 or > MaxAdmissionLimit)
        {
            _y.Error(YamlBinder.Join(path, "max_running"), $"{maxRunning} is out of range (1 to {MaxAdmissionLimit})", YamlBinder.Get(map, "max_running"));
            maxRunning = 1;
        }

        (AdmissionOverflow overflow, string? spillGroup) = BindOverflow(map, path, ownerName, isGroup);
        return new AdmissionConfig
        {
            MaxRunning = maxRunning,
            MaxQueued = _y.Int(map, "max_queued", path, AdmissionConfig.DefaultMaxQueued, 0, MaxAdmissionLimit),
            QueueTimeout = _y.Optional(map, "queue_timeout", path, AdmissionConfig.DefaultQueueTimeout, TryParsePositiveDuration),
            Overflow = overflow,
            SpillGroup = spillGroup,
        };
    }

    // Same bound as the admission gate's (its running count shares an int with a flag).
    private const int MaxAdmissionLimit = 1_000_000;

    /// <summary><c>overflow: queue</c>, <c>overflow: reject</c> or <c>overflow: { spill: GROUP }</c>.</summary>
    private (AdmissionOverflow Overflow, string? SpillGroup) BindOverflow(YamlMappingNode admission, string admissionPath, string ownerName, bool isGroup)
    {
        string path = YamlBinder.Join(admissionPath, "overflow");
        YamlNode? node = YamlBinder.Get(admission, "overflow");
        string choices = isGroup ? "queue, reject or { spill: GROUP }" : "queue or reject (spill is for groups)";
        if (node is YamlMappingNode map)
        {
            if (!isGroup)
            {
                _y.Error(path, $"a cluster cannot spill; use {choices}", node);
                return (AdmissionOverflow.Queue, null);
            }

            _y.CheckKeys(map, path, ["spill"]);
            string spillPath = YamlBinder.Join(path, "spill");
            YamlNode? targetNode = YamlBinder.Get(map, "spill");
            if (!_y.TryText(targetNode, spillPath, out string? target))
            {
                return (AdmissionOverflow.Queue, null);
            }

            if (string.IsNullOrEmpty(target))
            {
                _y.Error(path, "expected { spill: GROUP }, the group that runs the query when this one is full", targetNode ?? node);
                return (AdmissionOverflow.Queue, null);
            }

            if (target == ownerName)
            {
                _y.Error(spillPath, $"group '{ownerName}' cannot spill to itself", targetNode);
                return (AdmissionOverflow.Queue, null);
            }

            _spills.Add((ownerName, target, spillPath, targetNode!));
            return (AdmissionOverflow.Spill, target);
        }

        if (!_y.TryText(node, path, out string? text) || string.IsNullOrEmpty(text))
        {
            return (AdmissionOverflow.Queue, null);
        }

        switch (text)
        {
            case "queue":
                return (AdmissionOverflow.Queue, null);
            case "reject":
                return (AdmissionOverflow.Reject, null);
            case "spill":
                _y.Error(path, isGroup ? "name the group to spill to: overflow: { spill: GROUP }" : $"a cluster cannot spill; use {choices}", node);
                return (AdmissionOverflow.Queue, null);
            default:
                _y.Error(path, $"unknown overflow '{text}' (expected {choices})", node);
                return (AdmissionOverflow.Queue, null);
        }
    }

    /// <summary>Every spill target must be a group. Cycles are allowed: a query spills at most once.</summary>
    private void CheckSpills(FrozenDictionary<string, GroupConfig> groups)
    {
        foreach ((string group, string target, string path, YamlNode node) in _spills)
        {
            if (!groups.ContainsKey(target))
            {
                _y.Error(path, $"group '{group}' spills to unknown group '{target}' (defined groups: {NameList(groups.Keys)})", node);
            }
        }
    }
}
