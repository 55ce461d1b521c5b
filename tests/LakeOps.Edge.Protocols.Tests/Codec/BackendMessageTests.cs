using System.Buffers;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using static LakeOps.Edge.Protocols.Tests.Codec.CodecTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Codec;

public class BackendMessageTests
{
    [Fact]
    public void Constant_messages_match_the_spec_bytes_and_scan()
    {
        AssertFrame(PgBackendWriter.WriteParseComplete, [(byte)'1', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WriteBindComplete, [(byte)'2', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WriteCloseComplete, [(byte)'3', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WriteNoData, [(byte)'n', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WritePortalSuspended, [(byte)'s', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WriteEmptyQueryResponse, [(byte)'I', 0, 0, 0, 4]);
        AssertFrame(PgBackendWriter.WriteAuthenticationOk, [(byte)'R', 0, 0, 0, 8, 0, 0, 0, 0]);
        AssertFrame(PgBackendWriter.WriteAuthenticationCleartextPassword, [(byte)'R', 0, 0, 0, 8, 0, 0, 0, 3]);
        AssertFrame(w => PgBackendWriter.WriteReadyForQuery(w, PgTransactionStatus.Idle), [(byte)'Z', 0, 0, 0, 5, (byte)'I']);
        AssertFrame(w => PgBackendWriter.WriteReadyForQuery(w, PgTransactionStatus.InTransaction), [(byte)'Z', 0, 0, 0, 5, (byte)'T']);
        AssertFrame(w => PgBackendWriter.WriteReadyForQuery(w, PgTransactionStatus.Failed), [(byte)'Z', 0, 0, 0, 5, (byte)'E']);
        AssertFrame(w => PgBackendWriter.WriteBackendKeyData(w, 1, 0x01020304), [(byte)'K', 0, 0, 0, 12, 0, 0, 0, 1, 1, 2, 3, 4]);

        static void AssertFrame(Action<IBufferWriter<byte>> write, byte[] expected)
        {
            byte[] encoded = Encode(write);
            Assert.Equal(expected, encoded);
            ScanSingleFrame(encoded, expected[0]);
        }
    }

    [Theory]
    [InlineData(PgTransactionStatus.Idle)]
    [InlineData(PgTransactionStatus.InTransaction)]
    [InlineData(PgTransactionStatus.Failed)]
    public void ReadyForQuery_round_trips(byte status)
    {
        byte[] body = ScanSingleFrame(Encode(w => PgBackendWriter.WriteReadyForQuery(w, status)), PgMessageTypes.ReadyForQuery);
        Assert.Equal(status, ReadyForQueryMessage.Parse(body));
    }

    [Fact]
    public void ReadyForQuery_rejects_unknown_status()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(w => PgBackendWriter.WriteReadyForQuery(w, (byte)'X')));
        Assert.Throws<PgProtocolException>(() => ReadyForQueryMessage.Parse([(byte)'X']));
    }

    [Fact]
    public void Authentication_requests_round_trip()
    {
        AuthenticationMessage ok = ParseAuth(PgBackendWriter.WriteAuthenticationOk);
        Assert.Equal(AuthenticationKind.Ok, ok.Kind);
        Assert.Empty(ok.Payload);

        Assert.Equal(AuthenticationKind.CleartextPassword, ParseAuth(PgBackendWriter.WriteAuthenticationCleartextPassword).Kind);

        AuthenticationMessage md5 = ParseAuth(w => PgBackendWriter.WriteAuthenticationMd5Password(w, [1, 2, 3, 4]));
        Assert.Equal(AuthenticationKind.Md5Password, md5.Kind);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, md5.Payload);

        AuthenticationMessage sasl = ParseAuth(w => PgBackendWriter.WriteAuthenticationSasl(w, ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]));
        Assert.Equal(AuthenticationKind.Sasl, sasl.Kind);
        Assert.Equal(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"], sasl.SaslMechanisms);

        byte[] serverFirst = "r=abc,s=c2FsdA==,i=4096"u8.ToArray();
        AuthenticationMessage saslContinue = ParseAuth(w => PgBackendWriter.WriteAuthenticationSaslContinue(w, serverFirst));
        Assert.Equal(AuthenticationKind.SaslContinue, saslContinue.Kind);
        Assert.Equal(serverFirst, saslContinue.Payload);

        AuthenticationMessage saslFinal = ParseAuth(w => PgBackendWriter.WriteAuthenticationSaslFinal(w, "v=xyz"u8));
        Assert.Equal(AuthenticationKind.SaslFinal, saslFinal.Kind);
        Assert.Equal("v=xyz"u8.ToArray(), saslFinal.Payload);

        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(w => PgBackendWriter.WriteAuthenticationMd5Password(w, [1, 2, 3])));

        static AuthenticationMessage ParseAuth(Action<IBufferWriter<byte>> write) =>
            AuthenticationMessage.Parse(ScanSingleFrame(Encode(write), PgMessageTypes.Authentication));
    }

    [Fact]
    public void ParameterStatus_and_BackendKeyData_round_trip()
    {
        ParameterStatusMessage status = ParameterStatusMessage.Parse(ScanSingleFrame(
            Encode(w => PgBackendWriter.WriteParameterStatus(w, "server_version", "16.4 (LakeOps Edge)")), PgMessageTypes.ParameterStatus));
        Assert.Equal(new ParameterStatusMessage("server_version", "16.4 (LakeOps Edge)"), status);

        BackendKeyDataMessage key = BackendKeyDataMessage.Parse(ScanSingleFrame(
            Encode(w => PgBackendWriter.WriteBackendKeyData(w, 77, int.MinValue)), PgMessageTypes.BackendKeyData));
        Assert.Equal(new BackendKeyDataMessage(77, int.MinValue), key);
    }

    [Fact]
    public void RowDescription_round_trips()
    {
        PgFieldDescription[] fields =
        [
            new("id", 16384, 1, 23, 4, -1, 1),
            new("name ✓", 0, 0, 25, -1, -1, 0),
            new("", 0, 0, 1700, -1, (10 << 16) + 2 + 4, 0),
        ];
        byte[] body = ScanSingleFrame(Encode(w => PgBackendWriter.WriteRowDescription(w, fields)), PgMessageTypes.RowDescription);
        Assert.Equal(fields, RowDescriptionMessage.Parse(body));

        Assert.Empty(RowDescriptionMessage.Parse(ScanSingleFrame(Encode(w => PgBackendWriter.WriteRowDescription(w, [])), PgMessageTypes.RowDescription)));
    }

    [Fact]
    public void DataRow_round_trips_nulls_empties_and_binary()
    {
        byte[]?[] values = [[(byte)'1'], null, [], [0, 0, 0xFF, 0], new byte[1000]];
        byte[] body = ScanSingleFrame(Encode(w => PgBackendWriter.WriteDataRow(w, values)), PgMessageTypes.DataRow);
        byte[]?[] parsed = DataRowMessage.Parse(body);
        Assert.Equal(values.Length, parsed.Length);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(values[i], parsed[i]);
        }
    }

    [Fact]
    public void CommandComplete_round_trips_all_overloads()
    {
        Assert.Equal("SELECT 5", ParseTag(w => PgBackendWriter.WriteCommandComplete(w, "SELECT 5")));
        Assert.Equal("BEGIN", ParseTag(w => PgBackendWriter.WriteCommandComplete(w, "BEGIN"u8)));
        Assert.Equal("INSERT 0 12345678901", ParseTag(w => PgBackendWriter.WriteCommandComplete(w, "INSERT 0"u8, 12345678901)));
        Assert.Equal("SELECT 0", ParseTag(w => PgBackendWriter.WriteCommandComplete(w, "SELECT"u8, 0)));
        Assert.Throws<ArgumentException>(() => Encode(w => PgBackendWriter.WriteCommandComplete(w, "A\0B"u8)));
        Assert.Throws<ArgumentException>(() => Encode(w => PgBackendWriter.WriteCommandComplete(w, "A\0"u8, 1)));

        static string ParseTag(Action<IBufferWriter<byte>> write) =>
            CommandCompleteMessage.Parse(ScanSingleFrame(Encode(write), PgMessageTypes.CommandComplete));
    }

    [Fact]
    public void ParameterDescription_round_trips()
    {
        int[] oids = [23, 25, 0, 1184];
        Assert.Equal(oids, ParameterDescriptionMessage.Parse(ScanSingleFrame(
            Encode(w => PgBackendWriter.WriteParameterDescription(w, oids)), PgMessageTypes.ParameterDescription)));
        Assert.Empty(ParameterDescriptionMessage.Parse(Encode(w => PgBackendWriter.WriteParameterDescription(w, []))[5..]));
    }

    [Fact]
    public void NegotiateProtocolVersion_round_trips()
    {
        NegotiateProtocolVersionMessage message = NegotiateProtocolVersionMessage.Parse(ScanSingleFrame(
            Encode(w => PgBackendWriter.WriteNegotiateProtocolVersion(w, 0, ["_pq_.a", "_pq_.b"])), PgMessageTypes.NegotiateProtocolVersion));
        Assert.Equal(0, message.NewestMinor);
        Assert.Equal(["_pq_.a", "_pq_.b"], message.UnsupportedOptions);

        Assert.Empty(NegotiateProtocolVersionMessage.Parse(Encode(w => PgBackendWriter.WriteNegotiateProtocolVersion(w, 0, []))[5..]).UnsupportedOptions);
    }

    [Fact]
    public void ErrorResponse_matches_hand_computed_bytes()
    {
        byte[] expected =
        [
            (byte)'E', 0, 0, 0, 0,
            (byte)'S', .. "ERROR"u8, 0,
            (byte)'V', .. "ERROR"u8, 0,
            (byte)'C', .. "42601"u8, 0,
            (byte)'M', .. "bad"u8, 0,
            (byte)'P', (byte)'1', (byte)'2', 0,
            0,
        ];
        expected[4] = (byte)(expected.Length - 1);
        Assert.Equal(expected, Encode(w => PgBackendWriter.WriteErrorResponse(w, new PgError(PgSeverity.Error, SqlStates.SyntaxError, "bad", Position: 12))));
    }

    [Fact]
    public void Error_and_notice_round_trip()
    {
        var full = new PgError(PgSeverity.Fatal, SqlStates.InvalidPassword, "password authentication failed for user \"bob\"",
            Detail: "Connection matched rule 3.", Hint: "Check the password.", Position: 1234567);
        Assert.Equal(full, ErrorResponseMessage.Parse(ScanSingleFrame(Encode(w => PgBackendWriter.WriteErrorResponse(w, full)), PgMessageTypes.ErrorResponse)));

        var minimal = new PgError(PgSeverity.Error, SqlStates.InternalError, "");
        Assert.Equal(minimal, ErrorResponseMessage.Parse(ScanSingleFrame(Encode(w => PgBackendWriter.WriteErrorResponse(w, minimal)), PgMessageTypes.ErrorResponse)));

        var notice = new PgError(PgSeverity.Warning, "01000", "there is no transaction in progress");
        Assert.Equal(notice, ErrorResponseMessage.Parse(ScanSingleFrame(Encode(w => PgBackendWriter.WriteNoticeResponse(w, notice)), PgMessageTypes.NoticeResponse)));
    }

    [Fact]
    public void Error_text_with_NUL_is_sanitized_rather_than_failing()
    {
        var error = new PgError(PgSeverity.Error, SqlStates.InternalError, "a\0b", Detail: "\0");
        PgError parsed = ErrorResponseMessage.Parse(Encode(w => PgBackendWriter.WriteErrorResponse(w, error))[5..]);
        Assert.Equal("a?b", parsed.Message);
        Assert.Equal("?", parsed.Detail);
    }

    [Fact]
    public void ErrorResponse_parser_skips_unknown_fields_and_uses_localized_severity_as_fallback()
    {
        byte[] body = [(byte)'S', .. "FEHLER"u8, 0, (byte)'C', .. "42P01"u8, 0, (byte)'M', .. "x"u8, 0, (byte)'t', .. "tbl"u8, 0, (byte)'P', .. "abc"u8, 0, 0];
        PgError parsed = ErrorResponseMessage.Parse(body);
        Assert.Equal(new PgError("FEHLER", "42P01", "x"), parsed);
    }

    [Fact]
    public void Backend_messages_back_to_back_scan_under_every_split()
    {
        var buffer = new ArrayBufferWriter<byte>();
        PgBackendWriter.WriteParseComplete(buffer);
        PgBackendWriter.WriteBindComplete(buffer);
        PgBackendWriter.WriteRowDescription(buffer, [new PgFieldDescription("n", 0, 0, 23, 4, -1, 0)]);
        PgBackendWriter.WriteDataRow(buffer, [[(byte)'1']]);
        PgBackendWriter.WriteDataRow(buffer, [null]);
        PgBackendWriter.WriteCommandComplete(buffer, "SELECT"u8, 2);
        PgBackendWriter.WriteReadyForQuery(buffer, PgTransactionStatus.Idle);
        byte[] bytes = buffer.WrittenSpan.ToArray();
        byte[] expectedTypes = [(byte)'1', (byte)'2', (byte)'T', (byte)'D', (byte)'D', (byte)'C', (byte)'Z'];

        foreach (ReadOnlySequence<byte> sequence in Support.SequenceSplits.Of(bytes))
        {
            List<(byte Type, byte[] Frame)> frames = ScanAll(sequence);
            Assert.Equal(expectedTypes, frames.Select(f => f.Type));
            Assert.Equal("SELECT 2", CommandCompleteMessage.Parse(frames[5].Frame.AsSpan(5)));
        }
    }

    [Fact]
    public void Writing_a_result_tail_allocates_nothing()
    {
        PgFieldDescription[] fields = [new("id", 0, 0, 23, 4, -1, 1), new("name", 0, 0, 25, -1, -1, 0)];
        var buffer = new ArrayBufferWriter<byte>(4096);
        var error = new PgError(PgSeverity.Error, SqlStates.SyntaxError, "syntax error", Position: 7);

        void WriteAll()
        {
            buffer.ResetWrittenCount();
            PgBackendWriter.WriteRowDescription(buffer, fields);
            PgBackendWriter.WriteCommandComplete(buffer, "SELECT"u8, 42);
            PgBackendWriter.WriteErrorResponse(buffer, error);
            PgBackendWriter.WriteReadyForQuery(buffer, PgTransactionStatus.Idle);
        }

        WriteAll(); // warm up (JIT, statics)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            WriteAll();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
