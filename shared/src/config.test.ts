import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadConfig } from './config.ts';

describe('loadConfig', () => {
  const shape = { PORT: env.port(3000), SECRET_TOKEN: env.str('x'), FLAG: env.bool(false), LIST: env.list('a,b') };

  it('applies defaults that work locally', () => {
    expect(loadConfig(shape, {})).toEqual({ PORT: 3000, SECRET_TOKEN: 'x', FLAG: false, LIST: ['a', 'b'] });
  });

  it('coerces values from the environment', () => {
    expect(loadConfig(shape, { PORT: '8081', FLAG: 'true', LIST: ' x , y ' })).toMatchObject({ PORT: 8081, FLAG: true, LIST: ['x', 'y'] });
  });

  it('names the bad variable and hides secret-looking values', () => {
    let err: unknown;
    try {
      loadConfig(shape, { PORT: 'eighty', SECRET_TOKEN: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT ("eighty")');
    expect(msg).toContain('SECRET_TOKEN (<hidden>)');
  });
});
