/**
 * Who is calling the fake: `Authorization: Bearer <token>` mapped to an identity (a service-account
 * email and its Cloud project). Two kinds of token, as Google accepts them:
 *  - opaque access tokens the test issued (what an OAuth2 client with a fixed token sends);
 *  - self-signed JWTs (RS256) signed with a service account's private key, carrying `iss` = `sub` =
 *    the account's email and a `scope` claim — what google-auth-library sends with
 *    `useJWTAccessWithScope`, no token endpoint involved. The fake verifies the signature against
 *    the public key the test registered for that account, the expiry, and the scopes.
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';

export interface Identity {
  email: string;
  /** The Cloud project the calls are billed to: quotas per project, PROJECT metadata visibility. */
  project: string;
  scopes: readonly string[];
}

export const SCOPES = {
  spreadsheets: 'https://www.googleapis.com/auth/spreadsheets',
  spreadsheetsReadonly: 'https://www.googleapis.com/auth/spreadsheets.readonly',
  drive: 'https://www.googleapis.com/auth/drive',
  driveReadonly: 'https://www.googleapis.com/auth/drive.readonly',
  driveFile: 'https://www.googleapis.com/auth/drive.file',
  driveMetadataReadonly: 'https://www.googleapis.com/auth/drive.metadata.readonly',
  driveMetadata: 'https://www.googleapis.com/auth/drive.metadata',
} as const;

export const ALL_SCOPES: readonly string[] = Object.values(SCOPES);

/** Scopes any one of which allows a kind of call (from each method's "Authorization scopes"). */
export const SCOPES_FOR = {
  sheetsRead: [
    SCOPES.spreadsheets,
    SCOPES.spreadsheetsReadonly,
    SCOPES.drive,
    SCOPES.driveReadonly,
    SCOPES.driveFile,
  ],
  sheetsWrite: [SCOPES.spreadsheets, SCOPES.drive, SCOPES.driveFile],
  driveGet: [
    SCOPES.drive,
    SCOPES.driveReadonly,
    SCOPES.driveFile,
    SCOPES.driveMetadataReadonly,
    SCOPES.driveMetadata,
  ],
} as const;

/** Google lets a self-signed JWT live at most an hour; allow a little clock skew. */
const MAX_JWT_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 300;

interface Account {
  email: string;
  project: string;
  publicKey?: KeyObject;
  keyId?: string;
}

export type AuthResult = { identity: Identity } | { error: 'missing' | 'invalid'; reason: string };

export function projectOf(email: string): string {
  const m = /@([a-z][a-z0-9-]*)\.iam\.gserviceaccount\.com$/i.exec(email);
  return m?.[1] ?? 'default-project';
}

export class FakeGoogleAuth {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, Identity>();

  constructor(private readonly nowSeconds: () => number) {}

  /** Registers an account; with a public key (PEM) it may call with self-signed JWTs. */
  addAccount(email: string, opts: { project?: string; publicKeyPem?: string; keyId?: string } = {}): void {
    const account: Account = { email, project: opts.project ?? projectOf(email) };
    if (opts.publicKeyPem !== undefined) account.publicKey = createPublicKey(opts.publicKeyPem);
    if (opts.keyId !== undefined) account.keyId = opts.keyId;
    this.accounts.set(email, account);
  }

  /** An opaque access token for an identity (registering it if new). */
  issueToken(email: string, opts: { scopes?: readonly string[]; project?: string } = {}): string {
    if (!this.accounts.has(email))
      this.addAccount(email, opts.project === undefined ? {} : { project: opts.project });
    const account = this.accounts.get(email) as Account;
    const token = `ya29.fake-${randomBytes(18).toString('base64url')}`;
    this.tokens.set(token, { email, project: account.project, scopes: opts.scopes ?? ALL_SCOPES });
    return token;
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  authenticate(authorization: string | undefined): AuthResult {
    if (authorization === undefined || authorization.trim() === '')
      return { error: 'missing', reason: 'no Authorization header' };
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (m === null) return { error: 'invalid', reason: 'not a Bearer token' };
    const token = m[1] as string;
    const known = this.tokens.get(token);
    if (known !== undefined) return { identity: known };
    if (token.split('.').length === 3) return this.verifyJwt(token);
    return { error: 'invalid', reason: 'unknown token' };
  }

  private verifyJwt(token: string): AuthResult {
    const [h, p, s] = token.split('.') as [string, string, string];
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { error: 'invalid', reason: 'JWT is not JSON' };
    }
    // Only RS256: an "alg: none" or HMAC token must never pass.
    if (header['alg'] !== 'RS256')
      return { error: 'invalid', reason: `JWT alg ${String(header['alg'])} refused` };
    const iss = claims['iss'];
    if (typeof iss !== 'string') return { error: 'invalid', reason: 'JWT without iss' };
    const account = this.accounts.get(iss);
    if (account?.publicKey === undefined)
      return { error: 'invalid', reason: 'JWT from an unknown service account' };
    if (account.keyId !== undefined && header['kid'] !== account.keyId)
      return { error: 'invalid', reason: 'JWT kid does not match the key' };
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${h}.${p}`);
    if (!verifier.verify(account.publicKey, Buffer.from(s, 'base64url')))
      return { error: 'invalid', reason: 'JWT signature invalid' };
    if (claims['sub'] !== iss) return { error: 'invalid', reason: 'JWT sub must equal iss' };
    const now = this.nowSeconds();
    const exp = claims['exp'];
    const iat = claims['iat'];
    if (typeof exp !== 'number' || typeof iat !== 'number')
      return { error: 'invalid', reason: 'JWT without exp/iat' };
    if (exp <= now - CLOCK_SKEW_S) return { error: 'invalid', reason: 'JWT expired' };
    if (iat > now + CLOCK_SKEW_S || exp - iat > MAX_JWT_LIFETIME_S)
      return { error: 'invalid', reason: 'JWT lifetime invalid' };
    const scope = claims['scope'];
    if (typeof scope !== 'string' || scope.trim() === '') {
      return {
        error: 'invalid',
        reason: 'the fake accepts scope-form self-signed JWTs (useJWTAccessWithScope) only',
      };
    }
    return { identity: { email: iss, project: account.project, scopes: scope.split(/\s+/) } };
  }
}
