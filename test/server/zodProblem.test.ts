/**
 * A zod failure told in both languages: the zh-CN text must say what the English says. zod's
 * zh-CN locale names the type received from the input, which zod keeps only when asked
 * (`reportInput`); without it every wrong type read "实际接收 undefined".
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { protectionSettingSchema } from '../../core/policy.js';
import { DomainError } from '../../core/problem.js';
import { daySchema } from '../../core/schema.js';
import { parseOrThrow, zodProblem } from '../../server/http/errors.js';

const body = z.object({ reason: z.string(), days: z.number().int().max(30) });

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('zodProblem', () => {
  it('names the received type in both languages when parsed by parseOrThrow', () => {
    const err = thrown(() => parseOrThrow(body, { reason: 5, days: 1 }));
    expect(err.code).toBe('request.invalid');
    expect(err.field).toBe('reason');
    expect(err.messageEn).toBe('Field reason: Invalid input: expected string, received number');
    expect(err.message).toBe('字段 reason：无效输入：期望 string，实际接收 数字');
  });

  it('an issue parsed without its input states the expectation only, never a wrong "undefined"', () => {
    const parsed = body.safeParse({ reason: 5, days: 1 });
    if (parsed.success) throw new Error('parsed');
    const p = zodProblem(parsed.error);
    expect(p.message).toBe('字段 reason：无效输入：期望 string');
    expect(p.messageEn).toBe('Field reason: Invalid input: expected string, received number');
    // Other kinds need no input: the locale's text as it is.
    const tooBig = body.safeParse({ reason: 'x', days: 31 });
    if (tooBig.success) throw new Error('parsed');
    expect(zodProblem(tooBig.error).message).toBe('字段 days：数值过大：期望 number <=30');
  });

  it('our own messages, written "中文 / English", go one language to each side', () => {
    const day = thrown(() => parseOrThrow(z.object({ until: daySchema }), { until: '2026/12/31' }));
    expect(day.message).toBe('字段 until：须为 YYYY-MM-DD');
    expect(day.messageEn).toBe('Field until: expected YYYY-MM-DD');
    // A refinement: zod's zh-CN locale knows nothing of it and said only "无效输入".
    const none = thrown(() =>
      parseOrThrow(protectionSettingSchema, { months: 0, days: 0, from: 'approval' }),
    );
    expect(none.message).toBe('请求格式不正确：保护期至少一天');
    expect(none.messageEn).toBe('Invalid request: protection must last at least one day');
  });

  it('an unknown tag of a discriminated union lists the tags in Chinese too, not only "无效输入"', () => {
    const robot = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('dingtalk') }),
      z.object({ kind: z.literal('wecom') }),
    ]);
    const err = thrown(() => parseOrThrow(robot, { kind: 'slack' }));
    expect(err.field).toBe('kind');
    expect(err.message).toBe('字段 kind：无效选项：期望以下之一 "dingtalk"|"wecom"');
    expect(err.messageEn).toBe(`Field kind: Invalid discriminator value. Expected 'dingtalk' | 'wecom'`);
  });
});
