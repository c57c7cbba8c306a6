import { describe, expect, it } from 'vitest';
import { loadNotificationConfig } from './config.ts';
import { isAllowedEndpoint, parseAllowedOrigins } from './origins.ts';

const defaults = loadNotificationConfig({}).PUSH_ALLOWED_ORIGINS;

describe('push endpoint allow-list', () => {
  it.each([
    'https://fcm.googleapis.com/fcm/send/abc:def',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
    'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    'https://db5p.notify.windows.com/w/?token=x',
    'https://web.push.apple.com/QGx8n2',
  ])('accepts the public service endpoint %s by default', (e) => {
    expect(isAllowedEndpoint(e, defaults)).toBe(true);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'http://127.0.0.1:9555/push',
    'http://fcm.googleapis.com/fcm/send/x',
    'https://fcm.googleapis.com:8443/fcm/send/x',
    'https://fcm.googleapis.com.evil.example/x',
    'https://evil.example/?https://fcm.googleapis.com',
    'https://user:pw@fcm.googleapis.com/x',
    'https://notify.windows.com/w',
    'https://a.b.notify.windows.com/w',
    'https://evilnotify.windows.com/w',
    'not a url',
    'file:///etc/passwd',
  ])('refuses %s by default', (e) => {
    expect(isAllowedEndpoint(e, defaults)).toBe(false);
  });

  it('takes a local receiver from the environment, port included, and "default" keeps the public ones', () => {
    const local = loadNotificationConfig({ PUSH_ALLOWED_ORIGINS: 'http://127.0.0.1:9555' }).PUSH_ALLOWED_ORIGINS;
    expect(isAllowedEndpoint('http://127.0.0.1:9555/push/1', local)).toBe(true);
    expect(isAllowedEndpoint('http://127.0.0.1:9556/push/1', local)).toBe(false);
    expect(isAllowedEndpoint('https://fcm.googleapis.com/fcm/send/x', local)).toBe(false);
    const both = loadNotificationConfig({ PUSH_ALLOWED_ORIGINS: 'default,http://127.0.0.1:9555' }).PUSH_ALLOWED_ORIGINS;
    expect(isAllowedEndpoint('https://fcm.googleapis.com/fcm/send/x', both)).toBe(true);
    expect(isAllowedEndpoint('http://127.0.0.1:9555/push/1', both)).toBe(true);
  });

  it('refuses entries that are not origins, at start', () => {
    expect(() => parseAllowedOrigins('https://example.com/path')).toThrow();
    expect(() => parseAllowedOrigins('ftp://example.com')).toThrow();
    expect(() => loadNotificationConfig({ PUSH_ALLOWED_ORIGINS: 'nonsense' })).toThrow(/PUSH_ALLOWED_ORIGINS/);
  });
});
