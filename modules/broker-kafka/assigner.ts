import type { KafkaAssigner, KafkaClusterMetadata, KafkaMemberSubscription } from './kafkaLibrary.js';

type Assignments = ReturnType<KafkaAssigner>;

/**
 * Round-robin assignment that respects what each member subscribed to. The client's built-in round-robin deals
 * the leader's topics out to every member, which is wrong as soon as one group (one queue name) is used on several
 * topics: a member would get partitions of a topic it does not read, and they would never be consumed. Here each
 * topic's partitions go, in turn, only to the members subscribed to it (members and topics sorted, so the result
 * does not depend on who leads). A member whose subscription lists no topics is taken to follow the leader's.
 */
export const subscriptionAwareAssigner: KafkaAssigner = (_leader, members, leaderTopics, metadata: KafkaClusterMetadata): Assignments => {
  const memberIds = [...members.keys()].sort();
  const assignments = new Map(memberIds.map((memberId) => [memberId, { memberId, assignments: new Map<string, { topic: string; partitions: number[] }>() }]));
  const topicsOf = (member: KafkaMemberSubscription | undefined): string[] => (member?.topics?.length ? member.topics : [...leaderTopics]);
  const allTopics = [...new Set(memberIds.flatMap((memberId) => topicsOf(members.get(memberId))))].sort();
  // One turn counter across topics, so many single-partition topics do not all land on the first member.
  let turn = 0;
  for (const topic of allTopics) {
    const partitionsCount = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const subscribers = memberIds.filter((memberId) => topicsOf(members.get(memberId)).includes(topic));
    for (let partition = 0; partition < partitionsCount && subscribers.length > 0; partition++) {
      const member = assignments.get(subscribers[turn++ % subscribers.length]!)!;
      const entry = member.assignments.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      member.assignments.set(topic, entry);
    }
  }
  return [...assignments.values()];
};
