using System.Buffers.Text;

namespace LakeOps.Edge.Protocols.Postgres.Client;

/// <summary>Reads the row count out of a CommandComplete tag ("INSERT 0 5", "UPDATE 3", "SELECT 10", "COPY 7").</summary>
public static class PgCommandTag
{
    /// <summary>
    /// The count of a tag that carries one (INSERT, UPDATE, DELETE, SELECT, MERGE, COPY, FETCH, MOVE), else -1.
    /// <paramref name="body"/> is the CommandComplete body (the tag and its NUL).
    /// </summary>
    public static long RowCount(ReadOnlySpan<byte> body)
    {
        int nul = body.IndexOf((byte)0);
        ReadOnlySpan<byte> tag = nul < 0 ? body : body[..nul];
        int space = tag.IndexOf((byte)' ');
        if (space <= 0)
        {
            return -1;
        }

        ReadOnlySpan<byte> command = tag[..space];
        if (!(command.SequenceEqual("INSERT"u8) || command.SequenceEqual("UPDATE"u8) || command.SequenceEqual("DELETE"u8)
            || command.SequenceEqual("SELECT"u8) || command.SequenceEqual("MERGE"u8) || command.SequenceEqual("COPY"u8)
            || command.SequenceEqual("FETCH"u8) || command.SequenceEqual("MOVE"u8)))
        {
            return -1;
        }

        // The count is the last word ("INSERT oid count" has two numbers).
        ReadOnlySpan<byte> last = tag[(tag.LastIndexOf((byte)' ') + 1)..];
        return Utf8Parser.TryParse(last, out long count, out int consumed) && consumed == last.Length && count >= 0 ? count : -1;
    }

    /// <summary>The tag without its count and NUL, e.g. "INSERT", "COMMIT", "CREATE TABLE".</summary>
    public static ReadOnlySpan<byte> Command(ReadOnlySpan<byte> body)
    {
        int nul = body.IndexOf((byte)0);
        ReadOnlySpan<byte> tag = nul < 0 ? body : body[..nul];
        while (tag.Length > 0 && (char.IsAsciiDigit((char)tag[^1]) || tag[^1] == (byte)' '))
        {
            tag = tag[..^1];
        }

        return tag;
    }
}
