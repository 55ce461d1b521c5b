using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Frontends.Trino;

/// <summary>How a statement Edge ran itself on a Trino coordinator ended: its error (null: finished) and the transaction it started.</summary>
internal readonly record struct TrinoUpstreamOutcome(TrinoError? Error, string? StartedTransactionId);

/// <summary>A coordinator's error for a transaction statement, with Trino's errorName kept (the client sees it as is).</summary>
internal sealed class TrinoUpstreamException : Exception
{
    public TrinoUpstreamException(TrinoError error)
        : base(error?.Message) => Error = error!;

    public TrinoUpstreamException()
        : this(TrinoError.External("the Trino engine failed"))
    {
    }

    public TrinoUpstreamException(string message)
        : this(TrinoError.External(message))
    {
    }

    public TrinoUpstreamException(string message, Exception inner)
        : base(message, inner) => Error = TrinoError.External(message);

    public TrinoError Error { get; }
}

/// <summary>
/// Runs one statement on a Trino coordinator to its end (POST, then nextUri until there is none), for the
/// transaction statements Edge sends itself (START TRANSACTION, COMMIT, ROLLBACK): pages are read for their
/// headers and final state only, never forwarded.
/// </summary>
internal static class TrinoUpstreamStatement
{
    public static async ValueTask<TrinoUpstreamOutcome> RunAsync(ITrinoHttpEngine upstream, string sql, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        TrinoUpstreamPage page = await upstream.SubmitAsync(new TrinoUpstreamRequest(sql, headers), cancellationToken).ConfigureAwait(false);
        string? started = null;
        while (true)
        {
            Uri? next;
            using (page)
            {
                foreach (KeyValuePair<string, string> header in page.Headers)
                {
                    if (header.Key.Equals("X-Trino-Started-Transaction-Id", StringComparison.OrdinalIgnoreCase))
                    {
                        started = header.Value.Trim();
                    }
                }

                next = page.NextUri;
                if (next is null || page.StatusCode >= 400)
                {
                    bool failed = page.StatusCode >= 400 || page.State == TrinoQueryStates.Failed;
                    return new TrinoUpstreamOutcome(failed ? ErrorOf(page) : null, started);
                }
            }

            page = await upstream.FetchAsync(next, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The page's <c>error</c> object as the coordinator wrote it (parsed by the engine); a generic external error when it has none.</summary>
    public static TrinoError ErrorOf(TrinoUpstreamPage page) => page.Error is { } error
        ? new TrinoError(error.Message, error.ErrorCode, error.ErrorName ?? "GENERIC_EXTERNAL", error.ErrorType ?? TrinoError.ExternalType)
        : TrinoError.External($"the Trino engine answered HTTP {page.StatusCode} ({page.State ?? "no state"})");
}
