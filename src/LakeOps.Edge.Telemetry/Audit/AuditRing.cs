using System.Runtime.InteropServices;

namespace LakeOps.Edge.Telemetry.Audit;

/// <summary>
/// A bounded multi-producer, single-consumer queue of <see cref="AuditRecord"/>s, lock-free: a slot's
/// sequence number says whether it is free for the producer at that position or filled for the consumer
/// (the bounded queue design by Dmitry Vyukov). Preallocated, so enqueueing never allocates; a full
/// queue refuses the record instead of waiting.
/// </summary>
internal sealed class AuditRing
{
    private readonly Slot[] _slots;
    private readonly int _mask;

    // Apart from each other and from the slots: producers hammer _enqueue, the writer _dequeue.
    private PaddedLong _enqueue;
    private PaddedLong _dequeue;

    public AuditRing(int capacity)
    {
        int size = (int)Math.Min(1u << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 2)));
        _slots = new Slot[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++)
        {
            _slots[i].Sequence = i;
        }
    }

    /// <summary>Records waiting for the writer (approximate while producers run).</summary>
    public long Count => Math.Max(0, Volatile.Read(ref _enqueue.Value) - Volatile.Read(ref _dequeue.Value));

    /// <summary>Adds a record; false when the queue is full.</summary>
    public bool TryEnqueue(in AuditRecord record)
    {
        long position = Volatile.Read(ref _enqueue.Value);
        while (true)
        {
            ref Slot slot = ref _slots[position & _mask];
            long difference = Volatile.Read(ref slot.Sequence) - position;
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _enqueue.Value, position + 1, position);
                if (seen == position)
                {
                    slot.Record = record;
                    Volatile.Write(ref slot.Sequence, position + 1);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                // The writer has not freed this slot yet: full.
                return false;
            }
            else
            {
                position = Volatile.Read(ref _enqueue.Value);
            }
        }
    }

    /// <summary>Takes the oldest record (single consumer only); false when empty or the next one is still being written.</summary>
    public bool TryDequeue(out AuditRecord record)
    {
        long position = _dequeue.Value;
        ref Slot slot = ref _slots[position & _mask];
        if (Volatile.Read(ref slot.Sequence) != position + 1)
        {
            record = default;
            return false;
        }

        record = slot.Record;

        // Let go of the strings so the ring does not keep them alive.
        slot.Record = default;
        Volatile.Write(ref slot.Sequence, position + _slots.Length);
        Volatile.Write(ref _dequeue.Value, position + 1);
        return true;
    }

    private struct Slot
    {
        public long Sequence;
        public AuditRecord Record;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [FieldOffset(64)]
        public long Value;
    }
}
