using System.Buffers;
using BenchmarkDotNet.Attributes;
using LakeOps.Edge.Protocols.Postgres;

namespace LakeOps.Edge.Benchmarks;

/// <summary>
/// PostgreSQL wire codec without sockets: scanning and parsing what clients send, and encoding the
/// messages that close every result. The writer benchmark should allocate 0 B.
/// </summary>
[MemoryDiagnoser]
public class PgCodecBenchmarks
{
    private const int MaxMessage = 1 << 20;

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private ReadOnlySequence<byte> _extendedBatch;
    private ReadOnlySequence<byte> _queryMessage;
    private PgFieldDescription[] _fields = [];

    [GlobalSetup]
    public void Setup()
    {
        // What Npgsql sends for a prepared statement with two parameters: Parse/Bind/Describe/Execute/Sync.
        var batch = new ArrayBufferWriter<byte>();
        PgFrontendWriter.WriteParse(batch, "_p1", "SELECT id, name, created_at FROM orders WHERE customer_id = $1 AND status = $2", [20, 25]);
        PgFrontendWriter.WriteBind(batch, "", "_p1", [1, 0], [[0, 0, 0, 0, 0, 0, 0x30, 0x39], "shipped"u8.ToArray()], [1]);
        PgFrontendWriter.WriteDescribe(batch, 'P', "");
        PgFrontendWriter.WriteExecute(batch, "", 0);
        PgFrontendWriter.WriteSync(batch);
        _extendedBatch = new ReadOnlySequence<byte>(batch.WrittenMemory.ToArray());

        var query = new ArrayBufferWriter<byte>();
        PgFrontendWriter.WriteQuery(query, "SELECT count(*), sum(amount) FROM orders WHERE created_at >= DATE '2024-01-01' GROUP BY region");
        _queryMessage = new ReadOnlySequence<byte>(query.WrittenMemory.ToArray());

        _fields =
        [
            new("id", 16384, 1, 20, 8, -1, 1),
            new("name", 16384, 2, 25, -1, -1, 0),
            new("created_at", 16384, 3, 1184, 8, -1, 1),
            new("amount", 16384, 4, 1700, -1, (12 << 16) + 2 + 4, 0),
        ];
    }

    [Benchmark(Description = "scan+parse Parse/Bind/Describe/Execute/Sync")]
    public int ScanAndParseExtendedBatch()
    {
        ReadOnlySequence<byte> buffer = _extendedBatch;
        int checksum = 0;
        while (PgFrameScanner.TryReadFrame(buffer, MaxMessage, out byte type, out int frameLength) == PgFrameStatus.Complete)
        {
            ReadOnlySpan<byte> body = buffer.FirstSpan.Slice(PgFrameScanner.HeaderLength, frameLength - PgFrameScanner.HeaderLength);
            switch (type)
            {
                case PgMessageTypes.Parse:
                    checksum += ParseMessage.Parse(body).ParameterTypeOids.Length;
                    break;
                case PgMessageTypes.Bind:
                    checksum += BindMessage.Parse(body).ParameterValues.Length;
                    break;
                case PgMessageTypes.DescribeMessage:
                    checksum += DescribeMessage.Parse(body).Kind;
                    break;
                case PgMessageTypes.Execute:
                    checksum += ExecuteMessage.Parse(body).MaxRows;
                    break;
                case PgMessageTypes.Sync:
                    EmptyMessage.Parse(type, body);
                    checksum++;
                    break;
            }

            buffer = buffer.Slice(frameLength);
        }

        return checksum;
    }

    [Benchmark(Description = "scan only (frame boundaries) of the same batch")]
    public int ScanExtendedBatch()
    {
        ReadOnlySequence<byte> buffer = _extendedBatch;
        int frames = 0;
        while (PgFrameScanner.TryReadFrame(buffer, MaxMessage, out _, out int frameLength) == PgFrameStatus.Complete)
        {
            frames++;
            buffer = buffer.Slice(frameLength);
        }

        return frames;
    }

    [Benchmark(Description = "scan+parse Query")]
    public int ScanAndParseQuery()
    {
        ReadOnlySequence<byte> buffer = _queryMessage;
        PgFrameScanner.TryReadFrame(buffer, MaxMessage, out _, out int frameLength);
        return QueryMessage.Parse(buffer.FirstSpan.Slice(PgFrameScanner.HeaderLength, frameLength - PgFrameScanner.HeaderLength)).Length;
    }

    [Benchmark(Description = "write RowDescription+CommandComplete+ReadyForQuery")]
    public int WriteResultTail()
    {
        _output.ResetWrittenCount();
        PgBackendWriter.WriteRowDescription(_output, _fields);
        PgBackendWriter.WriteCommandComplete(_output, "SELECT"u8, 1000);
        PgBackendWriter.WriteReadyForQuery(_output, PgTransactionStatus.Idle);
        return _output.WrittenCount;
    }
}
