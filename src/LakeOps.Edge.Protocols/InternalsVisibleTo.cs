using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("LakeOps.Edge.Protocols.Tests")]
