using System.Buffers;
using System.Buffers.Binary;
using LakeOps.Edge.Core.Engines;
using LakeOps.Edge.Protocols.Postgres;
using LakeOps.Edge.Protocols.Tests.Support;
using static LakeOps.Edge.Protocols.Tests.Codec.CodecTestHelpers;

namespace LakeOps.Edge.Protocols.Tests.Codec;

public class MalformedInputTests
{
    /// <summary>Every body parser, by name, so failures say which one misbehaved.</summary>
    private static readonly (string Name, Action<byte[]> Parse)[] Parsers =
    [
        ("Query", b => QueryMessage.Parse(b)),
        ("Parse", b => ParseMessage.Parse(b)),
        ("Bind", b => BindMessage.Parse(b)),
        ("Describe", b => DescribeMessage.Parse(b)),
        ("Execute", b => ExecuteMessage.Parse(b)),
        ("Close", b => CloseMessage.Parse(b)),
        ("Sync", b => EmptyMessage.Parse(PgMessageTypes.Sync, b)),
        ("Password", b => PasswordMessage.ParsePassword(b)),
        ("SASLInitialResponse", b => SaslInitialResponse.Parse(b)),
        ("SASLResponse", b => SaslResponse.Parse(b)),
        ("Startup", b => StartupPacket.Parse(b)),
        ("Authentication", b => AuthenticationMessage.Parse(b)),
        ("RowDescription", b => RowDescriptionMessage.Parse(b)),
        ("DataRow", b => DataRowMessage.Parse(b)),
        ("CommandComplete", b => CommandCompleteMessage.Parse(b)),
        ("ParameterStatus", b => ParameterStatusMessage.Parse(b)),
        ("BackendKeyData", b => BackendKeyDataMessage.Parse(b)),
        ("ReadyForQuery", b => ReadyForQueryMessage.Parse(b)),
        ("ParameterDescription", b => ParameterDescriptionMessage.Parse(b)),
        ("NegotiateProtocolVersion", b => NegotiateProtocolVersionMessage.Parse(b)),
        ("ErrorResponse", b => ErrorResponseMessage.Parse(b)),
    ];

    /// <summary>Valid bodies whose every strict prefix and every one-byte extension is invalid.</summary>
    public static TheoryData<string, byte[]> StrictBodies => new()
    {
        { "Query", Body(w => PgFrontendWriter.WriteQuery(w, "SELECT 1")) },
        { "Parse", Body(w => PgFrontendWriter.WriteParse(w, "s", "SELECT $1", [23])) },
        { "Bind", Body(w => PgFrontendWriter.WriteBind(w, "p", "s", [1], [[1, 2], null], [0])) },
        { "Describe", Body(w => PgFrontendWriter.WriteDescribe(w, 'S', "s")) },
        { "Execute", Body(w => PgFrontendWriter.WriteExecute(w, "p", 10)) },
        { "Close", Body(w => PgFrontendWriter.WriteClose(w, 'P', "p")) },
        { "Password", Body(w => PgFrontendWriter.WritePassword(w, "pw")) },
        { "SASLInitialResponse", Body(w => PgFrontendWriter.WriteSaslInitialResponse(w, "SCRAM-SHA-256", "n,,n=,r=x"u8)) },
        { "Authentication", Body(w => PgBackendWriter.WriteAuthenticationSasl(w, ["SCRAM-SHA-256"])) },
        { "RowDescription", Body(w => PgBackendWriter.WriteRowDescription(w, [new PgFieldDescription("a", 1, 2, 3, 4, 5, 0)])) },
        { "DataRow", Body(w => PgBackendWriter.WriteDataRow(w, [[1], null])) },
        { "CommandComplete", Body(w => PgBackendWriter.WriteCommandComplete(w, "SELECT 1")) },
        { "ParameterStatus", Body(w => PgBackendWriter.WriteParameterStatus(w, "a", "b")) },
        { "BackendKeyData", Body(w => PgBackendWriter.WriteBackendKeyData(w, 1, 2)) },
        { "ReadyForQuery", Body(w => PgBackendWriter.WriteReadyForQuery(w, PgTransactionStatus.Idle)) },
        { "ParameterDescription", Body(w => PgBackendWriter.WriteParameterDescription(w, [23, 25])) },
        { "NegotiateProtocolVersion", Body(w => PgBackendWriter.WriteNegotiateProtocolVersion(w, 0, ["_pq_.x"])) },
        { "ErrorResponse", Body(w => PgBackendWriter.WriteErrorResponse(w, new PgError(PgSeverity.Error, "XX000", "m"))) },
        { "Startup", Encode(w => PgFrontendWriter.WriteStartup(w, [new("user", "u")])) },
    };

    [Theory]
    [MemberData(nameof(StrictBodies))]
    public void Truncated_bodies_and_trailing_bytes_throw_protocol_exception(string parser, byte[] body)
    {
        Action<byte[]> parse = Parsers.Single(p => p.Name == parser).Parse;
        parse(body); // the intact body parses

        for (int length = 0; length < body.Length; length++)
        {
            byte[] prefix = body[..length];
            if (parser == "Startup" && prefix.Length >= 4)
            {
                BinaryPrimitives.WriteInt32BigEndian(prefix, prefix.Length); // keep the length honest to reach the body checks
            }

            Assert.Throws<PgProtocolException>(() => parse(prefix));
        }

        byte[] longer = [.. body, 0];
        if (parser == "Startup")
        {
            BinaryPrimitives.WriteInt32BigEndian(longer, longer.Length);
        }

        var trailing = Assert.Throws<PgProtocolException>(() => parse(longer));
        Assert.Equal(SqlStates.ProtocolViolation, trailing.SqlState);
        Assert.Contains("malformed", trailing.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> BadBinds => new()
    {
        // portal "", statement "", then the counts and values under test
        { "parameter count above values present", [0, 0, 0, 0, 0, 3, 0, 0, 0, 1, (byte)'x', 0, 0] },
        { "two formats for three parameters", [0, 0, 0, 2, 0, 0, 0, 1, 0, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0] },
        { "negative value length", [0, 0, 0, 0, 0, 1, 255, 255, 255, 254, 0, 0] },
        { "value length beyond body", [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 2, 3, 0, 0] },
        { "huge parameter count", [0, 0, 0, 0, 255, 255, 0, 0] },
        { "huge format count", [0, 0, 255, 255, 0, 0, 0, 0] },
        { "missing result format count", [0, 0, 0, 0, 0, 0] },
        { "portal without NUL", [(byte)'p'] },
    };

    [Theory]
    [MemberData(nameof(BadBinds))]
    public void Bad_bind_counts_and_lengths_throw_protocol_exception(string why, byte[] body)
    {
        var error = Assert.Throws<PgProtocolException>(() => BindMessage.Parse(body));
        Assert.StartsWith("Bind message is", error.Message, StringComparison.Ordinal);
        Assert.Equal(SqlStates.ProtocolViolation, error.SqlState);
        Assert.NotNull(why);
    }

    [Fact]
    public void Bind_error_names_the_format_and_parameter_counts()
    {
        byte[] body = [0, 0, 0, 2, 0, 0, 0, 1, 0, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0];
        var error = Assert.Throws<PgProtocolException>(() => BindMessage.Parse(body));
        Assert.Contains("2 parameter formats but 3 parameters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((byte)'X')]
    [InlineData((byte)'s')]
    [InlineData((byte)0)]
    public void Describe_and_Close_reject_unknown_targets(byte kind)
    {
        byte[] body = [kind, (byte)'n', 0];
        Assert.Contains("'S' (statement) or 'P' (portal)", Assert.Throws<PgProtocolException>(() => DescribeMessage.Parse(body)).Message, StringComparison.Ordinal);
        Assert.Throws<PgProtocolException>(() => CloseMessage.Parse(body));
    }

    [Fact]
    public void Missing_NUL_is_reported()
    {
        var error = Assert.Throws<PgProtocolException>(() => QueryMessage.Parse("SELECT 1"u8));
        Assert.Equal("Query message is malformed: string is not NUL-terminated", error.Message);
    }

    [Fact]
    public void Invalid_utf8_is_character_not_in_repertoire()
    {
        var error = Assert.Throws<PgProtocolException>(() => QueryMessage.Parse([(byte)'a', 0xFF, 0xFE, 0]));
        Assert.Equal("22021", error.SqlState);
        Assert.Throws<PgProtocolException>(() => ParseMessage.Parse([0xC0, 0x80, 0, 0, 0, 0]));
    }

    [Fact]
    public void Other_negative_lengths_and_counts_throw()
    {
        Assert.Throws<PgProtocolException>(() => SaslInitialResponse.Parse([(byte)'M', 0, 255, 255, 255, 254]));
        Assert.Throws<PgProtocolException>(() => DataRowMessage.Parse([0, 1, 255, 255, 255, 250]));
        Assert.Throws<PgProtocolException>(() => NegotiateProtocolVersionMessage.Parse([0, 0, 0, 0, 255, 255, 255, 255]));
        Assert.Throws<PgProtocolException>(() => AuthenticationMessage.Parse([0, 0, 0, 99]));
        Assert.Throws<PgProtocolException>(() => ErrorResponseMessage.Parse([(byte)'M', (byte)'x', 0, 0])); // no severity / code
    }

    [Fact]
    public void PgReader_checks_bounds_and_trailing_bytes()
    {
        var reader = new PgReader([0, 1, 0, 0, 0, 2, (byte)'h', (byte)'i', 0, 9], "Test");
        Assert.Equal(1, reader.ReadInt16());
        Assert.Equal(2, reader.ReadInt32());
        Assert.Equal("hi", reader.ReadCStringAsString());
        Assert.Equal(1, reader.Remaining);

        PgProtocolException trailing = CatchReader((ref PgReader r) => r.End(), [0, 1], skip: 1);
        Assert.Equal("Test message is malformed: 1 unexpected bytes after its last field", trailing.Message);
        Assert.Equal("Test message is truncated", CatchReader((ref PgReader r) => r.ReadInt32(), [0, 1, 2]).Message);
        Assert.Equal("Test message is truncated", CatchReader((ref PgReader r) => r.ReadBytes(3), [0, 1]).Message);
        Assert.Contains("negative length", CatchReader((ref PgReader r) => r.ReadBytes(-2), [0, 1]).Message, StringComparison.Ordinal);
        Assert.Equal("Test message is truncated", CatchReader((ref PgReader r) => r.ReadByte(), []).Message);

        var bytes = new PgReader([1, 2, 3], "Test");
        Assert.Equal(new byte[] { 1, 2 }, bytes.ReadBytes(2).ToArray());
        Assert.Equal(3, bytes.ReadByte());
        bytes.End();
        Assert.True(bytes.IsAtEnd);
    }

    [Fact]
    public void Seeded_random_inputs_only_ever_throw_protocol_exceptions()
    {
        var random = new Random(20240611);
        byte[][] seeds = StrictBodies.Select(row => (byte[])row[1]).ToArray();
        int rejected = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] input = i % 2 == 0 ? RandomBytes(random) : Mutate(random, seeds[random.Next(seeds.Length)]);
            foreach ((string name, Action<byte[]> parse) in Parsers)
            {
                try
                {
                    parse(input);
                }
                catch (PgProtocolException)
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name} threw {e.GetType().Name} for input {Convert.ToHexString(input)}: {e.Message}");
                }
            }

            // Scanners never throw, whatever the bytes, and never report a frame longer than the buffer as complete.
            foreach (ReadOnlySequence<byte> sequence in SequenceSplits.Of(input).Take(3))
            {
                if (PgFrameScanner.TryReadFrame(sequence, 1 << 16, out _, out int frameLength) == PgFrameStatus.Complete)
                {
                    Assert.InRange(frameLength, 5, input.Length);
                }

                if (PgFrameScanner.TryReadStartupFrame(sequence, 1 << 16, out int startupLength) == PgFrameStatus.Complete)
                {
                    Assert.InRange(startupLength, 8, input.Length);
                }
            }
        }

        Assert.True(rejected > 2000, "the random inputs should mostly be rejected");
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 48)];
        random.NextBytes(bytes);
        if (bytes.Length >= 8 && random.Next(2) == 0)
        {
            // Half of these get an honest startup header so the startup parser's body checks run.
            BinaryPrimitives.WriteInt32BigEndian(bytes, bytes.Length);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), random.Next(3) switch { 0 => 3 << 16, 1 => StartupPacket.CancelRequestCode, _ => (3 << 16) | 2 });
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        byte[] bytes = (byte[])seed.Clone();
        switch (random.Next(4))
        {
            case 0 when bytes.Length > 0:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                break;
            case 1:
                bytes = bytes[..random.Next(bytes.Length + 1)];
                break;
            case 2:
                byte[] extra = new byte[random.Next(1, 8)];
                random.NextBytes(extra);
                bytes = [.. bytes, .. extra];
                break;
            default:
                for (int flips = random.Next(1, 4); flips > 0 && bytes.Length > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                break;
        }

        return bytes;
    }

    private static PgProtocolException CatchReader(ReaderAction action, byte[] data, int skip = 0)
    {
        try
        {
            var reader = new PgReader(data, "Test");
            reader.ReadBytes(skip);
            action(ref reader);
        }
        catch (PgProtocolException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("expected a PgProtocolException");
    }

    private delegate void ReaderAction(ref PgReader reader);

    private static byte[] Body(Action<IBufferWriter<byte>> write) => Encode(write)[PgFrameScanner.HeaderLength..];
}
