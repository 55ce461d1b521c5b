using System.Runtime.CompilerServices;

// The tests synchronise the cancel test on DuckDbSession.IsActive.
[assembly: InternalsVisibleTo("LakeOps.Edge.Engines.Tests")]
