import { describe, expect, it } from 'vitest';
import type { Language, MessageDocument } from '../../server/notify/channel.js';
import { dingtalkPayload } from '../../server/notify/dingtalkRobot.js';
import { renderEmail } from '../../server/notify/emailChannel.js';
import { feishuPost } from '../../server/notify/feishuRobot.js';
import {
  composeMessage,
  composeSummary,
  EVENT_LABELS,
  SUMMARY_NUMBERS_PER_TYPE,
  taskPaneUrl,
} from '../../server/notify/messageComposer.js';
import { disclosureFor, type Recipient } from '../../server/notify/messagePolicy.js';
import { NOTIFY_EVENT_TYPES, recordFactsOf, type NotifyEvent } from '../../server/notify/notifyEvent.js';
import { wecomPayload } from '../../server/notify/wecomRobot.js';
import { AMOUNT_FORMS, EVENTS, OTHER_NOS, PERSONAL, storedRecord } from './notifyFixtures.js';

const facts = recordFactsOf(storedRecord());
const ctx = (language: Language) => ({ language, taskPaneUrl: taskPaneUrl('https://baobei.example.com/') });
const CUSTOMER = '上海华信科技有限公司';

/** What each recipient may read (docs/notifications.md), written out rather than derived from the policy. */
const MAY_SEE: Record<string, { recordNo: boolean; customerName: boolean; otherRecordNos: boolean }> = {
  registrant: { recordNo: true, customerName: true, otherRecordNos: true },
  reviewer: { recordNo: true, customerName: false, otherRecordNos: true },
  teamRobot: { recordNo: true, customerName: true, otherRecordNos: false },
  companyRobot: { recordNo: false, customerName: false, otherRecordNos: false },
};

const RECIPIENTS: Record<string, Recipient> = {
  registrant: { kind: 'person', name: '王磊', role: 'sales', team: '华东一部' },
  reviewer: { kind: 'person', name: '钱审核', role: 'reviewer', team: '华东一部' },
  teamRobot: { kind: 'robot', team: '华东一部' },
  companyRobot: { kind: 'robot', team: null },
};

function allText(doc: MessageDocument): string {
  return [
    doc.title,
    ...doc.paragraphs.map((p) => p.map((s) => s.text).join('')),
    doc.link?.text ?? '',
    doc.link?.url ?? '',
  ].join('\n');
}

/** Every way the message leaves: the document, the email, and each robot's payload. */
function everyRendering(doc: MessageDocument): string {
  const email = renderEmail(doc);
  const robot = { document: doc, mentions: [] };
  return [
    allText(doc),
    email.subject,
    email.text,
    email.html,
    JSON.stringify(dingtalkPayload(robot)),
    JSON.stringify(wecomPayload(robot)),
    JSON.stringify(feishuPost(robot)),
  ].join('\n');
}

describe('every event, every recipient, both languages', () => {
  it('covers every event type', () => {
    expect(new Set(EVENTS.map((e) => e.type))).toEqual(new Set(NOTIFY_EVENT_TYPES));
  });

  for (const [who, recipient] of Object.entries(RECIPIENTS)) {
    for (const language of ['zh-CN', 'en'] as const) {
      it(`[personal data] to ${who} (${language}): never a contact name, phone, email, credit code, address, note or amount`, () => {
        for (const event of EVENTS) {
          const text = everyRendering(composeMessage(event, facts, recipient, ctx(language)));
          for (const value of [
            PERSONAL.contactName,
            PERSONAL.contactPhone,
            PERSONAL.email,
            PERSONAL.creditCode,
            PERSONAL.address,
            PERSONAL.householdOf,
            PERSONAL.notes,
            PERSONAL.need,
            '1395678',
            ...AMOUNT_FORMS,
          ]) {
            expect(text, `${event.type} ${JSON.stringify(event.details)}`).not.toContain(value);
          }
        }
      });

      it(`[R34] to ${who} (${language}): the number, the customer name and other records only as disclosed`, () => {
        const disclosure = MAY_SEE[who]!;
        expect(disclosureFor(recipient, facts)).toEqual(disclosure);
        for (const event of EVENTS) {
          const text = everyRendering(composeMessage(event, facts, recipient, ctx(language)));
          const where = `${event.type} ${JSON.stringify(event.details)}`;
          if (disclosure.recordNo) expect(text, where).toContain(facts.no);
          else expect(text, where).not.toContain(facts.no);
          if (disclosure.customerName) expect(text, where).toContain(CUSTOMER);
          else expect(text, where).not.toContain(CUSTOMER);
          if (!disclosure.otherRecordNos) for (const no of OTHER_NOS) expect(text, where).not.toContain(no);
        }
      });
    }
  }

  it('[personal data] a group never reads an individual customer’s name; the registrant does', () => {
    const individual = recordFactsOf(
      storedRecord({}, { customerType: 'individual', customerName: '赵一鸣' }),
    );
    for (const event of EVENTS) {
      expect(
        everyRendering(composeMessage(event, individual, RECIPIENTS['teamRobot']!, ctx('zh-CN'))),
      ).not.toContain('赵一鸣');
    }
    expect(
      allText(composeMessage(EVENTS[0]!, individual, RECIPIENTS['registrant']!, ctx('zh-CN'))),
    ).toContain('赵一鸣');
  });

  it('the holder is told about other records named in the event (the winner, the signed record)', () => {
    const lost = EVENTS.find((e) => e.type === 'competitor.decided' && e.details['winner'] !== undefined)!;
    expect(allText(composeMessage(lost, facts, RECIPIENTS['registrant']!, ctx('zh-CN')))).toContain(
      'BB-2026-000077',
    );
  });

  it('[R12] the team whose grant another team reversed reads who reversed it and for which objection', () => {
    const reversed = EVENTS.find(
      (e) => e.type === 'protection.ended' && e.details['decidedBy'] !== undefined,
    )!;
    expect(allText(composeMessage(reversed, facts, RECIPIENTS['reviewer']!, ctx('zh-CN')))).toContain(
      '华东二部 的 孙丽 支持了另一报备（BB-2026-000080）的异议',
    );
    expect(allText(composeMessage(reversed, facts, RECIPIENTS['reviewer']!, ctx('en')))).toContain(
      '孙丽 (华东二部) upheld the objection of another registration (BB-2026-000080)',
    );
  });

  it('a group is told whose registration it is; the holder is told "your"', () => {
    const approve = EVENTS[0]!;
    expect(allText(composeMessage(approve, facts, RECIPIENTS['teamRobot']!, ctx('zh-CN')))).toContain(
      '报备人 王磊',
    );
    expect(allText(composeMessage(approve, facts, RECIPIENTS['registrant']!, ctx('zh-CN')))).toContain(
      '您的报备',
    );
    expect(allText(composeMessage(approve, facts, RECIPIENTS['registrant']!, ctx('en')))).toContain(
      'Your registration',
    );
  });

  it('English messages have English titles and sentences; zh-CN messages Chinese ones', () => {
    const cjk = /[\u4e00-\u9fff]/;
    for (const event of EVENTS) {
      const en = composeMessage(event, facts, RECIPIENTS['reviewer']!, ctx('en'));
      const zh = composeMessage(event, facts, RECIPIENTS['reviewer']!, ctx('zh-CN'));
      expect(en.title, event.type).not.toMatch(cjk);
      expect(zh.title, event.type).toMatch(cjk);
      expect(en.language).toBe('en');
      // Reviewers get no customer name, so what is Chinese in English text can only be staff and team names.
      const enText = allText(en).replace(/王磊|陈晨|刘洋|孙丽|华东二部/g, '');
      expect(enText, event.type).not.toMatch(cjk);
    }
  });

  it('every message links to the task pane', () => {
    for (const event of EVENTS) {
      const doc = composeMessage(event, facts, RECIPIENTS['registrant']!, ctx('zh-CN'));
      expect(doc.link?.url).toBe('https://baobei.example.com/addin/taskpane.html');
    }
  });
});

describe('reminders', () => {
  const ending = (daysLeft: number): NotifyEvent =>
    EVENTS.find((e) => e.type === 'protection.ending' && e.details['daysLeft'] === daysLeft)!;
  const say = (e: NotifyEvent, language: Language = 'zh-CN') =>
    allText(composeMessage(e, facts, RECIPIENTS['registrant']!, ctx(language)));

  it('[R28] T−30: ask for an extension by the extension deadline', () => {
    expect(say(ending(30))).toContain('如需延期，请于 2026-05-13 前（含当日）申请');
    expect(say(ending(30), 'en')).toContain('To extend it, ask by 2026-05-13');
  });

  it('[R28] T−20: today is the last day to ask for an extension', () => {
    expect(say(ending(20))).toContain('今天是申请延期的最后一天');
    expect(say(ending(20), 'en')).toContain('Today is the last day to ask for an extension');
    expect(composeMessage(ending(20), facts, RECIPIENTS['registrant']!, ctx('zh-CN')).title).toBe(
      '保护期还剩 20 天',
    );
  });

  it('[R25] T−7 and T−1: the protection ends; the extension deadline has passed', () => {
    expect(say(ending(7))).toContain('延期申请期限（2026-05-13）已过');
    expect(say(ending(1))).toContain('还剩 1 天');
    expect(composeMessage(ending(1), facts, RECIPIENTS['registrant']!, ctx('en')).title).toBe(
      'Protection ends in 1 day',
    );
  });

  it('[R12] objection window closing and review due/overdue name their days', () => {
    expect(say(EVENTS.find((e) => e.type === 'objection.closing')!)).toContain('2026-05-13');
    const reviewer = RECIPIENTS['reviewer']!;
    const due = composeMessage(
      EVENTS.find((e) => e.type === 'review.due')!,
      facts,
      reviewer,
      ctx('zh-CN'),
    );
    expect(allText(due)).toContain('审核截止 2026-05-20');
    const overdue = composeMessage(
      EVENTS.find((e) => e.type === 'review.overdue')!,
      facts,
      reviewer,
      ctx('en'),
    );
    expect(allText(overdue)).toContain('the review was due on 2026-05-08');
  });

  it('[R31] [R44] follow-up overdue says when the record lapses into the pool', () => {
    expect(say(EVENTS.find((e) => e.type === 'followUp.overdue')!)).toContain(
      '2026-05-17 失效，客户回到公海',
    );
    expect(say(EVENTS.find((e) => e.type === 'pool.lapsed')!)).toContain('2026-06-10');
  });
});

describe('the burst summary', () => {
  const items = (n: number, type: NotifyEvent['type'], team = '华东一部') =>
    Array.from({ length: n }, (_, i) => ({
      event: { ...EVENTS.find((e) => e.type === type)!, recordNo: `BB-2026-9${String(i).padStart(5, '0')}` },
      record: { ...facts, no: `BB-2026-9${String(i).padStart(5, '0')}`, team },
    }));

  it('counts by event type and lists the numbers the group may see, capped per type', () => {
    const burst = [...items(3, 'review.due'), ...items(25, 'protection.ending')];
    const doc = composeSummary(burst, RECIPIENTS['teamRobot']!, ctx('zh-CN'));
    expect(doc.title).toBe('报备通知汇总（28 条）');
    const text = allText(doc);
    expect(text).toContain(
      `${EVENT_LABELS['review.due'].zh}：3 条（BB-2026-900000、BB-2026-900001、BB-2026-900002）`,
    );
    expect(text).toContain(`${EVENT_LABELS['protection.ending'].zh}：25 条（`);
    expect(text).toContain(' 等）');
    expect(text.match(/BB-2026-9/g)).toHaveLength(3 + SUMMARY_NUMBERS_PER_TYPE);
    expect(text).not.toContain(CUSTOMER);
  });

  it('[R34] lists no numbers of records the group may not see; counts them all the same', () => {
    const burst = [...items(2, 'decision', '华北三部'), ...items(2, 'decision')];
    const text = allText(composeSummary(burst, RECIPIENTS['teamRobot']!, ctx('en')));
    expect(text).toContain(`${EVENT_LABELS.decision.en}: 4 (BB-2026-900000, BB-2026-900001)`);
    const company = allText(composeSummary(burst, RECIPIENTS['companyRobot']!, ctx('en')));
    expect(company).not.toMatch(/BB-2026/);
    expect(company).toContain(`${EVENT_LABELS.decision.en}: 4`);
  });
});

describe('robot text', () => {
  it('[personal data] user text cannot become markdown, a link or an @mention', () => {
    const tricky = recordFactsOf(
      storedRecord({}, { customerName: '[点我](http://evil.example) **@all** <font>' }),
    );
    const doc = composeMessage(EVENTS[0]!, tricky, RECIPIENTS['teamRobot']!, ctx('zh-CN'));
    const payload = JSON.stringify(dingtalkPayload({ document: doc, mentions: [] }));
    expect(payload).not.toContain('](http://evil');
    expect(payload).not.toContain('@all');
    expect(payload).not.toContain('<font>');
    expect(payload).toContain('［点我］');
  });
});
