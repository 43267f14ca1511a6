// Named bundles of defaults. They sit between the built-in defaults and the
// config file: flags > config file > preset > defaults.

import type { PresetName } from './config.js';
import type { SchemaField } from './schema.js';

export const PRESET_VALUES: Record<PresetName, Partial<Record<SchemaField, unknown>>> = {
  development: { logLevel: 'debug' },
  production: { logLevel: 'info', maxConnections: 4096 },
};
