import type { StorageBackend } from './backend';
import { organizationPrefix } from './paths';

/**
 * Removes every object of an organization from the backend: what a platform
 * delete of the organization must call, after its rows are gone (the `files`
 * rows cascade with the organization). There is no such platform delete yet
 * (docs/adr/0050-file-storage-streaming-and-reservations.md).
 */
export function removeOrganizationFiles(backend: StorageBackend, organizationId: string): Promise<void> {
  return backend.deletePrefix(organizationPrefix(organizationId));
}
