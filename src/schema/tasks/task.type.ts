import { z } from 'zod';
import { tenantModel } from '../../tenancy/tenant-model';

const title = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** A piece of work in a project, with an optional assignee: the worked example of tenantModel. */
export const Task = tenantModel('Task', {
  expose: ['title', 'status', 'dueDate', 'createdAt', 'updatedAt'],
  relations: ['project', 'assignee'],
  filter: ['status', 'projectId', 'assigneeId', 'dueDate'],
  create: { title, projectId: true, assigneeId: true, status: true, dueDate: true },
  update: { title, assigneeId: true, status: true, dueDate: true },
  delete: true,
  quota: 'TASKS',
});
