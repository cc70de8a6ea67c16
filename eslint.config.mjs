// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The import rules of ARCHITECTURE.md, per folder: the folders of ours (under src/ or at the top) a file there may
 * not import, as ESLint's no-restricted-imports patterns over the relative path (`../store/x`, `../../workflows/x`,
 * `../src/http/x`). typescript-eslint's version of the rule lets a pattern allow type-only imports.
 */
const away = (folders) => `^(\\.\\./)+(src/)?(${folders.join('|')})(/|$)`;
const SRC = [
  'domain',
  'bookings',
  'calls',
  'numbers',
  'store',
  'eightbyeight',
  'http',
  'server',
  'worker',
  'cli',
  'temporal',
  'logging',
  'events',
  'operations',
  'config',
];
const OUTSIDE_SRC = ['workflows', 'activities', 'harness', 'test', 'bench', 'scripts'];
const FRAMEWORKS = ['@temporalio/*', 'mongodb', 'koa', '@koa/*', 'pino', 'zod', 'commander'];
const except = (all, allowed) => all.filter((folder) => !allowed.includes(folder));

/** `folder` may import the folders in `allowed` (and `typesOnly` as types); none of the others, nor `packages`. */
function layer(files, { allowed = [], typesOnly = [], packages = [], patterns: extra = [] }) {
  const forbidden = except([...SRC, ...OUTSIDE_SRC], [...allowed, ...typesOnly]);
  const patterns = [
    { regex: away(forbidden), message: 'not allowed by ARCHITECTURE.md: see what this folder may import' },
    ...(typesOnly.length > 0
      ? [{ regex: away(typesOnly), allowTypeImports: true, message: 'types only (ARCHITECTURE.md)' }]
      : []),
    ...extra,
    ...(packages.length > 0
      ? [{ group: packages, message: 'a framework this folder stays free of (ARCHITECTURE.md)' }]
      : []),
  ];
  return { files, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } };
}

const importRules = [
  layer(['src/domain/**/*.ts'], { allowed: ['domain'], packages: FRAMEWORKS }),
  layer(['workflows/**/*.ts'], {
    allowed: ['workflows', 'domain', 'bookings', 'events'],
    typesOnly: ['activities'],
    // Of src/bookings, only what the sandbox may bundle: the contract and its catalogue of errors.
    patterns: [{ regex: '^\\.\\./src/bookings/(?!contract$|errors$)', message: 'workflows/ reads the contract only' }],
    packages: [
      '@temporalio/activity',
      '@temporalio/client',
      '@temporalio/worker',
      ...except(FRAMEWORKS, ['@temporalio/*']),
    ],
  }),
  layer(['activities/**/*.ts'], {
    allowed: ['activities', 'domain', 'bookings', 'numbers', 'store', 'eightbyeight', 'logging', 'events'],
  }),
  layer(['src/events/**/*.ts'], {
    allowed: ['events', 'domain', 'bookings', 'temporal', 'logging', 'workflows'],
  }),
  // What the workflow sandbox bundles of events: their types and messages.
  layer(['src/events/bookingEvents.ts', 'src/events/messages.ts'], {
    allowed: ['events'],
    packages: except(FRAMEWORKS, ['@temporalio/*']),
  }),
  layer(['src/logging/**/*.ts'], { allowed: ['logging'] }),
  layer(['src/eightbyeight/**/*.ts'], { allowed: ['eightbyeight', 'domain'] }),
  layer(['src/store/**/*.ts'], { allowed: ['store', 'domain', 'logging'] }),
  layer(['src/temporal/**/*.ts'], { allowed: ['temporal', 'logging', 'workflows'] }),
  layer(['src/numbers/**/*.ts'], { allowed: ['numbers', 'domain', 'eightbyeight', 'store', 'logging'] }),
  layer(['src/bookings/**/*.ts'], {
    allowed: ['bookings', 'domain', 'store', 'temporal', 'logging', 'workflows'],
  }),
  // The contract and its catalogue are bundled into the workflow sandbox.
  layer(['src/bookings/contract.ts', 'src/bookings/errors.ts'], {
    allowed: ['bookings'],
    typesOnly: ['domain'],
    packages: except(FRAMEWORKS, ['@temporalio/*']),
  }),
  layer(['src/calls/**/*.ts'], { allowed: ['calls', 'domain', 'bookings', 'store', 'eightbyeight', 'logging'] }),
  layer(['src/http/**/*.ts'], {
    allowed: [
      'http',
      'domain',
      'bookings',
      'calls',
      'numbers',
      'store',
      'eightbyeight',
      'logging',
      'events',
      'operations',
    ],
  }),
  // Leaves every other folder may use (so they are not in SRC above): they import none of ours.
  layer(['src/metrics/**/*.ts'], { allowed: ['metrics'] }),
  layer(['src/tracing/**/*.ts'], { allowed: ['tracing'] }),
  layer(['src/operations/**/*.ts'], { allowed: ['operations', 'domain', 'bookings', 'store', 'logging'] }),
  layer(['src/config.ts'], { allowed: ['eightbyeight', 'temporal', 'events'] }),
  layer(['src/server/**/*.ts'], { allowed: except(SRC, ['worker', 'cli']) }),
  layer(['src/worker/**/*.ts'], { allowed: [...except(SRC, ['http', 'server', 'cli']), 'activities'] }),
  layer(['src/cli/**/*.ts'], { allowed: except(SRC, ['http', 'server', 'worker', 'temporal']) }),
  layer(['scripts/local/**/*.ts'], { allowed: ['scripts'] }),
  // Shared test tooling: our code and the local servers, never the tests that use it.
  layer(['harness/**/*.ts'], { allowed: [...SRC, 'workflows', 'activities', 'scripts', 'harness'] }),
  layer(['scripts/*.ts', 'bench/**/*.ts'], { allowed: except([...SRC, ...OUTSIDE_SRC], ['test']) }),
];

// typescript-eslint's `recommended`, plus the few type-aware rules that catch real bugs in code that is mostly
// async (a forgotten await in a handler, workflow or activity). eslint-config-prettier comes last so that no rule
// ever argues with Prettier about layout; `npm run lint` runs `prettier --check` for that.
export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'dist/', 'bench/results*'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/test return promises that the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after'] },
          ],
        },
      ],
    },
  },
  ...importRules,
  prettier,
);
