import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { SPEC_DIR, SPEC_FILES } from '../harness/eightbyeightSchemas';

// The tests check what Maskline sends against a copy of 8x8's OpenAPI files kept in the repository, so that a
// clone alone runs them. Where the developers' shared/8x8/ sits beside the repository, the copy must be the same.

const SHARED_DIR = path.resolve(__dirname, '../../shared/8x8');

describe("the repository's copy of 8x8's OpenAPI files", () => {
  for (const file of Object.values(SPEC_FILES)) {
    it(
      `${file} is byte for byte the one in shared/8x8/`,
      { skip: !existsSync(SHARED_DIR) && 'no shared/8x8/ here' },
      () => {
        assert.ok(
          readFileSync(path.join(SPEC_DIR, file)).equals(readFileSync(path.join(SHARED_DIR, file))),
          `harness/8x8/${file} differs from shared/8x8/${file}: copy it again`,
        );
      },
    );
  }
});
