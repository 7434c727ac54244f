/**
 * The words of every notification, in zh-CN and English, as channel-neutral documents: one per
 * event for a recipient, and one summary for a burst merged by the rate limiter. Every record
 * number and customer name goes through `disclosureFor`; everything else written here is dates,
 * statuses, outcome codes and staff names.
 *
 * Over 600 lines as one file: the words of every event, side by side in both languages, so a
 * change of tone or of what is disclosed is made once for all events.
 */
import { addDays } from '../../core/day.js';
import type { Language, MessageDocument, Segment } from './channel.js';
import { disclosureFor, holdsRecord, type Disclosure, type Recipient } from './messagePolicy.js';
import {
  NOTIFY_EVENT_TYPES,
  type NotifyEvent,
  type NotifyEventType,
  type RecordFacts,
} from './notifyEvent.js';

export const EVENT_LABELS: Record<NotifyEventType, { zh: string; en: string }> = {
  decision: { zh: '审核结果', en: 'Review decision' },
  'competitor.decided': { zh: '撞单裁定', en: 'Conflict decided' },
  'queue.promoted': { zh: '转入审核', en: 'Moved up to review' },
  'protection.ended': { zh: '保护已结束', en: 'Protection ended' },
  'extension.requested': { zh: '延期申请', en: 'Extension requested' },
  'extension.decided': { zh: '延期审核结果', en: 'Extension decided' },
  'objection.filed': { zh: '异议待处理', en: 'Objection filed' },
  transfer: { zh: '报备移交', en: 'Handed over' },
  changed: { zh: '报备已更改', en: 'Registration changed' },
  resubmitted: { zh: '重新提交审核', en: 'Resubmitted for review' },
  'protection.ending': { zh: '保护期即将到期', en: 'Protection ending' },
  'extension.undecided': { zh: '延期申请待审核', en: 'Extension awaits decision' },
  'objection.closing': { zh: '异议期即将结束', en: 'Objection window closing' },
  'review.due': { zh: '待审核', en: 'Review due' },
  'review.overdue': { zh: '审核已超期', en: 'Review overdue' },
  'followUp.due': { zh: '跟进提醒', en: 'Follow-up due' },
  'followUp.overdue': { zh: '跟进已逾期', en: 'Follow-up overdue' },
  'pool.lapsing': { zh: '报备即将失效', en: 'About to lapse' },
  'pool.lapsed': { zh: '报备已失效，客户回到公海', en: 'Lapsed into the pool' },
  'pool.claimed': { zh: '公海客户已被认领', en: 'Claimed from the pool' },
};

const OUTCOMES: Record<string, { zh: string; en: string }> = {
  signed: { zh: '已签约', en: 'signed' },
  lost_to_competitor: { zh: '客户已与竞争对手签约', en: 'the customer signed with a competitor' },
  false_info: { zh: '信息不实', en: 'false information' },
  withdrawn: { zh: '已撤回', en: 'withdrawn' },
  expired: { zh: '保护期届满', en: 'the protection period ran out' },
  void: { zh: '未按时跟进，报备作废', en: 'follow-ups lapsed, the registration is void' },
  'objection.upheld': { zh: '他人的异议成立', en: "another registrant's objection was upheld" },
};

/** The task pane, where every notification can be acted on. */
export function taskPaneUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/addin/taskpane.html`;
}

export interface ComposeContext {
  language: Language;
  /** `taskPaneUrl(config.publicUrl)`. */
  taskPaneUrl: string;
}

type Details = NotifyEvent['details'];
type Text = { zh: string; en: string };

/** A sentence in both languages around segments (the record reference, bold dates). */
interface Sentence {
  zh: Segment[];
  en: Segment[];
}

const t = (s: string, strong = false): Segment => (strong ? { text: s, strong } : { text: s });

function str(d: Details, key: string): string | undefined {
  const v = d[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(d: Details, key: string): number | undefined {
  const v = d[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** How the message names the record for this recipient. */
function recordRef(record: RecordFacts, disclosure: Disclosure, recipient: Recipient): Sentence {
  if (!disclosure.recordNo) return { zh: [t('一条报备')], en: [t('a registration')] };
  const customer = disclosure.customerName ? record.customerName : undefined;
  const own = recipient.kind === 'person' && holdsRecord(recipient, record);
  // A group is told whose registration it is; the holder is told "your".
  const whose =
    recipient.kind === 'robot'
      ? { zh: `（报备人 ${record.registrant}）`, en: ` (${record.registrant})` }
      : { zh: '', en: '' };
  return {
    zh: [
      t(own ? '您的报备 ' : '报备 '),
      t(record.no, true),
      ...(customer ? [t(`（${customer}）`)] : []),
      ...(whose.zh ? [t(whose.zh)] : []),
    ],
    en: [
      t(own ? 'Your registration ' : 'Registration '),
      t(record.no, true),
      ...(customer ? [t(` (${customer})`)] : []),
      ...(whose.en ? [t(whose.en)] : []),
    ],
  };
}

/** Another record's number where this recipient may see it, else a neutral word. */
function otherRecord(no: string | undefined, disclosure: Disclosure): Text {
  return no !== undefined && disclosure.otherRecordNos
    ? { zh: `（${no}）`, en: ` (${no})` }
    : { zh: '', en: '' };
}

function day(d: string | undefined): Segment {
  return t(d ?? '—', true);
}

interface Draft {
  title: Text;
  paragraphs: Sentence[];
}

/** The document for one event, for one recipient. Callers check `shouldNotify` first. */
export function composeMessage(
  event: NotifyEvent,
  record: RecordFacts,
  recipient: Recipient,
  ctx: ComposeContext,
): MessageDocument {
  const disclosure = disclosureFor(recipient, record);
  const draft = draftFor(event, record, recipient, disclosure);
  const zh = ctx.language === 'zh-CN';
  return {
    language: ctx.language,
    title: zh ? draft.title.zh : draft.title.en,
    paragraphs: draft.paragraphs.map((p) => (zh ? tightenZh(p.zh) : p.en)),
    link: { text: zh ? '在报备任务窗格中查看' : 'Open in the Baobei task pane', url: ctx.taskPaneUrl },
  };
}

/** Sentences put a space after the record number; Chinese wants none after a full-width bracket. */
function tightenZh(segments: Segment[]): Segment[] {
  return segments.map((seg, i) => {
    const before = segments[i - 1]?.text ?? '';
    return /[）】，。：；]$/.test(before) && seg.text.startsWith(' ')
      ? { ...seg, text: seg.text.trimStart() }
      : seg;
  });
}

/** The English reference in the middle of a sentence ("…; your registration …"). */
function mid(segments: Segment[]): Segment[] {
  const [first, ...rest] = segments;
  if (!first) return segments;
  return [{ ...first, text: first.text.charAt(0).toLowerCase() + first.text.slice(1) }, ...rest];
}

function draftFor(
  event: NotifyEvent,
  record: RecordFacts,
  recipient: Recipient,
  disclosure: Disclosure,
): Draft {
  const d = event.details;
  const ref = recordRef(record, disclosure, recipient);
  const s = (zh: Segment[], en: Segment[]): Sentence => ({ zh, en });
  switch (event.type) {
    case 'decision': {
      if (d['objection'] === 'upheld')
        return {
          title: { zh: '异议成立', en: 'Objection upheld' },
          paragraphs: [
            s(
              [...ref.zh, t(' 的异议成立，已获保护至 '), day(str(d, 'protectedUntil')), t('。')],
              [...ref.en, t(': objection upheld, protected until '), day(str(d, 'protectedUntil')), t('.')],
            ),
          ],
        };
      if (d['objection'] === 'dismissed')
        return {
          title: { zh: '异议未被采纳', en: 'Objection dismissed' },
          paragraphs: [
            s([...ref.zh, t(' 的异议未被采纳。')], [...ref.en, t(': the objection was dismissed.')]),
          ],
        };
      if (d['decision'] === 'reject')
        return {
          title: { zh: '报备被驳回', en: 'Registration rejected' },
          paragraphs: [
            s([...ref.zh, t(' 已被驳回。')], [...ref.en, t(' was rejected.')]),
            s(
              [t('驳回理由请在任务窗格中查看；修改后可重新提交。')],
              [t('The reason is in the task pane; you may correct it and submit again.')],
            ),
          ],
        };
      const shared = d['decision'] === 'share';
      return {
        title: shared
          ? { zh: '报备已通过（共享客户）', en: 'Registration approved (shared customer)' }
          : { zh: '报备已通过', en: 'Registration approved' },
        paragraphs: [
          s(
            [
              ...ref.zh,
              t(shared ? ' 已通过（共享客户），保护至 ' : ' 已通过，保护至 '),
              day(str(d, 'protectedUntil')),
              t('。'),
            ],
            [
              ...ref.en,
              t(
                shared
                  ? ' was approved (shared customer), protected until '
                  : ' was approved, protected until ',
              ),
              day(str(d, 'protectedUntil')),
              t('.'),
            ],
          ),
        ],
      };
    }
    case 'competitor.decided': {
      const signed = str(d, 'signed');
      if (signed !== undefined || d['signed'] !== undefined) {
        const other = otherRecord(signed, disclosure);
        return {
          title: { zh: '客户已由他人签约', en: 'Customer signed by someone else' },
          paragraphs: [
            s(
              [...ref.zh, t(` 已驳回：客户已由他人签约${other.zh}。`)],
              [...ref.en, t(` was rejected: the customer was signed by someone else${other.en}.`)],
            ),
          ],
        };
      }
      const other = otherRecord(str(d, 'winner'), disclosure);
      if (d['queued'] === true) {
        // An upheld objection (R12) put it back in the queue: it did not lose, so no objection window.
        return {
          title: { zh: '异议成立：转为排队', en: 'Objection upheld: back in the queue' },
          paragraphs: [
            s(
              [
                t(`异议成立，客户改由另一报备${other.zh}保护，`),
                ...ref.zh,
                t(' 转为排队，待其保护结束后依次递补。'),
              ],
              [
                t(
                  `An objection was upheld and the customer is now protected for another registration${other.en}; `,
                ),
                ...mid(ref.en),
                t(' waits behind it and moves up when it ends.'),
              ],
            ),
          ],
        };
      }
      return {
        title: { zh: '撞单裁定：未获批准', en: 'Conflict decided: not granted' },
        paragraphs: [
          s(
            [t(`同一客户已批准给另一报备${other.zh}，`), ...ref.zh, t(' 未获批准。')],
            [
              t(`The customer was granted to another registration${other.en}; `),
              ...mid(ref.en),
              t(' was not.'),
            ],
          ),
          s(
            [t('如有异议，请于 '), day(str(d, 'objectionDeadline')), t(' 前（含当日）提出。')],
            [t('If you disagree, object by '), day(str(d, 'objectionDeadline')), t(' (inclusive).')],
          ),
        ],
      };
    }
    case 'queue.promoted': {
      const other = otherRecord(str(d, 'after'), disclosure);
      return {
        title: { zh: '已转入审核', en: 'Moved up to review' },
        paragraphs: [
          s(
            [
              t(`前一保护${other.zh}已结束，`),
              ...ref.zh,
              t(' 已转入审核，审核截止 '),
              day(str(d, 'reviewDueBy')),
              t('。'),
            ],
            [
              t(`The earlier protection${other.en} ended; `),
              ...mid(ref.en),
              t(' is now under review, due '),
              day(str(d, 'reviewDueBy')),
              t('.'),
            ],
          ),
        ],
      };
    }
    case 'protection.ended': {
      const outcome = OUTCOMES[str(d, 'outcome') ?? ''] ?? { zh: '已结束', en: 'ended' };
      const banned = str(d, 'bannedUntil');
      // Told to the reviewers of the team whose grant a reviewer of another team reversed (R12).
      const decidedBy = str(d, 'decidedBy');
      const team = str(d, 'decidedByTeam');
      const objector = otherRecord(str(d, 'by'), disclosure);
      return {
        title: { zh: '保护已结束', en: 'Protection ended' },
        paragraphs: [
          s(
            [...ref.zh, t(` 的保护已结束：${outcome.zh}。`)],
            [...ref.en, t(`: protection ended — ${outcome.en}.`)],
          ),
          ...(decidedBy !== undefined
            ? [
                s(
                  [
                    t(
                      `${team !== undefined ? `${team} 的 ` : ''}${decidedBy} 支持了另一报备${objector.zh}的异议。`,
                    ),
                  ],
                  [
                    t(
                      `${decidedBy}${team !== undefined ? ` (${team})` : ''} upheld the objection of another registration${objector.en}.`,
                    ),
                  ],
                ),
              ]
            : []),
          ...(banned !== undefined
            ? [
                s(
                  [t('在 '), day(banned), t(' 之前不得再次报备该客户。')],
                  [
                    t('The customer may not be registered again by the same person before '),
                    day(banned),
                    t('.'),
                  ],
                ),
              ]
            : []),
        ],
      };
    }
    case 'extension.requested':
      return {
        title: { zh: '延期申请待审核', en: 'Extension requested' },
        paragraphs: [
          s(
            [...ref.zh, t(' 申请延期保护（当前保护至 '), day(record.protectedUntil), t('），请审核。')],
            [
              ...ref.en,
              t(' asks for an extension (protected until '),
              day(record.protectedUntil),
              t('); please review.'),
            ],
          ),
        ],
      };
    case 'extension.decided':
      return d['decision'] === 'approve'
        ? {
            title: { zh: '延期已批准', en: 'Extension approved' },
            paragraphs: [
              s(
                [...ref.zh, t(' 的延期已批准，保护至 '), day(str(d, 'protectedUntil')), t('。')],
                [
                  ...ref.en,
                  t(': extension approved, protected until '),
                  day(str(d, 'protectedUntil')),
                  t('.'),
                ],
              ),
            ],
          }
        : {
            title: { zh: '延期未获批准', en: 'Extension refused' },
            paragraphs: [
              s(
                [...ref.zh, t(' 的延期申请未获批准，保护仍至 '), day(str(d, 'protectedUntil')), t('。')],
                [
                  ...ref.en,
                  t(': extension refused, still protected until '),
                  day(str(d, 'protectedUntil')),
                  t('.'),
                ],
              ),
            ],
          };
    case 'objection.filed': {
      const against = disclosure.otherRecordNos ? str(d, 'against') : undefined;
      return {
        title: { zh: '异议待处理', en: 'Objection to decide' },
        paragraphs: [
          s(
            [...ref.zh, t(` 对撞单裁定提出异议${against ? `（针对 ${against}）` : ''}，请处理。`)],
            [
              ...ref.en,
              t(` objects to a conflict decision${against ? ` (against ${against})` : ''}; please decide.`),
            ],
          ),
        ],
      };
    }
    case 'transfer': {
      const to = str(d, 'to');
      const share = str(d, 'share');
      if (share !== undefined) {
        // The other share's number only where other records may be named (R34): robots get none.
        const other = otherRecord(share, disclosure);
        const from = str(d, 'from') ?? '—';
        return {
          title: { zh: '共享伙伴已变更', en: 'Share partner changed' },
          paragraphs: [
            s(
              [
                ...ref.zh,
                t(` 的共享伙伴已变更：共享该客户的报备${other.zh}已由 ${from} 移交给 ${to ?? '—'}。`),
              ],
              [
                ...ref.en,
                t(
                  ` has a new share partner: the registration sharing the customer${other.en} was handed over from ${from} to ${to ?? '—'}.`,
                ),
              ],
            ),
          ],
        };
      }
      if (to !== undefined)
        return {
          title: { zh: '报备已移交', en: 'Registration handed over' },
          paragraphs: [s([...ref.zh, t(` 已移交给 ${to}。`)], [...ref.en, t(` was handed over to ${to}.`)])],
        };
      const from = str(d, 'from') ?? '—';
      const toYou = recipient.kind === 'person' && holdsRecord(recipient, record);
      return {
        title: { zh: '报备已移交', en: 'Registration handed over' },
        paragraphs: [
          toYou
            ? s(
                [...ref.zh, t(` 已移交给您（原报备人 ${from}）。`)],
                [...ref.en, t(` was handed over to you (from ${from}).`)],
              )
            : s(
                [...ref.zh, t(` 已由 ${from} 移交给 ${record.registrant}。`)],
                [...ref.en, t(` was handed over from ${from} to ${record.registrant}.`)],
              ),
        ],
      };
    }
    case 'changed': {
      // Field names only (never the values: they may be personal data).
      const fields = (str(d, 'fields') ?? '').split(',').filter((f) => f !== '');
      const by = str(d, 'by');
      const identity = d['identity'] === true;
      return {
        title: identity
          ? { zh: '报备的客户信息已更改', en: 'Customer details of a registration changed' }
          : { zh: '报备已更改', en: 'Registration changed' },
        paragraphs: [
          s(
            [
              ...ref.zh,
              t(
                `${by ? ` 已由 ${by}` : ' 已'}更改（${fields.length} 项${identity ? '，含客户识别信息' : ''}），请在任务窗格中查看变更记录。`,
              ),
            ],
            [
              ...ref.en,
              t(
                ` was changed${by ? ` by ${by}` : ''} (${fields.length} field${fields.length === 1 ? '' : 's'}${identity ? ', identifying details included' : ''}); the task pane shows the history.`,
              ),
            ],
          ),
        ],
      };
    }
    case 'resubmitted':
      return {
        title: { zh: '驳回的报备已重新提交', en: 'Rejected registration resubmitted' },
        paragraphs: [
          s(
            [...ref.zh, t(' 已更正并重新提交，请于 '), day(str(d, 'reviewDueBy')), t(' 前审核（R13）。')],
            [
              ...ref.en,
              t(' was corrected and resubmitted; please review by '),
              day(str(d, 'reviewDueBy')),
              t(' (R13).'),
            ],
          ),
        ],
      };
    case 'protection.ending':
      return protectionEnding(d, record, ref);
    case 'extension.undecided': {
      const until = str(d, 'protectedUntil') ?? record.protectedUntil;
      return {
        title: { zh: '延期申请待审核', en: 'Extension request awaits a decision' },
        paragraphs: [
          s(
            [...ref.zh, t(' 的延期申请尚未审核，保护期至 '), day(until), t('。')],
            [
              ...ref.en,
              t(': the extension request has not been decided; protected until '),
              day(until),
              t('.'),
            ],
          ),
          s(
            [
              t('请于 '),
              day(until),
              t(' 前（含当日）审核；届时仍未审核，保护将于当日结束，延期申请随之失效（R28）。'),
            ],
            [
              t('Please decide by '),
              day(until),
              t(
                ' (inclusive); without a decision the protection ends on that day and the request lapses (R28).',
              ),
            ],
          ),
        ],
      };
    }
    case 'objection.closing': {
      const deadline = str(d, 'objectionDeadline') ?? record.objectionDeadline;
      return {
        title: { zh: '异议期今天结束', en: 'Objection window closes today' },
        paragraphs: [
          s(
            [...ref.zh, t(' 的撞单裁定异议期于 '), day(deadline), t(' 结束；如有异议，请在今天提出。')],
            [
              ...ref.en,
              t(': the objection window closes on '),
              day(deadline),
              t('; object today if you disagree.'),
            ],
          ),
        ],
      };
    }
    case 'review.due':
      return {
        title: { zh: '待审核', en: 'Review due' },
        paragraphs: [
          s(
            [...ref.zh, t(' 待审核，审核截止 '), day(str(d, 'reviewDueBy') ?? record.reviewDueBy), t('。')],
            [...ref.en, t(' awaits review, due '), day(str(d, 'reviewDueBy') ?? record.reviewDueBy), t('.')],
          ),
        ],
      };
    case 'review.overdue':
      return {
        title: { zh: '审核已超期', en: 'Review overdue' },
        paragraphs: [
          s(
            [
              ...ref.zh,
              t(' 的审核已于 '),
              day(str(d, 'reviewDueBy') ?? record.reviewDueBy),
              t(' 到期，请尽快处理。'),
            ],
            [
              ...ref.en,
              t(': the review was due on '),
              day(str(d, 'reviewDueBy') ?? record.reviewDueBy),
              t('; please decide.'),
            ],
          ),
        ],
      };
    case 'followUp.due':
      return {
        title: { zh: '请记录跟进', en: 'Follow-up due' },
        paragraphs: [
          s(
            [...ref.zh, t(' 需在 '), day(str(d, 'dueBy')), t(' 前（含当日）记录一次跟进。')],
            [...ref.en, t(' needs a follow-up recorded by '), day(str(d, 'dueBy')), t(' (inclusive).')],
          ),
        ],
      };
    case 'followUp.overdue': {
      const lapses = str(d, 'lapsesOn');
      return {
        title: { zh: '跟进已逾期', en: 'Follow-up overdue' },
        paragraphs: [
          s(
            [...ref.zh, t(' 的跟进已于 '), day(str(d, 'dueBy')), t(' 逾期。')],
            [...ref.en, t(': the follow-up was due on '), day(str(d, 'dueBy')), t('.')],
          ),
          ...(lapses !== undefined
            ? [
                s(
                  [t('若仍未跟进，报备将于 '), day(lapses), t(' 失效，客户回到公海。')],
                  [t('Without one, it lapses on '), day(lapses), t(' and the customer returns to the pool.')],
                ),
              ]
            : []),
        ],
      };
    }
    case 'pool.lapsing':
      return {
        title: { zh: '报备即将失效', en: 'Registration about to lapse' },
        paragraphs: [
          s(
            [...ref.zh, t(' 将于 '), day(str(d, 'lapsesOn')), t(' 失效，客户将回到公海；记录跟进可保留。')],
            [
              ...ref.en,
              t(' lapses on '),
              day(str(d, 'lapsesOn')),
              t(' and its customer returns to the pool; record a follow-up to keep it.'),
            ],
          ),
        ],
      };
    case 'pool.lapsed': {
      const cooldown = str(d, 'reclaimAfter');
      return {
        title: { zh: '报备已失效，客户回到公海', en: 'Registration lapsed into the pool' },
        paragraphs: [
          s(
            [...ref.zh, t(' 已失效，客户已回到公海。')],
            [...ref.en, t(' lapsed; its customer is back in the pool.')],
          ),
          ...(cooldown !== undefined && recipient.kind === 'person'
            ? [
                s(
                  [t('原报备人在 '), day(cooldown), t(' 之前不能重新认领该客户。')],
                  [t('The former holder may not claim it again before '), day(cooldown), t('.')],
                ),
              ]
            : []),
        ],
      };
    }
    case 'pool.claimed':
      return {
        title: { zh: '公海客户已被认领', en: 'Claimed from the pool' },
        paragraphs: [
          s(
            [...ref.zh, t(' 的客户已从公海被认领。')],
            [...ref.en, t(': its customer was claimed from the pool.')],
          ),
        ],
      };
  }
}

/**
 * T−30 / T−20 / T−7 / T−1 (R25) and where today stands against the extension deadline (R28), or
 * that the extension asked for awaits review.
 */
function protectionEnding(d: Details, record: RecordFacts, ref: Sentence): Draft {
  const s = (zh: Segment[], en: Segment[]): Sentence => ({ zh, en });
  const until = str(d, 'protectedUntil') ?? record.protectedUntil;
  const daysLeft = num(d, 'daysLeft');
  const lastDay = str(d, 'extensionLastDay');
  const paragraphs: Sentence[] = [
    s(
      [
        ...ref.zh,
        t(' 的保护期至 '),
        day(until),
        ...(daysLeft !== undefined ? [t(`（还剩 ${daysLeft} 天）`)] : []),
        t('。'),
      ],
      [
        ...ref.en,
        t(' is protected until '),
        day(until),
        ...(daysLeft !== undefined ? [t(` (${daysLeft} ${daysLeft === 1 ? 'day' : 'days'} left)`)] : []),
        t('.'),
      ],
    ),
  ];
  // Asked already (R28): "ask by" or "the deadline has passed" would be wrong; the end of
  // protection above still holds until a reviewer decides.
  if (record.status === 'extension-requested')
    paragraphs.push(
      s([t('延期申请已提交，等待审核。')], [t('An extension was requested and awaits review.')]),
    );
  else if (until !== undefined && daysLeft !== undefined && lastDay !== undefined) {
    const today = addDays(until, -daysLeft);
    if (today === lastDay)
      paragraphs.push(
        s(
          [t('今天是申请延期的最后一天。', true)],
          [t('Today is the last day to ask for an extension.', true)],
        ),
      );
    else if (today < lastDay)
      paragraphs.push(
        s(
          [t('如需延期，请于 '), day(lastDay), t(' 前（含当日）申请。')],
          [t('To extend it, ask by '), day(lastDay), t(' (inclusive).')],
        ),
      );
    else
      paragraphs.push(
        s(
          [t('延期申请期限（'), day(lastDay), t('）已过。')],
          [t('The last day to ask for an extension ('), day(lastDay), t(') has passed.')],
        ),
      );
  }
  return {
    title:
      daysLeft !== undefined
        ? {
            zh: `保护期还剩 ${daysLeft} 天`,
            en: `Protection ends in ${daysLeft} ${daysLeft === 1 ? 'day' : 'days'}`,
          }
        : { zh: '保护期即将到期', en: 'Protection ending' },
    paragraphs,
  };
}

/** Record numbers listed per event type in a summary; the count is always complete. */
export const SUMMARY_NUMBERS_PER_TYPE = 10;

/**
 * One message for several: a burst the rate limiter merged, or a daily digest (the recipient chose
 * one message a day). Counts by event type, with the record numbers this recipient may see
 * (`disclosureFor`), the rest counted only. The opening line says which it is: a digest is not
 * the robots' limit at work, and an email must not blame group robots for it.
 */
export function composeSummary(
  items: readonly { event: NotifyEvent; record: RecordFacts }[],
  recipient: Recipient,
  ctx: ComposeContext,
  why: 'burst' | 'digest' = 'burst',
): MessageDocument {
  const zh = ctx.language === 'zh-CN';
  const byType = new Map<NotifyEventType, { count: number; nos: string[] }>();
  for (const { event, record } of items) {
    const entry = byType.get(event.type) ?? { count: 0, nos: [] };
    entry.count += 1;
    if (disclosureFor(recipient, record).recordNo && !entry.nos.includes(record.no))
      entry.nos.push(record.no);
    byType.set(event.type, entry);
  }
  const opening =
    why === 'digest'
      ? zh
        ? '每日汇总：以下通知已按类型合并为一条。'
        : 'Daily summary: these notifications, merged into one by type.'
      : zh
        ? '短时间内通知较多，已合并为一条（群机器人每分钟最多发送 20 条）。'
        : 'Many notifications at once, merged into one (group robots may send 20 a minute).';
  const paragraphs: Segment[][] = [[t(opening)]];
  for (const type of NOTIFY_EVENT_TYPES) {
    const entry = byType.get(type);
    if (!entry) continue;
    const label = zh ? EVENT_LABELS[type].zh : EVENT_LABELS[type].en;
    const shown = entry.nos.slice(0, SUMMARY_NUMBERS_PER_TYPE);
    const more = entry.nos.length > shown.length;
    const list =
      shown.length === 0
        ? ''
        : zh
          ? `（${shown.join('、')}${more ? ' 等' : ''}）`
          : ` (${shown.join(', ')}${more ? ', …' : ''})`;
    paragraphs.push([
      t(zh ? `${label}：` : `${label}: `),
      t(zh ? `${entry.count} 条` : String(entry.count), true),
      t(list),
    ]);
  }
  return {
    language: ctx.language,
    title:
      why === 'digest'
        ? zh
          ? `报备每日汇总（${items.length} 条）`
          : `Baobei daily summary (${items.length})`
        : zh
          ? `报备通知汇总（${items.length} 条）`
          : `${items.length} Baobei notifications`,
    paragraphs,
    link: { text: zh ? '在报备任务窗格中查看' : 'Open in the Baobei task pane', url: ctx.taskPaneUrl },
  };
}
