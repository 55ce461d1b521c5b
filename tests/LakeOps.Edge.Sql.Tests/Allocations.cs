namespace LakeOps.Edge.Sql.Tests;

internal static class Allocations
{
    /// <summary>Bytes this thread allocates running <paramref name="action"/> 100 times, after one warm-up run (JIT, static caches).</summary>
    public static long Of(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            action();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
