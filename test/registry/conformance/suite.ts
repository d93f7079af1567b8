// What every workflow's specs share once the suite has started: the settings, the client and the test
// content. The specs are declared before any registry runs (mocha reads them first), so they reach these
// through the suite object, which the root `before` fills in.
import type { RegistryClient } from './client.ts';
import type { ConformanceConfig } from './config.ts';
import type { TestData } from './fixtures.ts';

export class ConformanceSuite {
  private state: { config: ConformanceConfig; client: RegistryClient; data: TestData } | undefined;

  start(config: ConformanceConfig, client: RegistryClient, data: TestData): void {
    this.state = { config, client, data };
  }

  get config(): ConformanceConfig {
    return this.started().config;
  }

  get client(): RegistryClient {
    return this.started().client;
  }

  get data(): TestData {
    return this.started().data;
  }

  private started(): NonNullable<ConformanceSuite['state']> {
    if (!this.state) throw new Error('the conformance suite has not started (its before hook failed?)');
    return this.state;
  }
}
