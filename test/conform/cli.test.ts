/** `vitalseal conform` refuses a bad command line with exit 2 and a stable code, before opening anything. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';

describe('vitalseal conform: command line', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main(['node', 'vitalseal', 'conform', ...args]);
    return { code, err };
  }

  it('needs exactly one link and a valid device id', async () => {
    expect((await run(['--device', 'oxi-01'])).code).toBe(2);
    expect((await run(['--serial', '/dev/null', '--mqtt', '--device', 'oxi-01'])).code).toBe(2);
    const r = await run(['--mqtt', '--device', 'bad/id']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('CONFORM_CONFIG_INVALID');
  });

  it('refuses an unknown case id (before creating or opening anything) and an unreadable authority key file', async () => {
    const unknown = await run(['--mqtt', '--device', 'oxi-01', '--cases', 'NOPE-01', '--authority-key', '/nonexistent/key']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('CONFORM_CASE_UNKNOWN');
    const key = await run(['--mqtt', '--mqtt-port', '0', '--device', 'oxi-01', '--authority-key', '/nonexistent/key']);
    expect(key.code, key.err).toBe(3);
    expect(key.err).toContain('CONFORM_KEY_FILE_INVALID');
    expect((await run(['--mqtt', '--device', 'oxi-01', '--resend-bound', 'soon'])).code).toBe(2);
  });

  it('refuses TLS options that do not fit (issue #20): --tls on a serial line, --cert without --tls or --key, a bad --client-certs', async () => {
    for (const args of [
      ['--serial', '/dev/null', '--tls'],
      ['--mqtt', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'],
      ['--mqtt', '--tls', '--cert', '/nonexistent/cert.pem'],
      ['--mqtt', '--tls', '--client-certs', 'sometimes'],
      ['--mqtt', '--tls', '--client-certs', 'required', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'],
      ['--mqtt', '--tls', '--ca', '/nonexistent/ca.pem'],
    ]) {
      const r = await run([...args, '--device', 'oxi-01', '--authority-key', '/nonexistent/key']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('CONFORM_CONFIG_INVALID');
    }
  });
});
