// What global-setup hands every test file (through vitest's provide/inject):
// the server, the account, an API key, and what ui/e2e/fill.py logged.
import type {} from 'vitest';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface GrpoFacts {
  id: string;
  name: string;
  config: Record<string, unknown>;
  /** mode -> metric name -> number of points logged */
  metrics: Record<string, Record<string, number>>;
  latestStep: number;
  /** mode -> step -> number of rollouts */
  rollouts: Record<string, Record<string, number>>;
  /** mode -> step -> each rollout's response length (UTF-16 units of the assistant's text) */
  lengths: Record<string, Record<string, number[]>>;
  rewardNames: string[];
  prompts: string[];
  samples: number;
  zeroVar: { step: number; mode: string; prompt: string };
  search: { word: string; step: number; mode: string; prompt: string };
}

export interface BaselineFacts {
  id: string;
  name: string;
  config: Record<string, unknown>;
  latestStep: number;
  /** dotted config keys whose values differ from e2e-grpo's */
  differ: string[];
  steps: number;
}

export interface XssFacts {
  id: string;
  name: string;
  prompt: string;
  rewardName: string;
  metric: string;
  configKeys: string[];
  steps: number[];
  samples: number;
}

export interface Facts {
  grpo: GrpoFacts;
  baseline: BaselineFacts;
  xss: XssFacts;
}

export interface E2E {
  url: string;
  email: string;
  password: string;
  apiKey: string;
  facts: Facts;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2E;
  }
}

/** ui/ */
export const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** the repository root */
export const repoDir = path.resolve(uiDir, '..');
export const python = path.join(repoDir, '.venv', 'bin', 'python');
export const outDir = path.join(uiDir, 'test-output');
