using Apache.Arrow;
using Apache.Arrow.Types;
using LakeOps.Edge.Frontends.Postgres.Catalog;
using LakeOps.Edge.Protocols.Postgres.Types;
using LakeOps.Edge.Sql;

namespace LakeOps.Edge.Frontends.Tests.Catalog;

public class PgCatalogEmulatorTests
{
    private static readonly PgEmulationContext Context = new("16.4", "duckdb-local");

    private static IReadOnlyList<string> NpgsqlStatements() => SqlSplitter.Split(NpgsqlStartupBatch.Text);

    [Fact]
    public void Answers_every_statement_of_the_Npgsql_startup_batch()
    {
        IReadOnlyList<string> statements = NpgsqlStatements();
        Assert.Equal(4, statements.Count);
        Assert.All(statements, s => Assert.NotNull(PgCatalogEmulator.TryAnswer(s, Context)));
    }

    [Theory]
    [InlineData("SELECT version()")]
    [InlineData("select VERSION();")]
    [InlineData("  /* hi */ SELECT  pg_catalog.version ( ) ")]
    [InlineData("SELECT version() -- trailing comment")]
    public void Version_names_server_version_and_engine(string sql)
    {
        EmulatedResult result = PgCatalogEmulator.TryAnswer(sql, Context)!;
        Assert.NotNull(result);
        Field field = Assert.Single(result.Schema.FieldsList);
        Assert.Equal("version", field.Name);
        Assert.IsType<StringType>(field.DataType);
        Assert.Equal(1, result.Batch!.Length);
        Assert.Equal("PostgreSQL 16.4 (LakeOps Edge, engine duckdb-local)", ((StringArray)result.Batch.Column(0)).GetString(0));
        Assert.Equal("SELECT 1", result.CommandTag);
    }

    [Theory]
    [InlineData("SELECT version(), 1")]
    [InlineData("SELECT version() FROM t")]
    [InlineData("SELECT version")]
    [InlineData("SELECT versions()")]
    [InlineData("SELECT other.version()")]
    [InlineData("SELECT 1")]
    [InlineData("select * from t")]
    [InlineData("insert into t values (1)")]
    [InlineData("")]
    [InlineData("SELECT ns.nspname, t.oid, t.typname, t.typtype, t.typnotnull, t.elemtypoid FROM (SELECT * FROM my_types) AS t")]
    [InlineData("SELECT ns.nspname, t.oid, t.typname FROM pg_type t JOIN pg_namespace ns ON true")]
    [InlineData("SELECT typ.oid, att.attname, att.atttypid FROM pg_type AS typ JOIN my_attributes att ON true")]
    [InlineData("SELECT typ.oid, enumlabel FROM my_enums")]
    [InlineData("SELECT typ.oid, enumlabel FROM pg_enum JOIN types typ ON true")]
    [InlineData("SELECT typ.oid FROM pg_type typ")]
    [InlineData("SELECT pg_type.oid FROM pg_type")]
    public void Ordinary_queries_and_near_misses_go_to_the_engine(string sql)
    {
        Assert.Null(PgCatalogEmulator.TryAnswer(sql, Context));
    }

    [Fact]
    public void Recognition_ignores_case_whitespace_and_comments()
    {
        string types = NpgsqlStatements()[1];
        string mangled = "/* driver */\n" + types.ToUpperInvariant().Replace("\n", "\n\n  ", StringComparison.Ordinal);
        Assert.NotNull(PgCatalogEmulator.TryAnswer(mangled, Context));
        Assert.NotNull(PgCatalogEmulator.TryAnswer("select ns.nspname,t.oid,t.typname,t.typtype,t.typnotnull,t.elemtypoid from ( select * from pg_type ) t join pg_namespace ns on true", Context));
    }

    [Fact]
    public void Older_Npgsql_enum_query_is_recognised()
    {
        const string sql = "-- Load enum fields\nSELECT pg_type.oid, enumlabel\nFROM pg_enum\nJOIN pg_type ON pg_type.oid=enumtypid\nORDER BY oid, enumsortorder";
        EmulatedResult result = PgCatalogEmulator.TryAnswer(sql, Context)!;
        Assert.Equal(["oid", "enumlabel"], result.Schema.FieldsList.Select(f => f.Name));
    }

    [Fact]
    public void Types_answer_has_the_columns_Npgsql_reads()
    {
        EmulatedResult result = PgCatalogEmulator.TryAnswer(NpgsqlStatements()[1], Context)!;
        Assert.Equal(["nspname", "oid", "typname", "typtype", "typnotnull", "elemtypoid"], result.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(
            [ArrowTypeId.String, ArrowTypeId.UInt32, ArrowTypeId.String, ArrowTypeId.String, ArrowTypeId.Boolean, ArrowTypeId.UInt32],
            result.Schema.FieldsList.Select(f => f.DataType.TypeId));
        foreach (Field oidField in new[] { result.Schema.GetFieldByName("oid"), result.Schema.GetFieldByName("elemtypoid") })
        {
            Assert.Equal("26", oidField.Metadata[PgCatalogEmulator.PgTypeOidKey]);
        }

        Assert.Equal($"SELECT {result.Batch!.Length}", result.CommandTag);
    }

    [Fact]
    public void Types_answer_lists_every_builtin_base_types_first_then_arrays()
    {
        RecordBatch batch = PgCatalogEmulator.TryAnswer(NpgsqlStatements()[1], Context)!.Batch!;
        var nspname = (StringArray)batch.Column(0);
        var oid = (UInt32Array)batch.Column(1);
        var typname = (StringArray)batch.Column(2);
        var typtype = (StringArray)batch.Column(3);
        var typnotnull = (BooleanArray)batch.Column(4);
        var elem = (UInt32Array)batch.Column(5);

        Assert.Equal(PgTypes.BuiltIns.Count, batch.Length);
        Assert.Equal(PgTypes.BuiltIns.Select(t => (uint)t.Oid).Order(), Enumerable.Range(0, batch.Length).Select(i => oid.GetValue(i)!.Value).Order());

        bool seenArray = false;
        for (int i = 0; i < batch.Length; i++)
        {
            PgTypeInfo type = PgTypes.Find((int)oid.GetValue(i)!.Value)!;
            Assert.Equal("pg_catalog", nspname.GetString(i));
            Assert.Equal(type.Name, typname.GetString(i));
            Assert.False(typnotnull.GetValue(i));
            string kind = typtype.GetString(i);
            if (kind == "a")
            {
                seenArray = true;
                Assert.True(type.IsArray);
            }
            else
            {
                // Nothing but arrays after the first array, as the ORDER BY of the query puts them.
                Assert.False(seenArray, $"{type.Name} listed after an array");
                Assert.Contains(kind, (string[])["b", "p"]);
                Assert.True(elem.IsNull(i));
            }
        }

        Assert.Equal("p", typtype.GetString(IndexOf(typname, "record")));
        Assert.Equal("p", typtype.GetString(IndexOf(typname, "void")));
        Assert.Equal("p", typtype.GetString(IndexOf(typname, "unknown")));
        Assert.Equal("b", typtype.GetString(IndexOf(typname, "int4")));
    }

    [Fact]
    public void Every_array_type_points_at_a_scalar_type_listed_before_it()
    {
        RecordBatch batch = PgCatalogEmulator.TryAnswer(NpgsqlStatements()[1], Context)!.Batch!;
        var oid = (UInt32Array)batch.Column(1);
        var typtype = (StringArray)batch.Column(3);
        var elem = (UInt32Array)batch.Column(5);
        var positions = new Dictionary<uint, int>();
        for (int i = 0; i < batch.Length; i++)
        {
            positions[oid.GetValue(i)!.Value] = i;
        }

        int arrays = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            if (typtype.GetString(i) != "a")
            {
                continue;
            }

            arrays++;
            uint element = elem.GetValue(i)!.Value;
            Assert.True(positions.TryGetValue(element, out int at), $"element {element} of {oid.GetValue(i)} is not listed");
            Assert.True(at < i);
            Assert.NotEqual("a", typtype.GetString(at));
        }

        Assert.Equal(PgTypes.BuiltIns.Count(t => t.IsArray), arrays);
    }

    [Fact]
    public void Composite_and_enum_answers_are_empty_with_the_right_columns()
    {
        IReadOnlyList<string> statements = NpgsqlStatements();
        EmulatedResult composite = PgCatalogEmulator.TryAnswer(statements[2], Context)!;
        Assert.Null(composite.Batch);
        Assert.Equal("SELECT 0", composite.CommandTag);
        Assert.Equal(["oid", "attname", "atttypid"], composite.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal([ArrowTypeId.UInt32, ArrowTypeId.String, ArrowTypeId.UInt32], composite.Schema.FieldsList.Select(f => f.DataType.TypeId));

        EmulatedResult enums = PgCatalogEmulator.TryAnswer(statements[3], Context)!;
        Assert.Null(enums.Batch);
        Assert.Equal("SELECT 0", enums.CommandTag);
        Assert.Equal(["oid", "enumlabel"], enums.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal([ArrowTypeId.UInt32, ArrowTypeId.String], enums.Schema.FieldsList.Select(f => f.DataType.TypeId));
    }

    [Fact]
    public void Ordinary_queries_are_rejected_without_allocating()
    {
        string[] queries = ["SELECT a, b FROM t WHERE a = $1", "insert into t values (1)", "SELECT ns FROM t", "select typ from t"];
        foreach (string sql in queries)
        {
            PgCatalogEmulator.TryAnswer(sql, Context);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            foreach (string sql in queries)
            {
                Assert.Null(PgCatalogEmulator.TryAnswer(sql, Context));
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static int IndexOf(StringArray names, string name)
    {
        for (int i = 0; i < names.Length; i++)
        {
            if (names.GetString(i) == name)
            {
                return i;
            }
        }

        return -1;
    }
}
