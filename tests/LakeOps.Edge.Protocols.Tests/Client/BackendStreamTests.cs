using System.Buffers;
using System.Text;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Core.Security;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Postgres.Client;
using LakeOps.Edge.Protocols.Tests.Support;

namespace LakeOps.Edge.Protocols.Tests.Client;

/// <summary>A server's byte stream as a client reads it: whole messages cut off the front, over every split.</summary>
public class BackendStreamTests
{
    private static readonly PgFieldDescription[] Fields =
    [
        new("id", 0, 0, 23, 4, -1, 1),
        new("name", 16384, 2, 25, -1, -1, 0),
    ];

    /// <summary>A login (SCRAM) followed by one query's answer, the way PostgreSQL sends them.</summary>
    private static (byte[] Bytes, ScramClient Client, ScramServerExchange Server) Transcript()
    {
        var server = new ScramServerExchange(ScramVerifier.Create("pw", 4096, salt: [1, 2, 3, 4, 5, 6, 7, 8]));
        var driver = new ScramClient("pw", "clientnonce");
        Assert.True(server.TryHandleClientFirst(driver.CreateClientFirst(), out byte[] serverFirst, out _));
        Assert.True(server.TryHandleClientFinal(driver.HandleServerFirst(serverFirst), out byte[] serverFinal, out _));

        // A second client in the same state (same nonce) for the test that replays the server's answers.
        var client = new ScramClient("pw", "clientnonce");
        client.CreateClientFirst();

        var writer = new ArrayBufferWriter<byte>();
        PgBackendWriter.WriteAuthenticationSasl(writer, ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]);
        PgBackendWriter.WriteAuthenticationSaslContinue(writer, serverFirst);
        PgBackendWriter.WriteAuthenticationSaslFinal(writer, serverFinal);
        PgBackendWriter.WriteAuthenticationOk(writer);
        PgBackendWriter.WriteParameterStatus(writer, "server_version", "15.4");
        PgBackendWriter.WriteParameterStatus(writer, "TimeZone", "UTC");
        PgBackendWriter.WriteBackendKeyData(writer, 4242, -17);
        PgBackendWriter.WriteReadyForQuery(writer, PgTransactionStatus.Idle);
        PgBackendWriter.WriteRowDescription(writer, Fields);
        PgBackendWriter.WriteDataRow(writer, [[0, 0, 0, 7], "seven"u8.ToArray()]);
        PgBackendWriter.WriteDataRow(writer, [[0, 0, 0, 8], null]);
        PgBackendWriter.WriteDataRow(writer, [[0, 0, 0, 9], []]);
        PgBackendWriter.WriteNoticeResponse(writer, new PgError(PgSeverity.Notice, "00000", "just saying"));
        PgBackendWriter.WriteCommandComplete(writer, "SELECT 3");
        PgBackendWriter.WriteErrorResponse(writer, new PgError(PgSeverity.Error, SqlStates.DivisionByZero, "division by zero", "some detail", Position: 8));
        PgBackendWriter.WriteReadyForQuery(writer, PgTransactionStatus.Failed);
        return (writer.WrittenSpan.ToArray(), client, server);
    }

    [Fact]
    public void Every_split_yields_the_same_messages_and_values()
    {
        (byte[] bytes, _, _) = Transcript();
        List<(byte Type, byte[] Body)> expected = ReadAll(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(16, expected.Count);
        Assert.Equal("RRRRSSKZTDDDNCEZ", Encoding.ASCII.GetString(expected.ConvertAll(m => m.Type).ToArray()));

        foreach (ReadOnlySequence<byte> split in SequenceSplits.Of(bytes))
        {
            AssertSame(expected, ReadAll(split));
        }

        AssertSame(expected, ReadAll(SequenceSplits.OneBytePerSegment(bytes)));
    }

    [Fact]
    public void Decoded_transcript_has_the_login_facts_and_rows()
    {
        (byte[] bytes, _, _) = Transcript();
        foreach (ReadOnlySequence<byte> split in SequenceSplits.Of(bytes))
        {
            var messages = ReadAll(split);
            AuthenticationMessage sasl = AuthenticationMessage.Parse(messages[0].Body);
            Assert.Equal(AuthenticationKind.Sasl, sasl.Kind);
            Assert.Contains(ScramClient.Mechanism, sasl.SaslMechanisms);
            Assert.Equal(AuthenticationKind.SaslContinue, AuthenticationMessage.Parse(messages[1].Body).Kind);
            Assert.Equal(AuthenticationKind.SaslFinal, AuthenticationMessage.Parse(messages[2].Body).Kind);
            Assert.Equal(AuthenticationKind.Ok, AuthenticationMessage.Parse(messages[3].Body).Kind);
            Assert.Equal(new ParameterStatusMessage("server_version", "15.4"), ParameterStatusMessage.Parse(messages[4].Body));
            Assert.Equal(new BackendKeyDataMessage(4242, -17), BackendKeyDataMessage.Parse(messages[6].Body));
            Assert.Equal(PgTransactionStatus.Idle, ReadyForQueryMessage.Parse(messages[7].Body));
            Assert.Equal(Fields, RowDescriptionMessage.Parse(messages[8].Body));

            var row = new PgDataRowReader(messages[9].Body);
            Assert.Equal(2, row.ColumnCount);
            Assert.Equal(7, PgBinaryValues.ReadInt32(row.Next(out bool isNull)));
            Assert.False(isNull);
            Assert.Equal("seven", Encoding.UTF8.GetString(row.Next(out isNull)));
            row.End();

            row = new PgDataRowReader(messages[10].Body);
            row.Next(out _);
            Assert.True(row.Next(out isNull).IsEmpty);
            Assert.True(isNull);
            row.End();

            row = new PgDataRowReader(messages[11].Body);
            row.Next(out _);
            Assert.True(row.Next(out isNull).IsEmpty);
            Assert.False(isNull); // empty string, not NULL
            row.End();

            Assert.Equal(3, PgCommandTag.RowCount(messages[13].Body));
            PgError error = ErrorResponseMessage.Parse(messages[14].Body);
            Assert.Equal((SqlStates.DivisionByZero, "division by zero", "some detail", 8), (error.SqlState, error.Message, error.Detail, error.Position));
            Assert.Equal(PgTransactionStatus.Failed, ReadyForQueryMessage.Parse(messages[15].Body));
        }
    }

    [Fact]
    public void Scram_messages_from_the_stream_complete_the_client_exchange()
    {
        (byte[] bytes, ScramClient client, _) = Transcript();
        var messages = ReadAll(SequenceSplits.OneBytePerSegment(bytes));
        client.HandleServerFirst(AuthenticationMessage.Parse(messages[1].Body).Payload);
        client.VerifyServerFinal(AuthenticationMessage.Parse(messages[2].Body).Payload);
    }

    [Fact]
    public void Prefixes_yield_only_whole_messages_and_keep_the_rest()
    {
        (byte[] bytes, _, _) = Transcript();
        List<(byte Type, byte[] Body)> all = ReadAll(new ReadOnlySequence<byte>(bytes));
        for (int prefix = 0; prefix <= bytes.Length; prefix++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, prefix);
            int count = 0;
            long consumed = 0;
            while (PgBackendMessage.TryRead(ref buffer, int.MaxValue, out _, out ReadOnlySequence<byte> body))
            {
                consumed += PgFrameScanner.HeaderLength + body.Length;
                count++;
            }

            // Exactly the messages that fit wholly in the prefix; the partial one is left untouched.
            long whole = 0;
            int expectedCount = 0;
            foreach (var message in all)
            {
                if (whole + PgFrameScanner.HeaderLength + message.Body.Length > prefix)
                {
                    break;
                }

                whole += PgFrameScanner.HeaderLength + message.Body.Length;
                expectedCount++;
            }

            Assert.Equal(expectedCount, count);
            Assert.Equal(whole, consumed);
            Assert.Equal(prefix - whole, buffer.Length);
        }
    }

    [Fact]
    public void Oversized_and_impossible_lengths_throw()
    {
        byte[] bytes = [(byte)'D', 0, 0, 1, 0];
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Throws<PgProtocolException>(() => PgBackendMessage.TryRead(ref buffer, 100, out _, out _));
        byte[] impossible = [(byte)'D', 0, 0, 0, 3];
        buffer = new ReadOnlySequence<byte>(impossible);
        Assert.Throws<PgProtocolException>(() => PgBackendMessage.TryRead(ref buffer, 100, out _, out _));
    }

    [Fact]
    public void Contiguous_copies_only_split_bodies()
    {
        byte[] scratch = [];
        ReadOnlySequence<byte> single = new(new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, PgBackendMessage.Contiguous(single, ref scratch).ToArray());
        Assert.Empty(scratch);
        foreach (ReadOnlySequence<byte> split in SequenceSplits.Of([1, 2, 3, 4]))
        {
            Assert.Equal(new byte[] { 1, 2, 3, 4 }, PgBackendMessage.Contiguous(split, ref scratch).ToArray());
        }
    }

    [Theory]
    [InlineData(new byte[] { 0 })] // count truncated
    [InlineData(new byte[] { 0, 1, 0, 0 })] // length truncated
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 5, 1 })] // value shorter than its length
    [InlineData(new byte[] { 0, 1, 0xFF, 0xFF, 0xFF, 0xFE })] // negative length other than -1
    public void Malformed_data_rows_throw(byte[] body)
    {
        Assert.Throws<PgProtocolException>(() =>
        {
            var row = new PgDataRowReader(body);
            for (int i = 0; i < row.ColumnCount; i++)
            {
                row.Next(out _);
            }

            row.End();
        });
    }

    [Fact]
    public void Data_row_reader_checks_the_value_count()
    {
        byte[] body = [0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 9];
        Assert.Throws<PgProtocolException>(() =>
        {
            var row = new PgDataRowReader(body);
            row.Next(out _);
            row.End(); // a trailing byte
        });
        Assert.Throws<PgProtocolException>(() =>
        {
            var row = new PgDataRowReader(body.AsSpan(0, 6));
            row.Next(out _);
            row.Next(out _); // only one value
        });
        Assert.Throws<PgProtocolException>(() =>
        {
            var row = new PgDataRowReader([0, 1]);
            row.End(); // one value never read
        });
    }

    [Theory]
    [InlineData("INSERT 0 5", 5, "INSERT")]
    [InlineData("UPDATE 3", 3, "UPDATE")]
    [InlineData("DELETE 0", 0, "DELETE")]
    [InlineData("SELECT 100000", 100000, "SELECT")]
    [InlineData("MERGE 2", 2, "MERGE")]
    [InlineData("COPY 7", 7, "COPY")]
    [InlineData("FETCH 4", 4, "FETCH")]
    [InlineData("MOVE 1", 1, "MOVE")]
    [InlineData("CREATE TABLE", -1, "CREATE TABLE")]
    [InlineData("BEGIN", -1, "BEGIN")]
    [InlineData("COMMIT", -1, "COMMIT")]
    [InlineData("SELECT x", -1, "SELECT x")]
    [InlineData("", -1, "")]
    public void Command_tag_row_counts(string tag, long count, string command)
    {
        byte[] body = Encoding.ASCII.GetBytes(tag + "\0");
        Assert.Equal(count, PgCommandTag.RowCount(body));
        Assert.Equal(command, Encoding.ASCII.GetString(PgCommandTag.Command(body)));
    }

    [Fact]
    public void Copy_fail_is_a_framed_c_string()
    {
        var writer = new ArrayBufferWriter<byte>();
        PgCopyFail.Write(writer, "no");
        Assert.Equal(new byte[] { (byte)'f', 0, 0, 0, 7, (byte)'n', (byte)'o', 0 }, writer.WrittenSpan.ToArray());
    }

    private static List<(byte Type, byte[] Body)> ReadAll(ReadOnlySequence<byte> buffer)
    {
        var messages = new List<(byte, byte[])>();
        byte[] scratch = [];
        while (PgBackendMessage.TryRead(ref buffer, 1 << 20, out byte type, out ReadOnlySequence<byte> body))
        {
            messages.Add((type, PgBackendMessage.Contiguous(body, ref scratch).ToArray()));
        }

        Assert.True(buffer.IsEmpty);
        return messages;
    }

    private static void AssertSame(List<(byte Type, byte[] Body)> expected, List<(byte Type, byte[] Body)> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.Equal(expected[i].Body, actual[i].Body);
        }
    }
}
