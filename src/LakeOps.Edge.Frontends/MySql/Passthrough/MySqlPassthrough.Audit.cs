using System.Buffers.Binary;
using System.IO.Pipelines;
using LakeOps.Edge.Frontends.Audit;
using LakeOps.Edge.Protocols.MySql;

namespace LakeOps.Edge.Frontends.MySql.Passthrough;

/// <summary>
/// The audit hook of the MySQL passthrough: COM_QUERY and COM_STMT_EXECUTE go through
/// <see cref="AuditedAsync"/> when <see cref="Audit"/> is set; otherwise the command loop pays one null test.
/// </summary>
internal sealed partial class MySqlPassthrough
{
    // The SQLSTATE of an ERR Edge itself sent for the current command (e.g. no server connection).
    private string? _replySqlState;

    /// <summary>Set once, before <see cref="RunAsync"/>, when audit is on.</summary>
    public MySqlPassthroughAudit? Audit { get; set; }

    private async ValueTask AuditedAsync(Command command, MySqlPacketWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        MySqlPassthroughAudit audit = Audit!;
        long start = MySqlPassthroughAudit.Now();
        string kind;
        ulong fingerprint;
        string? sql;
        if (command.Kind == MySqlCommand.Query)
        {
            // Described before the packet is released (it is forwarded as it came).
            (kind, fingerprint, sql) = audit.Describe(MySqlCommandPackets.ParseQuery(command.Payload.Span, _client.Capabilities));
        }
        else if (command.Payload.Length >= 5 && _statements.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(command.Payload.Span[1..]), out ClientStatement? statement))
        {
            (kind, fingerprint) = statement.Audit ??= MySqlPassthroughAudit.Describe(statement.Sql);
            sql = statement.Sql;
        }
        else
        {
            (kind, fingerprint, sql) = ("utility", 0UL, null);
        }

        _replySqlState = null;
        _relay.ResetAudit();
        if (command.Kind == MySqlCommand.Query)
        {
            await QueryAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ExecuteAsync(command, writer, output, cancellationToken).ConfigureAwait(false);
        }

        audit.Write(kind, fingerprint, sql, start, _relay.Rows, _replySqlState ?? _relay.ErrorSqlState);
    }
}
