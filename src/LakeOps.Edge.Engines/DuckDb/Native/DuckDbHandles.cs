using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace LakeOps.Edge.Engines.DuckDb.Native;

/// <summary>
/// SafeHandles for the long-lived DuckDB objects: each is released exactly once, and a call that
/// uses the handle (e.g. an interrupt from another thread) keeps it alive until the call returns.
/// </summary>
internal abstract class DuckDbHandle : SafeHandle
{
    protected DuckDbHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public void Attach(nint value) => SetHandle(value);

    /// <summary>The raw pointer for a call made while the owner guarantees the handle is alive.</summary>
    public nint Raw => handle;
}

internal sealed unsafe class DatabaseHandle : DuckDbHandle
{
    protected override bool ReleaseHandle()
    {
        nint h = handle;
        DuckDbNative.duckdb_close(&h);
        return true;
    }
}

internal sealed unsafe class ConnectionHandle : DuckDbHandle
{
    protected override bool ReleaseHandle()
    {
        nint h = handle;
        DuckDbNative.duckdb_disconnect(&h);
        return true;
    }
}

internal sealed unsafe class PreparedHandle : DuckDbHandle
{
    protected override bool ReleaseHandle()
    {
        nint h = handle;
        DuckDbNative.duckdb_destroy_prepare(&h);
        return true;
    }
}

/// <summary>Small helpers for C strings.</summary>
internal static unsafe class Utf8
{
    /// <summary>Reads a NUL-terminated UTF-8 string; null pointer gives null.</summary>
    public static string? Read(byte* text) => text == null ? null : Marshal.PtrToStringUTF8((nint)text);

    /// <summary>Reads and frees a string DuckDB allocated for us (duckdb_free).</summary>
    public static string? ReadAndFree(byte* text)
    {
        if (text == null)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8((nint)text);
        }
        finally
        {
            DuckDbNative.duckdb_free(text);
        }
    }

    /// <summary>
    /// Encodes <paramref name="text"/> as NUL-terminated UTF-8 into <paramref name="scratch"/>, or into a
    /// buffer rented from the shared pool when it does not fit (return it with <see cref="Return"/>).
    /// The returned span includes the terminating NUL.
    /// </summary>
    public static Span<byte> EncodeZ(string text, Span<byte> scratch, ref byte[]? rented)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        Span<byte> destination = scratch;
        if (max > scratch.Length)
        {
            rented = ArrayPool<byte>.Shared.Rent(max);
            destination = rented;
        }

        int written = Encoding.UTF8.GetBytes(text, destination);
        destination[written] = 0;
        return destination[..(written + 1)];
    }

    public static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
