// The apps the trusted catalogs offer, from catalog:list. The catalog changes only
// when Hearth is updated or a catalog is added, so one answer per window is enough.
import type { HearthApi } from '../../../shared/hearth-api';
import type { CatalogApp } from '../../../shared/model';
import type { NoticesState } from './notices.svelte';

export class CatalogState {
  list = $state.raw<readonly CatalogApp[]>([]);
  /** Whether catalog:list has answered (the empty state waits for it). */
  loaded = $state(false);

  readonly #api: HearthApi;
  readonly #notices: NoticesState;

  constructor(api: HearthApi, notices: NoticesState) {
    this.#api = api;
    this.#notices = notices;
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  /** Adds a catalog by address; true when it was added (errors go to the notices). */
  async add(url: string): Promise<boolean> {
    try {
      this.list = await this.#api.catalog.add({ url });
      return true;
    } catch (error) {
      this.#notices.report(error);
      return false;
    }
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.#api.catalog.list();
    } catch (error) {
      this.#notices.report(error);
    } finally {
      this.loaded = true;
    }
  }
}
