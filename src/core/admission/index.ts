export * from './profiles.js';
export * from './quota.js';
export * from './admit.js';
