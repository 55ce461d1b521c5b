using System.Buffers.Text;
using Apache.Arrow;
using Apache.Arrow.Arrays;

namespace LakeOps.Edge.Protocols.Postgres.Types;

/// <summary>
/// Reads variable or fixed width byte values from any Arrow binary layout (Binary/String,
/// LargeBinary/LargeString, BinaryView/StringView, FixedSizeBinary). The layout is decided in Bind;
/// per value it is one switch on that kind.
/// </summary>
internal abstract class BytesEncoder(PgTypeInfo type) : ValueEncoder(type)
{
    private enum Layout : byte
    {
        Binary,
        LargeBinary,
        BinaryView,
        FixedSize,
    }

    private Layout _layout;
    private IArrowArray _array = null!;
    private BinaryArray? _binary;
    private LargeBinaryArray? _large;
    private BinaryViewArray? _view;
    private FixedSizeBinaryArray? _fixed;

    protected override void BindCore(IArrowArray array)
    {
        _array = array;
        _binary = array as BinaryArray;
        _large = array as LargeBinaryArray;
        _view = array as BinaryViewArray;
        _fixed = array as FixedSizeBinaryArray;
        _layout = _binary is not null ? Layout.Binary
            : _large is not null ? Layout.LargeBinary
            : _view is not null ? Layout.BinaryView
            : _fixed is not null ? Layout.FixedSize
            : throw new ArgumentException($"expected an Arrow binary or string array, got {array.GetType().Name}", nameof(array));
    }

    public override bool IsNull(int index) => _array.IsNull(index);

    protected ReadOnlySpan<byte> GetBytes(int index) => _layout switch
    {
        Layout.Binary => _binary!.GetBytes(index),
        Layout.LargeBinary => _large!.GetBytes(index),
        Layout.BinaryView => _view!.GetBytes(index),
        _ => _fixed!.GetBytes(index),
    };
}

/// <summary>text and json: the UTF-8 bytes straight from the Arrow value buffer, in both formats.</summary>
internal sealed class Utf8Encoder(PgTypeInfo type) : BytesEncoder(type)
{
    public override int MaxTextLength(int index) => GetBytes(index).Length;

    public override int WriteText(int index, Span<byte> destination)
    {
        ReadOnlySpan<byte> value = GetBytes(index);
        value.CopyTo(destination);
        return value.Length;
    }

    public override int MaxBinaryLength(int index) => GetBytes(index).Length;

    public override int WriteBinary(int index, Span<byte> destination) => WriteText(index, destination);

    /// <summary>A json column embeds as JSON; text becomes a JSON string.</summary>
    public override int MaxJsonLength(int index) =>
        Type.Oid == PgTypes.Json ? GetBytes(index).Length : PgTextEscaping.MaxJsonStringLength(GetBytes(index).Length);

    public override int WriteJson(int index, Span<byte> destination)
    {
        int written = WriteText(index, destination);
        return Type.Oid == PgTypes.Json ? written : PgTextEscaping.QuoteJsonInPlace(destination, written);
    }
}

/// <summary>bytea: text is "\x" plus lower-case hex (bytea_output=hex), binary is the raw bytes.</summary>
internal sealed class ByteaEncoder() : BytesEncoder(PgTypeCatalog.Bytea)
{
    public override int MaxTextLength(int index) => 2 + (2 * GetBytes(index).Length);

    public override int WriteText(int index, Span<byte> destination)
    {
        destination[0] = (byte)'\\';
        destination[1] = (byte)'x';
        return 2 + PgTextEscaping.WriteHex(GetBytes(index), destination[2..]);
    }

    public override int MaxBinaryLength(int index) => GetBytes(index).Length;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        ReadOnlySpan<byte> value = GetBytes(index);
        value.CopyTo(destination);
        return value.Length;
    }
}

/// <summary>uuid from FixedSizeBinary(16) (RFC 4122 byte order, the same as uuid_send).</summary>
internal sealed class UuidEncoder() : BytesEncoder(PgTypeCatalog.Uuid)
{
    public const int TextLength = 36;

    public override int MaxTextLength(int index) => TextLength;

    public override int WriteText(int index, Span<byte> destination) => WriteUuidText(GetBytes(index), destination);

    public override int MaxBinaryLength(int index) => 16;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        GetBytes(index).CopyTo(destination);
        return 16;
    }

    /// <summary>uuid_out: lower-case 8-4-4-4-12.</summary>
    public static int WriteUuidText(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        int pos = 0;
        for (int i = 0; i < 16; i++)
        {
            if (i is 4 or 6 or 8 or 10)
            {
                destination[pos++] = (byte)'-';
            }

            destination[pos++] = PgTextEscaping.HexDigit(bytes[i] >> 4);
            destination[pos++] = PgTextEscaping.HexDigit(bytes[i] & 0xF);
        }

        return pos;
    }
}

/// <summary>
/// uuid carried as UTF-8 text (Arrow utf8 with arrow.uuid metadata). Text is normalised to uuid_out's
/// lower-case form; binary needs the 16 bytes, so text that is not a uuid fails the row with 22P02.
/// </summary>
internal sealed class UuidTextEncoder() : BytesEncoder(PgTypeCatalog.Uuid)
{
    public override int MaxTextLength(int index) => Math.Max(UuidEncoder.TextLength, GetBytes(index).Length);

    public override int WriteText(int index, Span<byte> destination)
    {
        ReadOnlySpan<byte> text = GetBytes(index);
        if (!TryParse(text, out Guid value))
        {
            // Pass unexpected text through unchanged rather than hide it.
            text.CopyTo(destination);
            return text.Length;
        }

        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes, bigEndian: true, out _);
        return UuidEncoder.WriteUuidText(bytes, destination);
    }

    public override int MaxBinaryLength(int index) => 16;

    public override int WriteBinary(int index, Span<byte> destination)
    {
        if (!TryParse(GetBytes(index), out Guid value))
        {
            throw new PgEncodingException(Core.Engines.SqlStates.InvalidTextRepresentation, "invalid input syntax for type uuid in an Arrow uuid column");
        }

        value.TryWriteBytes(destination, bigEndian: true, out _);
        return 16;
    }

    private static bool TryParse(ReadOnlySpan<byte> text, out Guid value) =>
        (Utf8Parser.TryParse(text, out value, out int consumed, 'D') && consumed == text.Length)
        || (Utf8Parser.TryParse(text, out value, out consumed, 'N') && consumed == text.Length)
        || (Utf8Parser.TryParse(text, out value, out consumed, 'B') && consumed == text.Length);
}
