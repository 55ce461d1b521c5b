namespace LakeOps.Edge.Core.Engines;

/// <summary>Finds the running engine of a configured cluster.</summary>
public interface IEngineProvider
{
    /// <summary>The engine for the cluster, or null when no such cluster runs.</summary>
    IEngine? Find(string clusterName);
}
