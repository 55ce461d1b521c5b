namespace LakeOps.Edge.Frontends.Postgres.Passthrough;

/// <summary>The audit hook of the passthrough (see <see cref="PassthroughAudit"/>); null when audit is off.</summary>
internal sealed partial class PgPassthroughSession : IAuditPlacement
{
    private PassthroughAudit? _audit;

    /// <summary>Set once, before <see cref="RunAsync"/>: the client loop and the pump report to it.</summary>
    public PassthroughAudit? Audit
    {
        get => _audit;
        set
        {
            _audit = value;
            _responses.Audit = value;
        }
    }

    /// <summary>The group the session's statements run on now.</summary>
    public string GroupName => _group.Name;
}
