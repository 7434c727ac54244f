import { describe, expect, it } from 'vitest';
import { ROLES } from '../../core/schema.js';
import { canRead, type Actor } from '../../server/services/actor.js';
import {
  disclosureFor,
  isOwnAction,
  mayRead,
  mentionsFor,
  shouldNotify,
  type Recipient,
} from '../../server/notify/messagePolicy.js';
import { recordFactsOf } from '../../server/notify/notifyEvent.js';
import { storedRecord } from './notifyFixtures.js';

const record = storedRecord({
  share: { withNo: 'BB-2026-000124', withRegistrant: '孙丽', percent: 50 },
});
const facts = recordFactsOf(record);
const event = { actor: '李审核' };

const registrant: Recipient = { kind: 'person', name: '王磊', role: 'sales', team: '华东一部' };
const partner: Recipient = { kind: 'person', name: '孙丽', role: 'sales', team: '华南二部' };
const colleague: Recipient = { kind: 'person', name: '周杰', role: 'sales', team: '华东一部' };
const teamReviewer: Recipient = { kind: 'person', name: '钱审核', role: 'reviewer', team: '华东一部' };
const otherReviewer: Recipient = { kind: 'person', name: '吴审核', role: 'reviewer', team: '华北三部' };
const allTeamsReviewer: Recipient = { kind: 'person', name: '郑审核', role: 'reviewer' };
const admin: Recipient = { kind: 'person', name: '管理员', role: 'admin' };
const teamRobot: Recipient = { kind: 'robot', team: '华东一部' };
const otherTeamRobot: Recipient = { kind: 'robot', team: '华北三部' };
const companyRobot: Recipient = { kind: 'robot', team: null };

describe('who is told at all', () => {
  it('[own action] nobody is notified of their own action', () => {
    const actor: Recipient = { kind: 'person', name: '李审核', role: 'reviewer', team: '华东一部' };
    expect(isOwnAction(event, actor)).toBe(true);
    expect(shouldNotify(event, actor, facts)).toBe(false);
    // The same reviewer is told when someone else acts, and scheduled reminders have no actor.
    expect(shouldNotify({ actor: '王磊' }, actor, facts)).toBe(true);
    expect(shouldNotify({}, actor, facts)).toBe(true);
  });

  it('[own action] a group is still told, but the actor is never @mentioned', () => {
    expect(isOwnAction(event, teamRobot)).toBe(false);
    expect(shouldNotify(event, teamRobot, facts)).toBe(true);
    const mentions = mentionsFor(event, [
      { name: '王磊', mobile: '13800000001' },
      { name: '李审核', mobile: '13800000002' },
      { name: '王磊', mobile: '13800000001' },
    ]);
    expect(mentions).toEqual([{ name: '王磊', mobile: '13800000001' }]);
  });

  it('[R34] a person is told only about records they may read', () => {
    expect(shouldNotify(event, registrant, facts)).toBe(true);
    expect(shouldNotify(event, partner, facts)).toBe(true);
    expect(shouldNotify(event, teamReviewer, facts)).toBe(true);
    expect(shouldNotify(event, allTeamsReviewer, facts)).toBe(true);
    expect(shouldNotify(event, admin, facts)).toBe(true);
    expect(shouldNotify(event, colleague, facts)).toBe(false);
    expect(shouldNotify(event, otherReviewer, facts)).toBe(false);
  });

  it('[R34] a team robot is told only about its own team’s records', () => {
    expect(shouldNotify(event, teamRobot, facts)).toBe(true);
    expect(shouldNotify(event, otherTeamRobot, facts)).toBe(false);
    expect(shouldNotify(event, teamRobot, { ...facts, team: undefined })).toBe(false);
  });

  it('[R16][R34] a former share partner holds and reads the record no more, as canRead says', () => {
    const actor: Actor = { id: 'x', name: '孙丽', role: 'sales' };
    const person = { name: '孙丽', role: 'sales' as const };
    const share = { withNo: 'BB-2026-000124', withRegistrant: '孙丽', percent: 50 };
    const today = '2026-10-01';
    // 孙丽's own share, the record at share.withNo.
    const partner = storedRecord({ no: 'BB-2026-000124', protectedUntil: '2026-12-29' });
    const lasting = storedRecord({ share, protectedUntil: '2026-12-29' });
    expect(mayRead(person, recordFactsOf(lasting, { today, partner }))).toBe(true);
    expect(canRead(actor, lasting, { today, partner })).toBe(true);
    for (const [why, ended, itsPartner] of [
      [
        'partner left',
        storedRecord({ share: { ...share, percent: 100 }, protectedUntil: '2026-12-29' }),
        partner,
      ],
      ['closed, or ended by an upheld objection', storedRecord({ share, status: 'terminated' }), partner],
      ['ran out, not yet swept', storedRecord({ share, protectedUntil: '2026-09-30' }), partner],
      // The partner's own protection ran out (the survivor was extended); nothing swept yet.
      [
        'partner ran out, not yet swept',
        storedRecord({ share, protectedUntil: '2027-01-29' }),
        { ...partner, protectedUntil: '2026-09-30' },
      ],
    ] as const) {
      const on = { today, partner: itsPartner };
      expect(mayRead(person, recordFactsOf(ended, on)), why).toBe(false);
      expect(canRead(actor, ended, on), why).toBe(false);
    }
  });

  it('[R34] mayRead is the rule of server/services/actor.ts canRead, for every role, team and holder', () => {
    const teams = [undefined, '华东一部', '华北三部'];
    const names = ['王磊', '孙丽', '周杰'];
    for (const role of ROLES)
      for (const team of teams)
        for (const name of names)
          for (const recordTeam of [undefined, '华东一部']) {
            const r = storedRecord({
              team: recordTeam,
              share: { withNo: 'BB-2026-000124', withRegistrant: '孙丽', percent: 50 },
            });
            const actor: Actor = { id: 'x', name, role, team };
            const person = { name, role, ...(team !== undefined ? { team } : {}) };
            const today = '2026-05-01'; // before the fixture's protection ends (2026-06-02)
            const on = { today, partner: storedRecord({ no: 'BB-2026-000124' }) };
            expect(mayRead(person, recordFactsOf(r, on)), `${role} ${team} ${name} ${recordTeam}`).toBe(
              canRead(actor, r, on),
            );
          }
  });
});

describe('what a message may name', () => {
  it('[R34] the holders (registrant, shared partner R16) get the number and the customer name', () => {
    expect(disclosureFor(registrant, facts)).toEqual({
      recordNo: true,
      customerName: true,
      otherRecordNos: true,
    });
    expect(disclosureFor(partner, facts)).toEqual({
      recordNo: true,
      customerName: true,
      otherRecordNos: true,
    });
  });

  it('[R34] reviewers and admins who may read the record get its number, never the customer name', () => {
    for (const r of [teamReviewer, allTeamsReviewer, admin]) {
      expect(disclosureFor(r, facts)).toEqual({ recordNo: true, customerName: false, otherRecordNos: true });
    }
  });

  it('[R34] people who may not read the record get nothing', () => {
    expect(disclosureFor(colleague, facts)).toEqual({
      recordNo: false,
      customerName: false,
      otherRecordNos: false,
    });
    expect(disclosureFor(otherReviewer, facts)).toEqual({
      recordNo: false,
      customerName: false,
      otherRecordNos: false,
    });
  });

  it('[R34] the robot of the record’s team gets the number and an enterprise customer’s name, never other records', () => {
    expect(disclosureFor(teamRobot, facts)).toEqual({
      recordNo: true,
      customerName: true,
      otherRecordNos: false,
    });
  });

  it('[personal data] a group never gets an individual customer’s name (a person’s name is personal data)', () => {
    const individual = recordFactsOf(storedRecord({}, { customerType: 'individual', customerName: '赵敏' }));
    expect(disclosureFor(teamRobot, individual).customerName).toBe(false);
    // Their own registrant still sees it by email.
    expect(disclosureFor(registrant, individual).customerName).toBe(true);
  });

  it('[R34] other teams’ robots and company-wide groups get neither number nor name', () => {
    for (const r of [otherTeamRobot, companyRobot]) {
      expect(disclosureFor(r, facts)).toEqual({
        recordNo: false,
        customerName: false,
        otherRecordNos: false,
      });
    }
  });

  it('[personal data] RecordFacts carries no contact, phone, email, credit code, address or amount', () => {
    const text = JSON.stringify(facts);
    for (const value of [
      '赵敏',
      '13912345678',
      'zhao.min',
      '91310115MA1K4LXX4Q',
      '张江路',
      '1234567',
      '98765',
      '赵大海',
    ]) {
      expect(text).not.toContain(value);
    }
    expect(Object.keys(facts).sort()).toEqual(
      [
        'customerName',
        'customerType',
        'no',
        'protectedUntil',
        'registrant',
        'sharedWith',
        'status',
        'team',
      ].sort(),
    );
  });
});
