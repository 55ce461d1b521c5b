using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LakeOps.Edge.IntegrationTests.Support;

/// <summary>Reads Edge's audit log (JSON lines) while the writer appends to it: only complete lines count.</summary>
public static class AuditLog
{
    /// <summary>Every complete record in the file (none when it does not exist yet).</summary>
    public static List<JsonElement> Read(string path)
    {
        long position = 0;
        return ReadNew(path, ref position);
    }

    /// <summary>The complete records after <paramref name="position"/> (a byte offset), which moves past them.</summary>
    public static List<JsonElement> ReadNew(string path, ref long position)
    {
        var records = new List<JsonElement>();
        if (!File.Exists(path))
        {
            return records;
        }

        byte[] chunk;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            if (stream.Length <= position)
            {
                return records;
            }

            stream.Position = position;
            chunk = new byte[stream.Length - position];
            stream.ReadExactly(chunk);
        }

        // The part after the last newline is a line still being written.
        int end = Array.LastIndexOf(chunk, (byte)'\n');
        if (end < 0)
        {
            return records;
        }

        position += end + 1;
        foreach (string line in Encoding.UTF8.GetString(chunk, 0, end).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument document = JsonDocument.Parse(line);
            records.Add(document.RootElement.Clone());
        }

        return records;
    }

    /// <summary>
    /// The record whose statement text holds <paramref name="marker"/>, polling until the writer has written it
    /// (it flushes within about 50 ms); fails after <paramref name="timeout"/> with the file and <paramref name="context"/>.
    /// </summary>
    public static async Task<JsonElement> WaitForLineAsync(string path, string marker, TimeSpan timeout, Func<string>? context = null)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (JsonElement line in Read(path))
            {
                if (line.TryGetProperty("sql", out JsonElement sql) && sql.GetString() is { } text && text.Contains(marker, StringComparison.Ordinal))
                {
                    return line;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                string content = File.Exists(path) ? await File.ReadAllTextAsync(path) : "(no file)";
                throw new TimeoutException($"no audit line for '{marker}' within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s:\n{content}\n{context?.Invoke()}");
            }

            await Task.Delay(25);
        }
    }
}
