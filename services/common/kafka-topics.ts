// The Kafka topics of Part C, in one place: the lab creates them on the broker (auto-creation is
// off) and the services import the names from here. Events are keyed by order id.
export interface TopicSpec {
  name: string;
  partitions: number;
}

export const KAFKA_TOPICS: readonly TopicSpec[] = [
  { name: "orders", partitions: 3 },
  { name: "inventory-events", partitions: 3 },
];
