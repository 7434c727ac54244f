/**
 * Who may be told what, as pure rules over plain data (docs/notifications.md, "What each channel
 * carries"). The composer asks `disclosureFor` before it writes a record number or a customer
 * name; the outbox asks `shouldNotify` before it creates an entry and `mentionsFor` before it
 * @mentions anyone. Contact names, phones, emails, credit codes, addresses and amounts are not
 * rules here: they are never in `RecordFacts`, so no message can carry them.
 */
import type { Role } from '../../core/schema.js';
import type { Mention } from './channel.js';
import type { NotifyEvent, RecordFacts } from './notifyEvent.js';

export type Recipient =
  /** One person, reached directly (email). */
  | { kind: 'person'; name: string; role: Role; team?: string }
  /** A group robot: everyone in the team's group reads it. `team: null` is a company-wide group. */
  | { kind: 'robot'; team: string | null };

export interface Disclosure {
  /** This record's registration number. */
  recordNo: boolean;
  /** The customer's name. */
  customerName: boolean;
  /** Numbers of other records named in the event (the winner, the signed record, the one queued behind). */
  otherRecordNos: boolean;
}

const NOTHING: Disclosure = { recordNo: false, customerName: false, otherRecordNos: false };

/** The registrant, or the partner of a shared customer (R16): the people who hold the customer. */
export function holdsRecord(person: { name: string }, record: RecordFacts): boolean {
  return record.registrant === person.name || record.sharedWith === person.name;
}

/**
 * R34, the same rule as `canRead` in server/services/actor.ts, over `RecordFacts`: holders see
 * their records, reviewers their team's (a reviewer without a team every team's), admins all.
 */
export function mayRead(person: { name: string; role: Role; team?: string }, record: RecordFacts): boolean {
  if (holdsRecord(person, record)) return true;
  if (person.role === 'admin') return true;
  return person.role === 'reviewer' && (person.team === undefined || person.team === record.team);
}

/** Never tell people about their own action. Groups are told; the actor is just not @mentioned. */
export function isOwnAction(event: Pick<NotifyEvent, 'actor'>, recipient: Recipient): boolean {
  return recipient.kind === 'person' && event.actor !== undefined && event.actor === recipient.name;
}

/**
 * Whether this recipient gets a message about this event at all: not for their own action, a
 * person only about a record they may read (R34), a team robot only about its team's records.
 */
export function shouldNotify(
  event: Pick<NotifyEvent, 'actor'>,
  recipient: Recipient,
  record: RecordFacts,
): boolean {
  if (isOwnAction(event, recipient)) return false;
  if (recipient.kind === 'person') return mayRead(recipient, record);
  return recipient.team === null || recipient.team === record.team;
}

/**
 * What a message to this recipient may name:
 * - the record number: people who may read the record (R34), and the robot of the record's team;
 * - the customer name: only the holders (by email) and the robot of the record's team — and
 *   never a group when the customer is an individual, whose name is personal data;
 * - other records' numbers: only people who may read this record (they may belong to other teams);
 * - a company-wide group: none of these.
 */
export function disclosureFor(recipient: Recipient, record: RecordFacts): Disclosure {
  if (recipient.kind === 'person') {
    if (!mayRead(recipient, record)) return NOTHING;
    return { recordNo: true, customerName: holdsRecord(recipient, record), otherRecordNos: true };
  }
  if (recipient.team === null || recipient.team !== record.team) return NOTHING;
  return { recordNo: true, customerName: record.customerType !== 'individual', otherRecordNos: false };
}

/** The people to @mention in a group about this event: never the one who acted. */
export function mentionsFor(event: Pick<NotifyEvent, 'actor'>, candidates: readonly Mention[]): Mention[] {
  const seen = new Set<string>();
  return candidates.filter((m) => {
    if (event.actor !== undefined && m.name === event.actor) return false;
    if (seen.has(m.name)) return false;
    seen.add(m.name);
    return true;
  });
}
