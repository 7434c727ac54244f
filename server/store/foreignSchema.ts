/**
 * `store.foreign_schema`: a PostgreSQL schema holding another application's tables and no Baobei
 * `meta` table, where no Baobei tables may go. Raised by the commands' look before anything is made
 * (storeTransfer.storeAt's `foreign`) and by PostgresStore's check under its lock on first open;
 * one message for both. A module of its own because storeTransfer imports postgresStore: the store
 * importing it back from there would make a cycle.
 */
import { DomainError, problem } from '../../core/problem.js';
import { postgresAddress } from './postgresReach.js';

/** Where the schema was named: the configuration, or a command's --pg-schema. */
export type ForeignSchemaField = 'BAOBEI_PG_SCHEMA' | 'pg-schema';

/** A schema as messages name it: host:port/database and schema (never credentials). */
export function schemaText(location: { connectionString: string; schema: string }): string {
  return `${postgresAddress(location.connectionString)} schema ${location.schema}`;
}

export function foreignSchemaProblem(
  location: { connectionString: string; schema: string },
  field: ForeignSchemaField = 'BAOBEI_PG_SCHEMA',
): DomainError {
  const where = schemaText(location);
  const check = field === 'pg-schema' ? '--pg-schema / --to-pg-schema / BAOBEI_PG_SCHEMA' : field;
  return new DomainError(
    problem(
      'store.foreign_schema',
      `${where} 不是 Baobei 的存储（有别的表，没有 meta 表）；未创建或改动任何数据（检查 ${check}）`,
      `${where} is not a Baobei store (it holds other tables and no meta table); nothing was created or changed (check ${check})`,
      field,
    ),
    { schema: location.schema },
  );
}
