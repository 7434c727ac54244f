#!/usr/bin/env node
// The `baobei` command. Runs the TypeScript sources through tsx so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli.ts');
