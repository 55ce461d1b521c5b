using System.Globalization;
using System.Numerics;
using System.Text;

namespace LakeOps.Edge.IntegrationTests.Matrix;

/// <summary>
/// What one client got for one query, in canonical form. For <see cref="QueryShape.Error"/> queries the
/// rows are the error (as "ERROR naming X" when it was the client's native error and named the table)
/// followed by the rows of <see cref="MatrixQuery.AfterErrorSql"/> on the same connection.
/// </summary>
public sealed class MatrixOutcome
{
    private MatrixOutcome(IReadOnlyList<string>? columns, IReadOnlyList<string[]> rows, string? failure, string? nativeError)
    {
        Columns = columns;
        Rows = rows;
        Failure = failure;
        NativeError = nativeError;
    }

    /// <summary>Column names the client reported; null for the CLIs (they print no header in this mode).</summary>
    public IReadOnlyList<string>? Columns { get; }

    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>Set when the client could not produce a result at all (connection refused, unexpected error, ...).</summary>
    public string? Failure { get; }

    /// <summary>For error queries: the native code the client saw (SQLSTATE or MySQL error number), for the report only.</summary>
    public string? NativeError { get; }

    /// <summary>How long the client took (set by the test, for the report).</summary>
    public TimeSpan Elapsed { get; set; }

    public static MatrixOutcome Ok(IReadOnlyList<string>? columns, IReadOnlyList<string[]> rows, string? nativeError = null) => new(columns, rows, null, nativeError);

    public static MatrixOutcome Failed(string failure) => new(null, [], failure, null);

    /// <summary>The canonical first row of an error query's outcome.</summary>
    public static string ErrorCell(string message, string mentions, bool native) =>
        !native ? "ERROR (not the client's native error type): " + message
        : message.Contains(mentions, StringComparison.OrdinalIgnoreCase) ? "ERROR naming " + mentions
        : "ERROR not naming " + mentions + ": " + message;

    /// <summary>Large results are compared as count, sum, sum of squares, min and max of the integer column.</summary>
    public MatrixOutcome Summarised()
    {
        if (Failure is not null)
        {
            return this;
        }

        long count = 0;
        BigInteger sum = 0, squares = 0;
        BigInteger? min = null, max = null;
        string? firstBad = null;
        foreach (string[] row in Rows)
        {
            count++;
            if (row.Length != 1 || !BigInteger.TryParse(row[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out BigInteger v))
            {
                firstBad ??= string.Join(" | ", row);
                continue;
            }

            sum += v;
            squares += v * v;
            min = min is null || v < min ? v : min;
            max = max is null || v > max ? v : max;
        }

        string[] summary =
        [
            "rows=" + count.ToString(CultureInfo.InvariantCulture),
            "sum=" + sum.ToString(CultureInfo.InvariantCulture),
            "sum_of_squares=" + squares.ToString(CultureInfo.InvariantCulture),
            "min=" + min?.ToString(CultureInfo.InvariantCulture),
            "max=" + max?.ToString(CultureInfo.InvariantCulture),
            "first_unparsable=" + (firstBad ?? "none"),
        ];
        return new MatrixOutcome(Columns, [summary], null, NativeError) { Elapsed = Elapsed };
    }

    /// <summary>
    /// Differences from <paramref name="expected"/> (empty when equal), naming row (by its first cell, the key)
    /// and column. Column names are compared only when both sides reported them.
    /// </summary>
    public List<string> Differences(MatrixOutcome expected, IReadOnlyList<MatrixColumn> columns, int max = 12)
    {
        var diffs = new List<string>();
        if (Failure is not null || expected.Failure is not null)
        {
            diffs.Add(Failure is not null ? "failed: " + Failure : "the reference failed: " + expected.Failure);
            return diffs;
        }

        if (Columns is not null && expected.Columns is not null && !Columns.SequenceEqual(expected.Columns))
        {
            diffs.Add($"column names [{string.Join(", ", Columns)}], expected [{string.Join(", ", expected.Columns)}]");
        }

        if (Rows.Count != expected.Rows.Count)
        {
            diffs.Add($"{Rows.Count} rows, expected {expected.Rows.Count}");
        }

        int hidden = 0;
        for (int r = 0; r < Math.Min(Rows.Count, expected.Rows.Count); r++)
        {
            string[] actualRow = Rows[r];
            string[] expectedRow = expected.Rows[r];
            if (actualRow.Length != expectedRow.Length)
            {
                Add($"row {r + 1}: {actualRow.Length} cells, expected {expectedRow.Length}: [{Show(string.Join(" | ", actualRow))}]");
                continue;
            }

            for (int c = 0; c < actualRow.Length; c++)
            {
                if (actualRow[c] != expectedRow[c])
                {
                    string column = c < columns.Count ? columns[c].Name : "#" + (c + 1).ToString(CultureInfo.InvariantCulture);
                    Add($"row {r + 1} (key {Show(expectedRow[0])}) {column}: expected '{Show(expectedRow[c])}' actual '{Show(actualRow[c])}'");
                }
            }
        }

        if (hidden > 0)
        {
            diffs.Add($"... and {hidden} more differing cell(s)");
        }

        return diffs;

        void Add(string diff)
        {
            if (diffs.Count < max)
            {
                diffs.Add(diff);
            }
            else
            {
                hidden++;
            }
        }
    }

    /// <summary>Long values shortened for messages.</summary>
    public static string Show(string value)
    {
        if (value.Length <= 80)
        {
            return value;
        }

        var sb = new StringBuilder();
        sb.Append(value.AsSpan(0, 60)).Append("...(").Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(" chars)");
        return sb.ToString();
    }
}
