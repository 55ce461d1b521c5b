using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Protocols.Tests.MySql;

public class MySqlPayloadReaderTests
{
    [Fact]
    public void Fixed_integers_are_little_endian()
    {
        byte[] data = [1, 2, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8];
        var reader = new MySqlPayloadReader(data);
        Assert.Equal(0x0201, reader.ReadUInt16());
        Assert.Equal(0x030201, reader.ReadUInt24());
        Assert.Equal(0x04030201u, reader.ReadUInt32());
        Assert.Equal(0x0807060504030201UL, reader.ReadUInt64());
        Assert.True(reader.IsAtEnd);
    }

    [Fact]
    public void Every_read_past_the_end_throws_a_protocol_error_naming_packet_and_field()
    {
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadByte("b"), [], "b");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadUInt16("u16"), [1], "u16");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadUInt24("u24"), [1, 2], "u24");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadUInt32("u32"), [1, 2, 3], "u32");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadUInt64("u64"), [1, 2, 3, 4, 5, 6, 7], "u64");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadLengthEncodedInteger("len"), [0xFC, 1], "len");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadLengthEncodedBytes("str"), [5, 1, 2], "str");
        AssertTruncated((ref MySqlPayloadReader r) => r.ReadBytes(3, "fix"), [1, 2], "fix");
    }

    [Fact]
    public void Malformed_values_are_rejected()
    {
        var ex = Assert.Throws<MySqlProtocolException>(() => new MySqlPayloadReader([0xFF], "P").ReadLengthEncodedInteger());
        Assert.Contains("0xFF", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<MySqlProtocolException>(() => new MySqlPayloadReader([0xFB], "P").ReadLengthEncodedInteger());
        Assert.Contains("NULL", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<MySqlProtocolException>(() => new MySqlPayloadReader("abc"u8.ToArray(), "P").ReadNullTerminatedBytes("name"));
        Assert.Contains("NUL", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<MySqlProtocolException>(() => new MySqlPayloadReader([1, 2], "P").End());
        Assert.Contains("2 unexpected bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(MySqlErrorCode.NetPacketsOutOfOrder, ex.ErrorCode);
        Assert.Equal("08S01", ex.SqlState);
    }

    [Fact]
    public void Rest_and_null_terminated_strings_split_the_payload()
    {
        byte[] data = "ab\0cd"u8.ToArray();
        var reader = new MySqlPayloadReader(data);
        Assert.Equal("ab", reader.ReadNullTerminatedString());
        Assert.Equal("cd"u8.ToArray(), reader.ReadRest().ToArray());
        Assert.True(reader.IsAtEnd);
    }

    private delegate void ReadAction(ref MySqlPayloadReader reader);

    private static void AssertTruncated(ReadAction read, byte[] data, string field)
    {
        var ex = Assert.Throws<MySqlProtocolException>(() =>
        {
            var reader = new MySqlPayloadReader(data, "Test");
            read(ref reader);
        });
        Assert.Contains("Test", ex.Message, StringComparison.Ordinal);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }
}
