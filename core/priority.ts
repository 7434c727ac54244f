/**
 * Ranking competing registrations of one customer (撞单): first come first served (R17), the R15
 * tie-breaks, same-day household registrations by different channels (R20), and late claims (R8).
 */
import { dayOf, startOfDay } from './day.js';
import type { Policy } from './policy.js';
import type { Day, Instant } from './schema.js';

/** One registration competing for the customer. */
export interface Candidate {
  id: string;
  registrant: string;
  /** The claim time (报备时间); Shanghai midnight of the day when only a date is known. */
  claimedAt: Instant;
  /** False when only the date of the claim is known. */
  claimHasTime: boolean;
  expectedAmount?: number;
  expectedUnitPrice?: number;
  expectedSignDate?: Day;
  followUpCount: number;
  firstVisitAt?: Instant;
  /** 渠道: the partner company that brought the customer. */
  channel?: string;
  /** Registered as a household member (家庭成员) of the customer rather than the customer (R19/R20). */
  household?: boolean;
}

/** Why a candidate holds its place, citing the rule. */
export interface RankReason {
  code: string;
  message: string;
  messageEn: string;
}

export interface RankedCandidate {
  id: string;
  /** 1 = wins; equal ranks = tie. Competition ranking: two at 1, then 3. */
  rank: number;
  /** Percent of the customer, for candidates splitting it (R16/R20). */
  share?: number;
  reasons: RankReason[];
  needsReview: boolean;
}

export type PriorityPolicy = Pick<Policy, 'sameDayTie' | 'minLeadMinutesBeforeVisit'>;

const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

type LeadCheck = 'compliant' | 'late' | 'unknown';

interface Entry {
  candidate: Candidate;
  /** R8: registered too close to (or after) the first visit. */
  lead: LeadCheck;
  day: Day;
  claimMs: number;
  /** False when a claim on this day (in this R8 group) has no time, so time cannot order the day (R15). */
  timeDecides: boolean;
}

/** The R17/R15 criteria in the order they decide, then the id as the last resort. */
type Criterion =
  | 'lateBeforeVisit'
  | 'registrationTime'
  | 'expectedAmount'
  | 'expectedUnitPrice'
  | 'expectedSignDate'
  | 'followUps'
  | 'id';

interface Unit {
  /** Best first; more than one only for an R20 split or review group. */
  members: Entry[];
  tie?: 'split' | 'review';
}

/**
 * Rank the registrations of one customer, best first. The result does not depend on the input order:
 * a full tie falls back to id order and is flagged for review.
 */
export function rankCompetitors(candidates: readonly Candidate[], policy: PriorityPolicy): RankedCandidate[] {
  const entries = sortedEntries(candidates, policy);
  const units = groupSameDayTies(entries, policy);
  // What separates each unit from the next; a full tie (`id`) puts both sides up for review.
  const between = units
    .slice(1)
    .map((unit, i) => decidingCriterion(representative(units[i]), representative(unit)));
  const ranked: RankedCandidate[] = [];
  let placed = 0;
  units.forEach((unit, index) => {
    const rank = placed + 1;
    placed += unit.members.length;
    const above = units[index - 1];
    const below = units[index + 1];
    const fullTie = between[index - 1] === 'id' || between[index] === 'id';
    const shares = unit.tie === 'split' ? equalShares(unit.members.length) : [];
    unit.members.forEach((entry, memberIndex) => {
      const share = shares[memberIndex];
      const reasons: RankReason[] = [];
      if (unit.tie !== undefined) reasons.push(sameDayTieReason(unit.tie, share));
      if (above !== undefined) {
        const aboveEntry = representative(above);
        const criterion = decidingCriterion(aboveEntry, entry);
        // a late candidate's place is explained by its R8 reason below
        if (criterion !== 'lateBeforeVisit')
          reasons.push(placeReason(criterion, entry, aboveEntry, 'behind', policy));
      } else if (below !== undefined && unit.tie === undefined) {
        const belowEntry = representative(below);
        reasons.push(placeReason(decidingCriterion(entry, belowEntry), entry, belowEntry, 'ahead', policy));
      } else if (unit.tie === undefined) {
        reasons.push({ code: 'priority.only', message: '唯一的报备', messageEn: 'the only registration' });
      }
      if (entry.lead === 'late') reasons.push(lateReason(entry, policy));
      if (entry.lead === 'unknown') reasons.push(leadUnknownReason(entry, policy));
      ranked.push({
        id: entry.candidate.id,
        rank,
        ...(share === undefined ? {} : { share }),
        reasons,
        needsReview: unit.tie === 'review' || entry.lead === 'unknown' || fullTie,
      });
    });
  });
  return ranked;
}

function representative(unit: Unit | undefined): Entry {
  const best = unit?.members[0];
  if (best === undefined) throw new Error('a ranking unit has at least one member');
  return best;
}

function sortedEntries(candidates: readonly Candidate[], policy: PriorityPolicy): Entry[] {
  const entries = candidates.map((candidate) => {
    const claimMs = Date.parse(candidate.claimedAt);
    if (Number.isNaN(claimMs)) throw new RangeError(`candidate ${candidate.id}: claimedAt is not an instant`);
    return {
      candidate,
      lead: leadCheck(candidate, claimMs, policy),
      day: dayOf(candidate.claimedAt),
      claimMs,
    };
  });
  // R15: a claim known only by its date ties on time with every claim of that day, so the whole
  // day is ordered by the other criteria; deciding per pair instead would not be a consistent order.
  const daysWithoutTime = new Set(
    entries.filter((e) => !e.candidate.claimHasTime).map((e) => `${e.lead === 'late'}|${e.day}`),
  );
  return entries
    .map((e): Entry => ({ ...e, timeDecides: !daysWithoutTime.has(`${e.lead === 'late'}|${e.day}`) }))
    .sort(compareEntries);
}

// R8. A date-only claim could have been made any time that day, and a visit known by its date
// (来访日期, kept as that day's Shanghai midnight) any time of its day: late only if even the
// earliest possible claim is too close to the latest possible visit, unknown if the answer
// depends on the hour.
function leadCheck(candidate: Candidate, claimMs: number, policy: PriorityPolicy): LeadCheck {
  const minutes = policy.minLeadMinutesBeforeVisit;
  if (minutes === null || candidate.firstVisitAt === undefined) return 'compliant';
  const visitMs = Date.parse(candidate.firstVisitAt);
  if (Number.isNaN(visitMs))
    throw new RangeError(`candidate ${candidate.id}: firstVisitAt is not an instant`);
  const required = minutes * MINUTE_MS;
  const claimFrom = candidate.claimHasTime ? claimMs : Date.parse(startOfDay(dayOf(candidate.claimedAt)));
  const claimTo = candidate.claimHasTime ? claimMs : claimFrom + DAY_MS;
  const visitTo = visitHasTime(candidate.firstVisitAt) ? visitMs : visitMs + DAY_MS;
  if (visitTo - claimFrom < required) return 'late';
  return visitMs - claimTo >= required ? 'compliant' : 'unknown';
}

/** False for a visit known only by its date: stored as its day's Shanghai midnight. */
function visitHasTime(visit: Instant): boolean {
  return Date.parse(visit) !== Date.parse(startOfDay(dayOf(visit)));
}

function compareEntries(a: Entry, b: Entry): number {
  const criterion = decidingCriterion(a, b);
  return criterion === 'id' && a.candidate.id === b.candidate.id ? 0 : isAhead(a, b, criterion) ? -1 : 1;
}

/** The first criterion on which the two differ; `id` when nothing else does. */
function decidingCriterion(a: Entry, b: Entry): Criterion {
  if ((a.lead === 'late') !== (b.lead === 'late')) return 'lateBeforeVisit';
  if (a.day !== b.day || (a.timeDecides && a.claimMs !== b.claimMs)) return 'registrationTime';
  const x = a.candidate;
  const y = b.candidate;
  if (amountOrLowest(x.expectedAmount) !== amountOrLowest(y.expectedAmount)) return 'expectedAmount';
  if (amountOrLowest(x.expectedUnitPrice) !== amountOrLowest(y.expectedUnitPrice)) return 'expectedUnitPrice';
  if (signDateOrLast(x.expectedSignDate) !== signDateOrLast(y.expectedSignDate)) return 'expectedSignDate';
  if (x.followUpCount !== y.followUpCount) return 'followUps';
  return 'id';
}

/** Whether a goes before b on a criterion they differ on. */
function isAhead(a: Entry, b: Entry, criterion: Criterion): boolean {
  const x = a.candidate;
  const y = b.candidate;
  switch (criterion) {
    case 'lateBeforeVisit':
      return b.lead === 'late';
    case 'registrationTime':
      return a.day !== b.day ? a.day < b.day : a.claimMs < b.claimMs;
    case 'expectedAmount':
      return amountOrLowest(x.expectedAmount) > amountOrLowest(y.expectedAmount);
    case 'expectedUnitPrice':
      return amountOrLowest(x.expectedUnitPrice) > amountOrLowest(y.expectedUnitPrice);
    case 'expectedSignDate':
      return signDateOrLast(x.expectedSignDate) < signDateOrLast(y.expectedSignDate);
    case 'followUps':
      return x.followUpCount > y.followUpCount;
    case 'id':
      return x.id < y.id;
  }
}

// An unstated figure loses to any stated one; treating it as "cannot compare" would not be a consistent order.
function amountOrLowest(amount: number | undefined): number {
  return amount ?? Number.NEGATIVE_INFINITY;
}

function signDateOrLast(day: Day | undefined): string {
  return day ?? '\uffff';
}

/**
 * R20: on each day, the best registration of each channel; when at least two channels registered
 * that day and one of them registered a household member (so they brought different people of one
 * household, not the same person), those registrations split or go to review together. Only
 * candidates protected in a clash (R8) take part. Under `first` the ordinary order stands.
 */
function groupSameDayTies(entries: readonly Entry[], policy: PriorityPolicy): Unit[] {
  const mode = policy.sameDayTie;
  const groupOf = new Map<Entry, Entry[]>();
  if (mode !== 'first') {
    const channelLeads = new Map<Day, Map<string, Entry>>();
    for (const entry of entries) {
      const channel = entry.candidate.channel;
      if (channel === undefined || entry.lead === 'late') continue;
      const leads = channelLeads.get(entry.day) ?? new Map<string, Entry>();
      // entries are sorted, so the first seen per channel is that channel's best
      if (!leads.has(channel)) leads.set(channel, entry);
      channelLeads.set(entry.day, leads);
    }
    for (const leads of channelLeads.values()) {
      const group = [...leads.values()].sort(compareEntries);
      if (group.length < 2 || !group.some((e) => e.candidate.household === true)) continue;
      for (const entry of group) groupOf.set(entry, group);
    }
  }
  const units: Unit[] = [];
  const placed = new Set<Entry>();
  for (const entry of entries) {
    if (placed.has(entry)) continue;
    const group = groupOf.get(entry);
    if (group === undefined || mode === 'first') {
      units.push({ members: [entry] });
      placed.add(entry);
    } else {
      // the group's best member comes first in the sorted entries, so the group takes its place
      units.push({ members: group, tie: mode });
      for (const member of group) placed.add(member);
    }
  }
  return units;
}

/** Equal percentages to two decimals that add up to 100; the first takes the rounding remainder. */
function equalShares(count: number): number[] {
  const each = Math.floor(10000 / count) / 100;
  const first = Math.round((100 - each * (count - 1)) * 100) / 100;
  return Array.from({ length: count }, (_, i) => (i === 0 ? first : each));
}

function isSameDayHouseholdPair(a: Entry, b: Entry): boolean {
  const x = a.candidate;
  const y = b.candidate;
  return (
    a.day === b.day &&
    x.channel !== undefined &&
    y.channel !== undefined &&
    x.channel !== y.channel &&
    (x.household === true || y.household === true)
  );
}

function placeReason(
  criterion: Criterion,
  subject: Entry,
  other: Entry,
  side: 'ahead' | 'behind',
  policy: PriorityPolicy,
): RankReason {
  const ahead = side === 'ahead';
  const s = subject.candidate;
  const o = other.candidate;
  const sameTimeZh = subject.timeDecides ? '报备时间相同' : '同一天报备（时间不详）';
  const sameTimeEn = subject.timeDecides
    ? 'same registration time'
    : 'same registration day (time not known)';
  switch (criterion) {
    case 'lateBeforeVisit':
      return {
        code: 'priority.aheadOfLate',
        message: `[R8] 其他报备距到访不足 ${policy.minLeadMinutesBeforeVisit ?? 0} 分钟，撞单时不受保护`,
        messageEn: `[R8] ahead of a registration made less than ${policy.minLeadMinutesBeforeVisit ?? 0} minutes before the visit`,
      };
    case 'registrationTime': {
      const [mine, theirs] = claimLabels(subject, other);
      if (policy.sameDayTie === 'first' && isSameDayHouseholdPair(subject, other)) {
        return {
          code: 'priority.sameDayFirst',
          message: `[R20] 同一天不同渠道报备同一家庭，先报备者优先：${mine}，${ahead ? '早于' : '晚于'} ${theirs}`,
          messageEn: `[R20] same-day household registrations by different channels, first wins: registered ${mine}, ${ahead ? 'before' : 'after'} ${theirs}`,
        };
      }
      return {
        code: 'priority.registrationTime',
        message: `[R17] 报备时间 ${mine}，${ahead ? '早于' : '晚于'} ${theirs}`,
        messageEn: `[R17] registered ${mine}, ${ahead ? 'before' : 'after'} ${theirs}`,
      };
    }
    case 'expectedAmount':
      return {
        code: 'priority.expectedAmount',
        message: `[R15] ${sameTimeZh}，预计签约金额${ahead ? '较高' : '较低'}：${moneyZh(s.expectedAmount)}，对方 ${moneyZh(o.expectedAmount)}`,
        messageEn: `[R15] ${sameTimeEn}; ${ahead ? 'higher' : 'lower'} expected amount ${moneyEn(s.expectedAmount)} vs ${moneyEn(o.expectedAmount)}`,
      };
    case 'expectedUnitPrice':
      return {
        code: 'priority.expectedUnitPrice',
        message: `[R15] ${sameTimeZh}，金额相同，预计签约单价${ahead ? '较高' : '较低'}：${moneyZh(s.expectedUnitPrice)}，对方 ${moneyZh(o.expectedUnitPrice)}`,
        messageEn: `[R15] ${sameTimeEn}, same amount; ${ahead ? 'higher' : 'lower'} expected unit price ${moneyEn(s.expectedUnitPrice)} vs ${moneyEn(o.expectedUnitPrice)}`,
      };
    case 'expectedSignDate':
      return {
        code: 'priority.expectedSignDate',
        message: `[R15] ${sameTimeZh}，金额与单价相同，预计签约时间${ahead ? '较早' : '较晚'}：${s.expectedSignDate ?? '未填'}，对方 ${o.expectedSignDate ?? '未填'}`,
        messageEn: `[R15] ${sameTimeEn}, same amount and unit price; ${ahead ? 'earlier' : 'later'} expected signing date ${s.expectedSignDate ?? 'not stated'} vs ${o.expectedSignDate ?? 'not stated'}`,
      };
    case 'followUps':
      return {
        code: 'priority.followUps',
        message: `[R15] ${sameTimeZh}，金额、单价与签约时间相同，跟进记录${ahead ? '较多' : '较少'}：${s.followUpCount} 条，对方 ${o.followUpCount} 条`,
        messageEn: `[R15] ${sameTimeEn}, same amount, unit price and signing date; ${ahead ? 'more' : 'fewer'} follow-up records ${s.followUpCount} vs ${o.followUpCount}`,
      };
    case 'id':
      return {
        code: 'priority.fullTie',
        message: '[R15] 各项条件均相同，暂按编号排序，需人工审核',
        messageEn: '[R15] tied on every criterion; ordered by id for now, needs review',
      };
  }
}

function sameDayTieReason(tie: 'split' | 'review', share: number | undefined): RankReason {
  if (tie === 'split') {
    return {
      code: 'priority.sameDaySplit',
      message: `[R20] 同一天不同渠道报备同一家庭的成员，业绩平分（${share ?? 0}%）`,
      messageEn: `[R20] members of one household registered the same day by different channels; split equally (${share ?? 0}%)`,
    };
  }
  return {
    code: 'priority.sameDayReview',
    message: '[R20] 同一天不同渠道报备同一家庭的成员，需人工审核',
    messageEn: '[R20] members of one household registered the same day by different channels; needs review',
  };
}

function lateReason(entry: Entry, policy: PriorityPolicy): RankReason {
  const minutes = policy.minLeadMinutesBeforeVisit ?? 0;
  const visit = visitLabel(entry.candidate.firstVisitAt ?? entry.candidate.claimedAt);
  return {
    code: 'priority.lateBeforeVisit',
    message: `[R8] 报备时间 ${claimLabel(entry)} 距到访 ${visit} 不足 ${minutes} 分钟，撞单时不受保护`,
    messageEn: `[R8] registered ${claimLabel(entry)}, less than ${minutes} minutes before the first visit ${visit}; not protected in a clash`,
  };
}

function leadUnknownReason(entry: Entry, policy: PriorityPolicy): RankReason {
  const minutes = policy.minLeadMinutesBeforeVisit ?? 0;
  const visitAt = entry.candidate.firstVisitAt ?? entry.candidate.claimedAt;
  if (entry.candidate.claimHasTime || !visitHasTime(visitAt)) {
    // The visit's hour is what is missing (with or without the claim's).
    const visitDay = dayOf(visitAt);
    return {
      code: 'priority.leadUnknown',
      message: `[R8] 到访只有日期 ${visitDay}，无法确认报备 ${claimLabel(entry)} 是否早于到访 ${minutes} 分钟以上，需人工审核`,
      messageEn: `[R8] the first visit has a date only (${visitDay}); cannot tell whether the registration ${claimLabel(entry)} was at least ${minutes} minutes before it; needs review`,
    };
  }
  const visit = shanghaiMinute(visitAt);
  return {
    code: 'priority.leadUnknown',
    message: `[R8] 报备只有日期 ${entry.day}，无法确认是否早于到访 ${visit} ${minutes} 分钟以上，需人工审核`,
    messageEn: `[R8] registration has a date only (${entry.day}); cannot tell whether it was at least ${minutes} minutes before the visit ${visit}; needs review`,
  };
}

/** The claim as people know it: Shanghai date and minute, or the date alone when that is all there is. */
function claimLabel(entry: Entry): string {
  return entry.candidate.claimHasTime ? shanghaiMinute(entry.candidate.claimedAt) : entry.day;
}

/**
 * Two claims as claimLabel shows them, but to the second (or millisecond) when both have a time
 * and the minute does not tell them apart: "09:00, before 09:00" would explain nothing.
 */
function claimLabels(a: Entry, b: Entry): [string, string] {
  const mine = claimLabel(a);
  const theirs = claimLabel(b);
  if (mine !== theirs || !a.candidate.claimHasTime || !b.candidate.claimHasTime) return [mine, theirs];
  const sameSecond = Math.floor(a.claimMs / 1000) === Math.floor(b.claimMs / 1000);
  const length = sameSecond ? 23 : 19;
  return [shanghaiTime(a.candidate.claimedAt, length), shanghaiTime(b.candidate.claimedAt, length)];
}

/** A visit as the sheet knew it: Shanghai date and minute, or the date alone. */
function visitLabel(visit: Instant): string {
  return visitHasTime(visit) ? shanghaiMinute(visit) : dayOf(visit);
}

function shanghaiMinute(instant: Instant): string {
  return shanghaiTime(instant, 16);
}

/** Shanghai `YYYY-MM-DD HH:mm`, `…:ss` or `…:ss.SSS` (the ISO form cut at `length`). */
function shanghaiTime(instant: Instant, length: 16 | 19 | 23): string {
  const local = new Date(Date.parse(instant) + OFFSET_MS).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, length)}`;
}

const MONEY = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function moneyZh(amount: number | undefined): string {
  return amount === undefined ? '未填' : `¥${MONEY.format(amount)}`;
}

function moneyEn(amount: number | undefined): string {
  return amount === undefined ? 'not stated' : `¥${MONEY.format(amount)}`;
}
