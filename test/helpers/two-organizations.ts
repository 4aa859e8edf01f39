import { startHarness, type Harness, type HarnessOptions, type TestOrganization } from './harness';

/**
 * The suite's shared fixture: one in-process gateway per test file (startHarness)
 * and two organizations, Acme and Globex, each with an owner, an admin and a
 * member (and their tokens), so that every test can check what one tenant sees
 * of the other.
 *
 *   let h: Harness;
 *   let acme: TestOrganization;
 *   let globex: TestOrganization;
 *   twoOrganizations({ fresh: 'per test' }, (f) => ({ h, acme, globex } = f));
 *
 * It registers its own hooks: `beforeAll` starts the harness (with `options`),
 * the organizations are made once for the file (`fresh: 'per file'`, the
 * default) or before every test (`'per test'`, so tests never share rows), and
 * `afterAll` closes the harness. `assign` is called each time they are made, so
 * a file keeps its own `h`, `acme` and `globex`. A file's own `beforeAll` /
 * `beforeEach`, registered after this call, runs after the fixture's.
 */
export interface TwoOrganizations {
  h: Harness;
  acme: TestOrganization;
  globex: TestOrganization;
}

export interface TwoOrganizationsOptions extends HarnessOptions {
  fresh?: 'per file' | 'per test';
}

export function twoOrganizations({ fresh = 'per file', ...options }: TwoOrganizationsOptions, assign: (fixture: TwoOrganizations) => void): void {
  let h: Harness | undefined;
  const make = async () => {
    const acme = await h!.createOrganization('Acme');
    const globex = await h!.createOrganization('Globex');
    assign({ h: h!, acme, globex });
  };
  beforeAll(async () => {
    h = await startHarness(options);
    if (fresh === 'per file') await make();
  });
  if (fresh === 'per test') beforeEach(make);
  afterAll(async () => {
    await h?.close();
  });
}
