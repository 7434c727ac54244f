/**
 * Users and their bearer tokens. A token is shown once, when the user is created; only its
 * SHA-256 is stored (tokens are 256 random bits, so a slow hash would add nothing).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DomainError, problem, type Problem } from '../../core/problem.js';
import type { Role, Store, User } from '../store/store.js';

export function newToken(): string {
  return `bb_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export type UserView = Omit<User, 'tokenHash'>;

export function userView(user: User): UserView {
  const { tokenHash: _hidden, ...rest } = user;
  return rest;
}

export async function createUser(
  store: Store,
  input: { name: string; role: Role; team?: string | undefined },
  now: Date,
): Promise<{ user: UserView; token: string }> {
  const token = newToken();
  const user: User = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    ...(input.team !== undefined ? { team: input.team } : {}),
    tokenHash: hashToken(token),
    createdAt: now.toISOString(),
  };
  await store.write(async (tx) => {
    // Registrations name their registrant; two users with one name would share each other's records.
    if (await tx.getUserByName(input.name)) {
      throw new DomainError(userExists(input.name));
    }
    await tx.putUser(user);
  });
  return { user: userView(user), token };
}

/** A user of that name is there already (or, on a store not yet made, will be: its first administrator). */
export function userExists(name: string): Problem {
  return problem('user.exists', `用户“${name}”已存在`, `User "${name}" already exists`, 'name');
}

export async function userForToken(store: Store, token: string): Promise<User | undefined> {
  const user = await store.read((tx) => tx.getUserByTokenHash(hashToken(token)));
  return user && !user.disabled ? user : undefined;
}
