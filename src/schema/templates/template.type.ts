import { z } from 'zod';
import { tenantModel } from '../../tenancy/tenant-model';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const description = z.string().max(5000, 'must be at most 5,000 characters');

/**
 * A reusable template: the demo dataset's shareable model beside Project
 * (migration 20261204150200_sharing). `templates(scope: ALL)` lists yours, those
 * shared with you and the public ones; a WRITE grant changes name and description.
 */
export const Template = tenantModel('Template', {
  expose: ['name', 'description', 'createdAt', 'updatedAt'],
  create: { name, description },
  update: { name, description },
  delete: true,
  shareable: true,
});
