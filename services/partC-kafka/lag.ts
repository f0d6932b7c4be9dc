// Consumer lag, as `kafka-consumer-groups --describe` shows it: for each group and partition,
// the committed offset (where the group will resume), the log end offset (where producers
// have got to), and the difference (events written but not yet processed).
import type { Admin } from "kafkajs";

export interface PartitionLag {
  topic: string;
  partition: number;
  /** null: the group has committed nothing here yet (it will start from the beginning). */
  committed: number | null;
  end: number;
  lag: number;
}

export interface GroupLag {
  group: string;
  /** Stable, Empty (no members running), PreparingRebalance, ..., Dead (unknown group). */
  state: string;
  members: number;
  total_lag: number;
  partitions: PartitionLag[];
}

export async function groupLag(admin: Admin, group: string, topics: string[]): Promise<GroupLag> {
  const [committed, ends, description] = await Promise.all([
    admin.fetchOffsets({ groupId: group, topics }),
    Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
    admin.describeGroups([group]),
  ]);
  const partitions: PartitionLag[] = [];
  for (const { topic, offsets } of ends) {
    const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const { partition, high, low } of offsets) {
      const c = Number(groupOffsets.find((p) => p.partition === partition)?.offset ?? -1);
      const end = Number(high);
      // A negative committed offset means "none"; the group then starts at the log start.
      const position = c >= 0 ? c : Number(low);
      partitions.push({ topic, partition, committed: c >= 0 ? c : null, end, lag: Math.max(0, end - position) });
    }
  }
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const g = description.groups[0];
  return {
    group,
    state: g?.state ?? "Dead",
    members: g?.members.length ?? 0,
    total_lag: partitions.reduce((sum, p) => sum + p.lag, 0),
    partitions,
  };
}

export function lagOfGroups(admin: Admin, groups: Record<string, string[]>): Promise<GroupLag[]> {
  return Promise.all(Object.entries(groups).map(([group, topics]) => groupLag(admin, group, topics)));
}
