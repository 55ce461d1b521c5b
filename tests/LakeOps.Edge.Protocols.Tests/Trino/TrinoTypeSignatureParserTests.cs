using LakeOps.Edge.Protocols.Trino;

namespace LakeOps.Edge.Protocols.Tests.Trino;

public sealed class TrinoTypeSignatureParserTests
{
    [Theory]
    [InlineData("boolean", TrinoColumnTypeKind.Boolean)]
    [InlineData("tinyint", TrinoColumnTypeKind.TinyInt)]
    [InlineData("smallint", TrinoColumnTypeKind.SmallInt)]
    [InlineData("integer", TrinoColumnTypeKind.Integer)]
    [InlineData("bigint", TrinoColumnTypeKind.BigInt)]
    [InlineData("real", TrinoColumnTypeKind.Real)]
    [InlineData("double", TrinoColumnTypeKind.Double)]
    [InlineData("varchar", TrinoColumnTypeKind.Varchar)]
    [InlineData("varbinary", TrinoColumnTypeKind.Varbinary)]
    [InlineData("json", TrinoColumnTypeKind.Json)]
    [InlineData("date", TrinoColumnTypeKind.Date)]
    [InlineData("uuid", TrinoColumnTypeKind.Uuid)]
    [InlineData("unknown", TrinoColumnTypeKind.Unknown)]
    [InlineData("interval day to second", TrinoColumnTypeKind.IntervalDayToSecond)]
    [InlineData("interval year to month", TrinoColumnTypeKind.IntervalYearToMonth)]
    [InlineData("ipaddress", TrinoColumnTypeKind.Other)]
    [InlineData("HyperLogLog", TrinoColumnTypeKind.Other)]
    [InlineData("qdigest(bigint)", TrinoColumnTypeKind.Other)]
    [InlineData("BIGINT", TrinoColumnTypeKind.BigInt)]
    public void ParsesSimpleTypes(string text, TrinoColumnTypeKind kind)
    {
        TrinoColumnType type = TrinoTypeSignatureParser.Parse(text);
        Assert.Equal(kind, type.Kind);
        Assert.Equal(text, type.Name);
    }

    [Theory]
    [InlineData("decimal(10,2)", TrinoColumnTypeKind.Decimal, 10, 2, -1)]
    [InlineData("decimal(38, 0)", TrinoColumnTypeKind.Decimal, 38, 0, -1)]
    [InlineData("varchar(255)", TrinoColumnTypeKind.Varchar, -1, 0, 255)]
    [InlineData("char(3)", TrinoColumnTypeKind.Char, -1, 0, 3)]
    [InlineData("time(6)", TrinoColumnTypeKind.Time, 6, 0, -1)]
    [InlineData("time", TrinoColumnTypeKind.Time, 3, 0, -1)]
    [InlineData("time(3) with time zone", TrinoColumnTypeKind.TimeWithTimeZone, 3, 0, -1)]
    [InlineData("timestamp(9)", TrinoColumnTypeKind.Timestamp, 9, 0, -1)]
    [InlineData("timestamp", TrinoColumnTypeKind.Timestamp, 3, 0, -1)]
    [InlineData("timestamp(0) with time zone", TrinoColumnTypeKind.TimestampWithTimeZone, 0, 0, -1)]
    [InlineData("timestamp with time zone", TrinoColumnTypeKind.TimestampWithTimeZone, 3, 0, -1)]
    [InlineData("timestamp(6) without time zone", TrinoColumnTypeKind.Timestamp, 6, 0, -1)]
    public void ParsesParameters(string text, TrinoColumnTypeKind kind, int precision, int scale, int length)
    {
        TrinoColumnType type = TrinoTypeSignatureParser.Parse(text);
        Assert.Equal((kind, precision, scale, length), (type.Kind, type.Precision, type.Scale, type.Length));
    }

    [Fact]
    public void ParsesNestedTypes()
    {
        TrinoColumnType map = TrinoTypeSignatureParser.Parse("map(varchar(3), array(timestamp(6) with time zone))");
        Assert.Equal(TrinoColumnTypeKind.Map, map.Kind);
        Assert.Equal(3, map.ElementType!.Length);
        Assert.Equal(TrinoColumnTypeKind.Array, map.ValueType!.Kind);
        Assert.Equal(TrinoColumnTypeKind.TimestampWithTimeZone, map.ValueType.ElementType!.Kind);
        Assert.Equal(6, map.ValueType.ElementType.Precision);

        TrinoColumnType row = TrinoTypeSignatureParser.Parse("row(x bigint, \"we\"\"ird name\" decimal(5,1), time timestamp(3), interval interval day to second, double, ts time(3) with time zone)");
        Assert.Equal(TrinoColumnTypeKind.Row, row.Kind);
        Assert.Equal(
            ["x:BigInt", "we\"ird name:Decimal", "time:Timestamp", "interval:IntervalDayToSecond", ":Double", "ts:TimeWithTimeZone"],
            row.Fields.Select(f => $"{f.Name}:{f.Type.Kind}"));

        TrinoColumnType anonymous = TrinoTypeSignatureParser.Parse("row(bigint, varchar, array(row(a integer)))");
        Assert.All(anonymous.Fields, f => Assert.Null(f.Name));
        Assert.Equal("a", anonymous.Fields[2].Type.ElementType!.Fields[0].Name);
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
}
