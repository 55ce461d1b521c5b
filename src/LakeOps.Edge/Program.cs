using LakeOps.Edge;

return await Cli.RunAsync(args).ConfigureAwait(false);
