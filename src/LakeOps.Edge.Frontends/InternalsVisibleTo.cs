using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("LakeOps.Edge.Frontends.Tests")]
