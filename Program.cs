using DuckDB.NET.Data;
using var c = new DuckDBConnection("Data Source=:memory:");
c.Open();
using (var cmd = c.CreateCommand()) { cmd.CommandText = "SET GLOBAL TimeZone = 'Asia/Tokyo'"; cmd.ExecuteNonQuery(); }
using var c2 = c.Duplicate();
c2.Open();
using var q = c2.CreateCommand(); q.CommandText = "select current_setting('TimeZone'), (timestamptz '2024-07-01 12:00:00+00')::varchar"; using var r = q.ExecuteReader(); r.Read(); Console.WriteLine(r.GetString(0) + " " + r.GetString(1));
