export { default } from './shared/eslint.config.js';
