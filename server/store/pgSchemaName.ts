/**
 * Which names BAOBEI_PG_SCHEMA (and --pg-schema) may take: one rule for the config, the store and
 * the file vault, so a name the config accepts is never refused later by only one of them.
 */

/** A plain lower-case identifier, as PostgreSQL folds unquoted names (the SQL is built with it). */
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Why a schema name may not be used, or undefined when it may. PostgreSQL's own schemas pass the
 * identifier test: `information_schema` is a plain name a superuser may even create tables in (the
 * store's tables would end up among the catalog views), and `pg_*` is refused by CREATE SCHEMA only
 * with PostgreSQL's own error, which names no setting.
 */
export function pgSchemaNameProblem(schema: string): string | undefined {
  if (!PLAIN_IDENTIFIER.test(schema)) return 'use lower-case letters, digits and _';
  if (schema === 'information_schema' || schema.startsWith('pg_')) {
    return "information_schema and names starting pg_ are PostgreSQL's own schemas";
  }
  return undefined;
}
