using System.Runtime.CompilerServices;

// Tests reach the fixed-nonce SCRAM constructor (RFC test vectors) and the config value parsers.
[assembly: InternalsVisibleTo("LakeOps.Edge.Core.Tests")]
