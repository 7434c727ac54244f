/**
 * The service account's JSON key: found through `BAOBEI_GOOGLE_CREDENTIALS` (a Baobei setting) or
 * else Google's own `GOOGLE_APPLICATION_CREDENTIALS`, checked with zod at start-up. A bad file stops
 * the start with a message naming the variable, the file and the field — and never any of the key's
 * contents: the private key is a secret and must not reach a log, an error or a response.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../config.js';

export type CredentialsVariable = 'BAOBEI_GOOGLE_CREDENTIALS' | 'GOOGLE_APPLICATION_CREDENTIALS';

export interface CredentialsSource {
  file: string;
  variable: CredentialsVariable;
}

/** The fields of a Google service-account key file that the sync uses. */
export const serviceAccountKeySchema = z.looseObject({
  type: z.literal('service_account', {
    error:
      '须为 "service_account"（服务账号密钥，而不是 OAuth 客户端） / must be "service_account" (a service-account key, not an OAuth client)',
  }),
  project_id: z
    .string({ error: '须为 Cloud 项目 ID / must be the Cloud project id' })
    .min(1, '不能为空 / must not be empty'),
  private_key_id: z
    .string({ error: '须为密钥 ID / must be the key id' })
    .min(1, '不能为空 / must not be empty'),
  private_key: z
    .string({ error: '须为 PEM 私钥 / must be the PEM private key' })
    .refine((s) => /-----BEGIN (RSA )?PRIVATE KEY-----/.test(s), '须为 PEM 私钥 / must be a PEM private key'),
  client_email: z.email({ error: '须为服务账号的邮箱 / must be the service account’s email' }),
});

export interface ServiceAccountKey {
  projectId: string;
  privateKeyId: string;
  privateKey: string;
  clientEmail: string;
}

export class GoogleCredentialsError extends ConfigError {}

function fail(source: CredentialsSource, field: string | undefined, why: string): GoogleCredentialsError {
  const where = field === undefined ? source.file : `${source.file} → ${field}`;
  return new GoogleCredentialsError(
    `配置错误 / invalid configuration:\n  ${source.variable} (${where}): ${why}`,
  );
}

/** Which key file the environment names, if any; the Baobei setting wins over Google's variable. */
export function credentialsSource(env: {
  BAOBEI_GOOGLE_CREDENTIALS?: string | undefined;
  GOOGLE_APPLICATION_CREDENTIALS?: string | undefined;
}): CredentialsSource | undefined {
  if (env.BAOBEI_GOOGLE_CREDENTIALS !== undefined && env.BAOBEI_GOOGLE_CREDENTIALS !== '') {
    return { file: env.BAOBEI_GOOGLE_CREDENTIALS, variable: 'BAOBEI_GOOGLE_CREDENTIALS' };
  }
  if (env.GOOGLE_APPLICATION_CREDENTIALS !== undefined && env.GOOGLE_APPLICATION_CREDENTIALS !== '') {
    return { file: env.GOOGLE_APPLICATION_CREDENTIALS, variable: 'GOOGLE_APPLICATION_CREDENTIALS' };
  }
  return undefined;
}

/** Parses a key file's text; errors (in Chinese and English, as the configuration's) name the field, never its value. */
export function parseServiceAccountKey(text: string, source: CredentialsSource): ServiceAccountKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail(
      source,
      undefined,
      '不是 JSON 文件（请在 Cloud 控制台以 JSON 格式下载密钥） / not a JSON file (download the key as JSON from the Cloud console)',
    );
  }
  const parsed = serviceAccountKeySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || undefined;
    // zod's own text for a missing field says "received undefined"; say it plainly instead.
    const missing =
      issue?.code === 'invalid_type' &&
      field !== undefined &&
      (json as Record<string, unknown>)[field] === undefined;
    throw fail(source, field, missing ? '缺失 / missing' : (issue?.message ?? '无效 / invalid'));
  }
  const key = parsed.data;
  try {
    createPrivateKey(key.private_key);
  } catch {
    throw fail(source, 'private_key', '不是可读的 PEM 私钥 / is not a readable PEM private key');
  }
  return {
    projectId: key.project_id,
    privateKeyId: key.private_key_id,
    privateKey: key.private_key,
    clientEmail: key.client_email,
  };
}

export async function loadServiceAccountKey(source: CredentialsSource): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw fail(source, undefined, `无法读取密钥文件（${code}） / cannot read the key file (${code})`);
  }
  return parseServiceAccountKey(text, source);
}
