using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

public sealed class TrinoTypeSignatureParserTests
{
    [Theory]
    [InlineData("boolean", TrinoTypeKind.Boolean)]
    [InlineData("tinyint", TrinoTypeKind.TinyInt)]
    [InlineData("smallint", TrinoTypeKind.SmallInt)]
    [InlineData("integer", TrinoTypeKind.Integer)]
    [InlineData("bigint", TrinoTypeKind.BigInt)]
    [InlineData("real", TrinoTypeKind.Real)]
    [InlineData("double", TrinoTypeKind.Double)]
    [InlineData("varchar", TrinoTypeKind.Varchar)]
    [InlineData("varbinary", TrinoTypeKind.Varbinary)]
    [InlineData("json", TrinoTypeKind.Json)]
    [InlineData("date", TrinoTypeKind.Date)]
    [InlineData("uuid", TrinoTypeKind.Uuid)]
    [InlineData("unknown", TrinoTypeKind.Unknown)]
    [InlineData("interval day to second", TrinoTypeKind.IntervalDayToSecond)]
    [InlineData("interval year to month", TrinoTypeKind.IntervalYearToMonth)]
    [InlineData("ipaddress", TrinoTypeKind.Other)]
    [InlineData("HyperLogLog", TrinoTypeKind.Other)]
    [InlineData("qdigest(bigint)", TrinoTypeKind.Other)]
    [InlineData("BIGINT", TrinoTypeKind.BigInt)]
    public void ParsesSimpleTypes(string text, TrinoTypeKind kind)
    {
        TrinoType type = TrinoTypeSignatureParser.Parse(text);
        Assert.Equal(kind, type.Kind);
        Assert.Equal(text, type.Name);
    }

    [Theory]
    [InlineData("decimal(10,2)", TrinoTypeKind.Decimal, 10, 2, 0)]
    [InlineData("decimal(38, 0)", TrinoTypeKind.Decimal, 38, 0, 0)]
    [InlineData("varchar(255)", TrinoTypeKind.Varchar, 255, 0, 255)]
    [InlineData("varchar", TrinoTypeKind.Varchar, TrinoType.UnboundedVarcharLength, 0, TrinoType.UnboundedVarcharLength)]
    [InlineData("char(3)", TrinoTypeKind.Char, 3, 0, 3)]
    [InlineData("time(6)", TrinoTypeKind.Time, 6, 0, 0)]
    [InlineData("time", TrinoTypeKind.Time, 3, 0, 0)]
    [InlineData("time(3) with time zone", TrinoTypeKind.TimeWithTimeZone, 3, 0, 0)]
    [InlineData("timestamp(9)", TrinoTypeKind.Timestamp, 9, 0, 0)]
    [InlineData("timestamp", TrinoTypeKind.Timestamp, 3, 0, 0)]
    [InlineData("timestamp(0) with time zone", TrinoTypeKind.TimestampWithTimeZone, 0, 0, 0)]
    [InlineData("timestamp with time zone", TrinoTypeKind.TimestampWithTimeZone, 3, 0, 0)]
    [InlineData("timestamp(6) without time zone", TrinoTypeKind.Timestamp, 6, 0, 0)]
    public void ParsesParameters(string text, TrinoTypeKind kind, int precision, int scale, int length)
    {
        TrinoType type = TrinoTypeSignatureParser.Parse(text);
        Assert.Equal((kind, precision, scale, length), (type.Kind, type.Precision, type.Scale, type.Length));
    }

    [Theory]
    [InlineData("decimal(10,2)")]
    [InlineData("timestamp(6) with time zone")]
    [InlineData("array(map(varchar, bigint))")]
    [InlineData("row(x bigint, \"y z\" varchar)")]
    public void ParsedTypesWriteTheSameSignatureAsTheFrontDoorsTypes(string text)
    {
        // The front door builds its types from Arrow; a parsed type must describe itself identically.
        TrinoType expected = text switch
        {
            "decimal(10,2)" => TrinoType.Decimal(10, 2),
            "timestamp(6) with time zone" => TrinoType.TimestampWithTimeZone(6),
            "array(map(varchar, bigint))" => TrinoType.Array(TrinoType.Map(TrinoType.Varchar, TrinoType.BigInt)),
            _ => TrinoType.Row(["x", "y z"], [TrinoType.BigInt, TrinoType.Varchar]),
        };

        TrinoType parsed = TrinoTypeSignatureParser.Parse(text);
        Assert.Equal(expected.Name, parsed.Name);
        Assert.Equal(Signature(expected), Signature(parsed));
    }

    [Fact]
    public void ParsesNestedTypes()
    {
        TrinoType map = TrinoTypeSignatureParser.Parse("map(varchar(3), array(timestamp(6) with time zone))");
        Assert.Equal(TrinoTypeKind.Map, map.Kind);
        Assert.Equal(3, map.Children[0].Length);
        Assert.Equal(TrinoTypeKind.Array, map.Children[1].Kind);
        Assert.Equal(TrinoTypeKind.TimestampWithTimeZone, map.Children[1].Children[0].Kind);
        Assert.Equal(6, map.Children[1].Children[0].Precision);

        TrinoType row = TrinoTypeSignatureParser.Parse("row(x bigint, \"we\"\"ird name\" decimal(5,1), time timestamp(3), interval interval day to second, double, ts time(3) with time zone)");
        Assert.Equal(TrinoTypeKind.Row, row.Kind);
        Assert.Equal(
            ["x:BigInt", "we\"ird name:Decimal", "time:Timestamp", "interval:IntervalDayToSecond", ":Double", "ts:TimeWithTimeZone"],
            row.Children.Select((f, i) => $"{row.FieldNames[i]}:{f.Kind}"));

        TrinoType anonymous = TrinoTypeSignatureParser.Parse("row(bigint, varchar, array(row(a integer)))");
        Assert.All(anonymous.FieldNames, Assert.Null);
        Assert.Equal("a", anonymous.Children[2].Children[0].FieldNames[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("decimal(10")]
    [InlineData("array(")]
    [InlineData("map(varchar)")]
    [InlineData("bigint)")]
    [InlineData("row(\"unterminated bigint)")]
    public void RejectsMalformedTypes(string text)
    {
        Assert.Throws<FormatException>(() => TrinoTypeSignatureParser.Parse(text));
    }

    private static string Signature(TrinoType type)
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            type.WriteSignature(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
