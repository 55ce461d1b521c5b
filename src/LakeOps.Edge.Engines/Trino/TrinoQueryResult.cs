using System.Buffers;
using System.Net;
using Apache.Arrow;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Engines.Trino;

/// <summary>
/// One statement on the Arrow path: follows nextUri page by page and decodes each page's rows into Arrow
/// batches while its JSON streams in (a pooled buffer holds only the unread rest of the current page).
/// A batch ends when it reaches batch_rows or its page ends. Disposing before the end (or
/// <see cref="Cancel"/>) cancels the query on the coordinator with DELETE on the current nextUri.
/// </summary>
/// <remarks>
/// Whether the statement returns rows is known once its columns are known and, since Trino writes
/// updateType after data, the page carrying them is complete (or an earlier page said updateType): statements with
/// an updateType (INSERT, CREATE, SET SESSION, ...) return no rows and report updateCount as <see cref="RowsAffected"/>.
/// </remarks>
internal sealed class TrinoQueryResult : IQueryResult, ITrinoRowSink
{
    private const int InitialBufferSize = 64 * 1024;

    private static readonly Schema EmptySchema = new([], null);

    private readonly TrinoEngine _engine;
    private readonly TrinoEngineSession _session;
    private readonly TrinoResultsReader _reader = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly int _batchRows;

    private HttpResponseMessage? _response;
    private Stream? _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    private int _start;
    private int _end;
    private bool _eof;
    private bool _pageOpen;
    private Uri? _currentUri;
    private Uri? _nextUri;
    private bool _finished;

    private TrinoColumnBuilder[]? _builders;
    private IReadOnlyList<TrinoPageColumn>? _columns;
    private string? _updateType;
    private bool _shapeKnown;
    private bool _discard;
    private bool _emitted;
    private int _disposed;

    private enum Step : byte
    {
        Shape,
        Batch,
        End,
    }

    public TrinoQueryResult(TrinoEngine engine, TrinoEngineSession session)
    {
        _engine = engine;
        _session = session;
        _batchRows = engine.Options.BatchRows;
    }

    public Schema Schema { get; private set; } = EmptySchema;

    public bool ReturnsRows { get; private set; }

    public long RowsAffected { get; private set; } = -1;

    /// <summary>The query id the coordinator gave, once known.</summary>
    public string? QueryId { get; private set; }

    /// <summary>Interrupts the statement from any thread: the running request stops and the query is cancelled on the coordinator.</summary>
    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    /// <summary>Sends the statement and reads until its shape (columns, or none) is known.</summary>
    public async ValueTask StartAsync(HttpRequestMessage post, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancel.Token);
        try
        {
            await OpenPageAsync(post, linked.Token).ConfigureAwait(false);
            while (!_shapeKnown)
            {
                if (await AdvanceAsync(linked.Token).ConfigureAwait(false) == Step.End)
                {
                    Decide();
                }
            }
        }
        catch (Exception ex)
        {
            throw await FailAsync(ex, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<RecordBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_emitted)
        {
            ResetBuilders();
        }

        if (!ReturnsRows)
        {
            if (!_finished)
            {
                using CancellationTokenSource drainLinked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancel.Token);
                try
                {
                    while (await AdvanceAsync(drainLinked.Token).ConfigureAwait(false) != Step.End)
                    {
                    }
                }
                catch (Exception ex)
                {
                    throw await FailAsync(ex, cancellationToken).ConfigureAwait(false);
                }
            }

            return null;
        }

        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancel.Token);
        try
        {
            // Rows decoded while the shape was decided form the first batch.
            if (PendingRows == 0)
            {
                await AdvanceAsync(linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            throw await FailAsync(ex, cancellationToken).ConfigureAwait(false);
        }

        if (PendingRows == 0)
        {
            return null;
        }

        var arrays = new IArrowArray[_builders!.Length];
        for (int i = 0; i < arrays.Length; i++)
        {
            arrays[i] = _builders[i].Build();
        }

        _emitted = true;
        return new RecordBatch(Schema, arrays, PendingRows);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _session.StatementEnded(this);
        if (!_finished)
        {
            // Ended early: tell the coordinator, so the query does not run on for nobody.
            await CancelOnCoordinatorAsync().ConfigureAwait(false);
        }

        ClosePage();
        _reader.Dispose();
        _cancel.Dispose();
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    void ITrinoRowSink.Value(int column, TrinoJsonValueKind kind, ReadOnlySpan<byte> utf8)
    {
        if (_discard)
        {
            return;
        }

        TrinoColumnBuilder[] builders = _builders ?? throw new FormatException("a page has rows but no columns");
        if ((uint)column >= (uint)builders.Length)
        {
            throw new FormatException($"a row has more values than the {builders.Length} columns");
        }

        builders[column].Append(kind, utf8);
    }

    bool ITrinoRowSink.EndRow(int valueCount)
    {
        if (_discard)
        {
            return true;
        }

        if (valueCount != _builders!.Length)
        {
            throw new FormatException($"a row has {valueCount} values for {_builders.Length} columns");
        }

        return !_shapeKnown || PendingRows < _batchRows;
    }

    private int PendingRows => _builders is { Length: > 0 } builders && !_discard ? builders[0].Length : 0;

    /// <summary>Reads on until a batch is full or a page with rows ended, the shape is decided, or the query is finished.</summary>
    private async ValueTask<Step> AdvanceAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_pageOpen)
            {
                if (_nextUri is null)
                {
                    _finished = true;
                    return Step.End;
                }

                await OpenPageAsync(_engine.CreateRequest(HttpMethod.Get, _nextUri, null), cancellationToken).ConfigureAwait(false);
                continue;
            }

            TrinoReadStatus status = _reader.Read(_buffer.AsSpan(_start, _end - _start), _eof, this, out int consumed);
            _start += consumed;
            switch (status)
            {
                case TrinoReadStatus.NeedMoreData:
                    if (_eof)
                    {
                        throw new FormatException("the page ended before its JSON object was complete");
                    }

                    await FillAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case TrinoReadStatus.Columns:
                    SetColumns(_reader.Page.Columns!);
                    if (!_shapeKnown && _updateType is not null)
                    {
                        Decide();
                        return Step.Shape;
                    }

                    break;
                case TrinoReadStatus.Paused:
                    return Step.Batch;
                case TrinoReadStatus.PageEnd:
                    EndPage();
                    if (!_shapeKnown && (_columns is not null || _nextUri is null))
                    {
                        Decide();
                        return Step.Shape;
                    }

                    if (PendingRows > 0)
                    {
                        return Step.Batch;
                    }

                    break;
            }
        }
    }

    private void SetColumns(IReadOnlyList<TrinoPageColumn> columns)
    {
        if (ReferenceEquals(columns, _columns))
        {
            return;
        }

        if (_columns is not null && columns.Count != _columns.Count)
        {
            throw new FormatException($"the columns changed from {_columns.Count} to {columns.Count} between pages");
        }

        if (_columns is null)
        {
            var fields = new Field[columns.Count];
            _builders = new TrinoColumnBuilder[columns.Count];
            for (int i = 0; i < columns.Count; i++)
            {
                fields[i] = TrinoColumnBuilder.FieldFor(columns[i].Name, columns[i].Type);
                _builders[i] = new TrinoColumnBuilder(fields[i], columns[i].Type);
            }

            _pendingSchema = new Schema(fields, null);
        }

        _columns = columns;
    }

    private Schema? _pendingSchema;

    /// <summary>Fixes ReturnsRows and the schema: rows when there are columns and no updateType.</summary>
    private void Decide()
    {
        _shapeKnown = true;
        ReturnsRows = _columns is not null && _updateType is null;
        if (ReturnsRows)
        {
            Schema = _pendingSchema!;
        }
        else
        {
            _discard = true;
            ResetBuilders();
        }
    }

    private void ResetBuilders()
    {
        _emitted = false;
        if (_builders is not null)
        {
            foreach (TrinoColumnBuilder builder in _builders)
            {
                builder.Reset();
            }
        }
    }

    private async ValueTask OpenPageAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _currentUri = request.Method == HttpMethod.Get ? request.RequestUri : null;
        HttpResponseMessage response;
        try
        {
            response = await _engine.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            request.Dispose();
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            using (response)
            {
                throw await _engine.HttpErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }

        _session.State.Apply(response.Headers);
        _response = response;
        try
        {
            _stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ClosePage();
            throw;
        }

        _reader.BeginPage();
        _start = _end = 0;
        _eof = false;
        _pageOpen = true;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // One token (a long string or nested value) larger than the buffer.
            if (_buffer.Length >= TrinoEngine.MaxPageBytes)
            {
                throw new EngineException($"cluster '{_engine.ClusterName}': a value from the Trino coordinator exceeds {TrinoEngine.MaxPageBytes / (1024 * 1024)} MB", SqlStates.ProgramLimitExceeded);
            }

            byte[] larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_engine.Options.RequestTimeout);
        int read;
        try
        {
            read = await _stream!.ReadAsync(_buffer.AsMemory(_end), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EngineException($"cluster '{_engine.ClusterName}': the Trino coordinator at {_engine.Address} stopped sending a page", SqlStates.ConnectionFailure);
        }

        _end += read;
        _eof = read == 0;
    }

    private void EndPage()
    {
        TrinoPageInfo page = _reader.Page;
        ClosePage();
        QueryId ??= page.Id;
        _nextUri = page.NextUri is null ? null : _engine.CheckOwnUri(new Uri(page.NextUri, UriKind.RelativeOrAbsolute));
        _updateType ??= page.UpdateType;
        if (page.UpdateCount >= 0)
        {
            RowsAffected = page.UpdateCount;
        }

        if (page.Error is { } error)
        {
            _nextUri = null;
            _finished = true;
            throw TrinoErrors.FromPage(error);
        }

        if (_nextUri is null)
        {
            _finished = true;
        }
    }

    private void ClosePage()
    {
        _pageOpen = false;
        _stream?.Dispose();
        _stream = null;
        _response?.Dispose();
        _response = null;
    }

    /// <summary>Cleans up after a failure and turns it into the error the caller sees.</summary>
    private async ValueTask<Exception> FailAsync(Exception ex, CancellationToken cancellationToken)
    {
        bool canceled = _cancel.IsCancellationRequested;
        if (!_finished)
        {
            await CancelOnCoordinatorAsync().ConfigureAwait(false);
            _finished = true;
        }

        ClosePage();
        return ex switch
        {
            OperationCanceledException when canceled => new EngineException(TrinoErrors.CanceledMessage, SqlStates.QueryCanceled, ex),
            OperationCanceledException when cancellationToken.IsCancellationRequested => ex,
            OperationCanceledException => new EngineException(TrinoErrors.CanceledMessage, SqlStates.QueryCanceled, ex),
            FormatException => _engine.Malformed(ex),
            HttpRequestException or IOException => _engine.ConnectionFailure(ex),
            _ => ex,
        };
    }

    /// <summary>DELETE on the newest nextUri known (the page being read may not have said its own yet).</summary>
    private async ValueTask CancelOnCoordinatorAsync()
    {
        string? pageNext = _pageOpen ? _reader.Page.NextUri : null;
        Uri? target = pageNext is not null ? new Uri(pageNext, UriKind.RelativeOrAbsolute) : _nextUri ?? _currentUri;
        _nextUri = null;
        _finished = true;
        if (target is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _engine.CancelAsync(target, timeout.Token).ConfigureAwait(false);
        }
        catch (EngineException)
        {
            // A foreign nextUri is not followed, not even to cancel.
        }
    }
}
