using System.Globalization;

namespace LakeOps.Edge.Frontends.MySql;

/// <summary>
/// The MySQL system variables the gateway answers for every engine (<c>SELECT @@x</c>, <c>SHOW VARIABLES</c>):
/// what connectors and the mysql CLI ask at connect, plus whatever the client SETs on them. Values are
/// strings or longs (numbers are returned as BIGINT, as MySQL does).
/// </summary>
internal sealed class MySqlSessionVariables
{
    private readonly Dictionary<string, object?> _defaults;
    private readonly Dictionary<string, object?> _values;

    public MySqlSessionVariables(string serverVersion, int maxAllowedPacket, int port, bool tlsAvailable, string collation)
    {
        string charset = collation.StartsWith("utf8mb3", StringComparison.Ordinal) || collation.StartsWith("utf8_", StringComparison.Ordinal) ? "utf8mb3" : "utf8mb4";
        _defaults = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["version"] = serverVersion,
            ["version_comment"] = "LakeOps Edge",
            ["version_compile_os"] = "Linux",
            ["version_compile_machine"] = "x86_64",
            ["protocol_version"] = 10L,
            ["max_allowed_packet"] = (long)maxAllowedPacket,
            ["net_buffer_length"] = 16384L,
            ["auto_increment_increment"] = 1L,
            ["auto_increment_offset"] = 1L,
            ["autocommit"] = 1L,
            ["character_set_client"] = charset,
            ["character_set_connection"] = charset,
            ["character_set_results"] = charset,
            ["character_set_server"] = "utf8mb4",
            ["character_set_database"] = "utf8mb4",
            ["character_set_system"] = "utf8mb3",
            ["collation_connection"] = collation,
            ["collation_server"] = "utf8mb4_0900_ai_ci",
            ["collation_database"] = "utf8mb4_0900_ai_ci",
            ["init_connect"] = "",
            ["interactive_timeout"] = 28800L,
            ["wait_timeout"] = 28800L,
            ["net_read_timeout"] = 30L,
            ["net_write_timeout"] = 60L,
            ["license"] = "Apache-2.0",
            ["lower_case_table_names"] = 0L,
            ["performance_schema"] = 0L,
            ["query_cache_size"] = 0L,
            ["query_cache_type"] = "OFF",
            ["sql_mode"] = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
            ["sql_select_limit"] = "18446744073709551615",
            ["sql_auto_is_null"] = 0L,
            ["sql_safe_updates"] = 0L,
            ["sql_quote_show_create"] = 1L,
            ["sql_warnings"] = 0L,
            ["foreign_key_checks"] = 1L,
            ["unique_checks"] = 1L,
            ["system_time_zone"] = "UTC",
            ["time_zone"] = "+00:00",
            ["transaction_isolation"] = "REPEATABLE-READ",
            ["tx_isolation"] = "REPEATABLE-READ",
            ["transaction_read_only"] = 0L,
            ["tx_read_only"] = 0L,
            ["max_execution_time"] = 0L,
            ["group_concat_max_len"] = 1024L,
            ["have_ssl"] = tlsAvailable ? "YES" : "DISABLED",
            ["have_openssl"] = tlsAvailable ? "YES" : "DISABLED",
            ["hostname"] = "localhost",
            ["port"] = (long)port,
            ["socket"] = "",
            ["server_id"] = 1L,
            ["default_authentication_plugin"] = "caching_sha2_password",
            ["default_storage_engine"] = "InnoDB",
            ["storage_engine"] = "InnoDB",
            ["warning_count"] = 0L,
            ["error_count"] = 0L,
            ["identity"] = 0L,
            ["last_insert_id"] = 0L,
            ["session_track_schema"] = "ON",
            ["session_track_system_variables"] = "",
            ["session_track_state_change"] = "OFF",
            ["session_track_transaction_info"] = "OFF",
            ["innodb_lock_wait_timeout"] = 50L,
            ["lock_wait_timeout"] = 31536000L,
            ["div_precision_increment"] = 4L,
            ["long_query_time"] = "10.000000",
            ["max_connections"] = 151L,
            ["read_only"] = 0L,
            ["super_read_only"] = 0L,
            ["innodb_read_only"] = 0L,
            ["big_tables"] = 0L,
            ["sql_big_selects"] = 1L,
            ["sql_log_bin"] = 1L,
            ["sql_notes"] = 1L,
            ["explicit_defaults_for_timestamp"] = 1L,
            ["default_week_format"] = 0L,
            ["time_format"] = "%H:%i:%s",
            ["date_format"] = "%Y-%m-%d",
            ["datetime_format"] = "%Y-%m-%d %H:%i:%s",
            ["optimizer_switch"] = "",
            ["profiling"] = 0L,
            ["completion_type"] = "NO_CHAIN",
            ["local_infile"] = 0L,
            ["resultset_metadata"] = "FULL",
        };
        _values = new Dictionary<string, object?>(_defaults, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>True when the gateway owns this variable (it answers reads and SETs of it).</summary>
    public bool Owns(string name) => _defaults.ContainsKey(name) || name.StartsWith("character_set_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("collation_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("session_track_", StringComparison.OrdinalIgnoreCase);

    public bool TryGet(string name, out object? value) => _values.TryGetValue(name, out value);

    /// <summary>Sets a variable; DEFAULT restores the default. Numbers stay numbers, ON/OFF/TRUE/FALSE become 1/0 for numeric variables.</summary>
    public void Set(string name, string? value, bool isDefault)
    {
        if (isDefault)
        {
            _values[name] = _defaults.TryGetValue(name, out object? original) ? original : null;
            return;
        }

        bool numeric = _defaults.TryGetValue(name, out object? current) && current is long;
        if (numeric && value is not null)
        {
            if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
            {
                _values[name] = number;
                return;
            }

            if (value.Equals("ON", StringComparison.OrdinalIgnoreCase) || value.Equals("TRUE", StringComparison.OrdinalIgnoreCase))
            {
                _values[name] = 1L;
                return;
            }

            if (value.Equals("OFF", StringComparison.OrdinalIgnoreCase) || value.Equals("FALSE", StringComparison.OrdinalIgnoreCase))
            {
                _values[name] = 0L;
                return;
            }
        }

        _values[name] = value;
        if (name.Equals("transaction_isolation", StringComparison.OrdinalIgnoreCase) || name.Equals("tx_isolation", StringComparison.OrdinalIgnoreCase))
        {
            _values["transaction_isolation"] = value;
            _values["tx_isolation"] = value;
        }
    }

    /// <summary>SET NAMES: the client, connection and results character sets (and the connection collation).</summary>
    public void SetNames(string charset, string? collation)
    {
        _values["character_set_client"] = charset;
        _values["character_set_connection"] = charset;
        _values["character_set_results"] = charset;
        _values["collation_connection"] = collation ?? (charset.Equals("utf8mb4", StringComparison.OrdinalIgnoreCase) ? "utf8mb4_0900_ai_ci" : charset + "_general_ci");
    }

    /// <summary>COM_RESET_CONNECTION: back to the defaults.</summary>
    public void Reset()
    {
        _values.Clear();
        foreach (KeyValuePair<string, object?> pair in _defaults)
        {
            _values[pair.Key] = pair.Value;
        }
    }

    /// <summary>All variables in name order (SHOW VARIABLES).</summary>
    public List<KeyValuePair<string, object?>> All()
    {
        var all = new List<KeyValuePair<string, object?>>(_values);
        all.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return all;
    }

    /// <summary>The text SHOW VARIABLES prints for a value.</summary>
    public static string? Display(object? value) => value switch
    {
        null => null,
        long number => number.ToString(CultureInfo.InvariantCulture),
        _ => (string)value,
    };
}
