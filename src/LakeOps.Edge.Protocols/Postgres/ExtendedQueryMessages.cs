namespace LakeOps.Edge.Protocols.Postgres;

/// <summary>Parse ('P'): prepares a statement. An empty name is the unnamed statement.</summary>
public sealed class ParseMessage
{
    public ParseMessage(string statementName, string query, int[] parameterTypeOids)
    {
        StatementName = statementName;
        Query = query;
        ParameterTypeOids = parameterTypeOids;
    }

    public string StatementName { get; }

    public string Query { get; }

    /// <summary>Parameter types the client fixed; 0 means "infer". May be shorter than the statement's parameter list.</summary>
    public int[] ParameterTypeOids { get; }

    public static ParseMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Parse");
        string name = reader.ReadCStringAsString();
        string query = reader.ReadCStringAsString();
        int count = reader.ReadUInt16();
        reader.Ensure(count * 4);
        int[] oids = count == 0 ? [] : new int[count];
        for (int i = 0; i < oids.Length; i++)
        {
            oids[i] = reader.ReadInt32();
        }

        reader.End();
        return new ParseMessage(name, query, oids);
    }
}

/// <summary>Bind ('B'): creates a portal from a prepared statement and parameter values.</summary>
public sealed class BindMessage
{
    public BindMessage(string portalName, string statementName, short[] parameterFormats, byte[]?[] parameterValues, short[] resultFormats)
    {
        PortalName = portalName;
        StatementName = statementName;
        ParameterFormats = parameterFormats;
        ParameterValues = parameterValues;
        ResultFormats = resultFormats;
    }

    public string PortalName { get; }

    public string StatementName { get; }

    /// <summary>0 entries: all text; 1 entry: applies to all parameters; else one per parameter (checked).</summary>
    public short[] ParameterFormats { get; }

    /// <summary>One entry per parameter; null is SQL NULL.</summary>
    public byte[]?[] ParameterValues { get; }

    /// <summary>0 entries: all text; 1 entry: applies to all columns; else one per result column (the session checks the column count).</summary>
    public short[] ResultFormats { get; }

    /// <summary>The format code (0 text, 1 binary, anything else is the session's error) of parameter <paramref name="index"/>.</summary>
    public short GetParameterFormat(int index) => FormatAt(ParameterFormats, index);

    /// <summary>The format code of result column <paramref name="column"/>.</summary>
    public short GetResultFormat(int column) => FormatAt(ResultFormats, column);

    public static BindMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Bind");
        string portal = reader.ReadCStringAsString();
        string statement = reader.ReadCStringAsString();

        short[] parameterFormats = ReadFormats(ref reader);

        int parameterCount = reader.ReadUInt16();
        if (parameterFormats.Length > 1 && parameterFormats.Length != parameterCount)
        {
            PgThrow.Malformed("Bind", $"{parameterFormats.Length} parameter formats but {parameterCount} parameters");
        }

        // Each value needs at least its 4-byte length: check before allocating for a hostile count.
        reader.Ensure(parameterCount * 4);
        byte[]?[] values = parameterCount == 0 ? [] : new byte[]?[parameterCount];
        for (int i = 0; i < values.Length; i++)
        {
            int length = reader.ReadInt32();
            if (length == -1)
            {
                continue; // SQL NULL
            }

            if (length < 0)
            {
                PgThrow.Malformed("Bind", "negative parameter length");
            }

            values[i] = reader.ReadBytes(length).ToArray();
        }

        short[] resultFormats = ReadFormats(ref reader);
        reader.End();
        return new BindMessage(portal, statement, parameterFormats, values, resultFormats);
    }

    private static short[] ReadFormats(ref PgReader reader)
    {
        int count = reader.ReadUInt16();
        reader.Ensure(count * 2);
        if (count == 0)
        {
            return [];
        }

        var formats = new short[count];
        for (int i = 0; i < formats.Length; i++)
        {
            formats[i] = reader.ReadInt16();
        }

        return formats;
    }

    private static short FormatAt(short[] formats, int index) => formats.Length switch
    {
        0 => 0,
        1 => formats[0],
        _ => formats[index],
    };
}

/// <summary>Describe ('D'): asks for the description of a statement ('S') or portal ('P').</summary>
public sealed class DescribeMessage
{
    public DescribeMessage(char kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>'S' statement or 'P' portal.</summary>
    public char Kind { get; }

    public string Name { get; }

    public static DescribeMessage Parse(ReadOnlySpan<byte> body)
    {
        string name = StatementOrPortal.ReadTarget(body, "Describe", out char kind);
        return new DescribeMessage(kind, name);
    }
}

/// <summary>Execute ('E'): runs a portal.</summary>
public sealed class ExecuteMessage
{
    public ExecuteMessage(string portalName, int maxRows)
    {
        PortalName = portalName;
        MaxRows = maxRows;
    }

    public string PortalName { get; }

    /// <summary>Row limit; 0 (or, as PostgreSQL treats it, any value &lt;= 0) means no limit.</summary>
    public int MaxRows { get; }

    public static ExecuteMessage Parse(ReadOnlySpan<byte> body)
    {
        var reader = new PgReader(body, "Execute");
        string portal = reader.ReadCStringAsString();
        int maxRows = reader.ReadInt32();
        reader.End();
        return new ExecuteMessage(portal, maxRows);
    }
}

/// <summary>Close ('C'): closes a statement ('S') or portal ('P').</summary>
public sealed class CloseMessage
{
    public CloseMessage(char kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>'S' statement or 'P' portal.</summary>
    public char Kind { get; }

    public string Name { get; }

    public static CloseMessage Parse(ReadOnlySpan<byte> body)
    {
        string name = StatementOrPortal.ReadTarget(body, "Close", out char kind);
        return new CloseMessage(kind, name);
    }
}

/// <summary>The 'S'/'P' target byte shared by Describe and Close.</summary>
public static class StatementOrPortal
{
    public const char Statement = 'S';
    public const char Portal = 'P';

    /// <summary>Parses the whole body of a Describe or Close: the target byte, then the name.</summary>
    internal static string ReadTarget(ReadOnlySpan<byte> body, string messageName, out char kind)
    {
        var reader = new PgReader(body, messageName);
        byte target = reader.ReadByte();
        if (target is not ((byte)Statement or (byte)Portal))
        {
            PgThrow.Malformed(messageName, "target must be 'S' (statement) or 'P' (portal)");
        }

        kind = (char)target;
        string name = reader.ReadCStringAsString();
        reader.End();
        return name;
    }
}
