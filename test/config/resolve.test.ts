import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeracronConfigError, TeracronKeyError } from '../../src/errors';
import { encodeApiKey } from '../../src/wire/api-key';
import { findPackageName, resolveConfig } from '../../src/config/resolve';
import type { TeracronOptions } from '../../src/config/options';
import { envelopeVectors } from '../helpers/vectors';
import { fileTimeout } from '../helpers/file-timeout';

fileTimeout(60_000);

const vectors = envelopeVectors();
const API_KEY = vectors.api_key;

function withKey(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { TERACRON_API_KEY: API_KEY, ...extra };
}

function configError(run: () => unknown, ...patterns: RegExp[]): TeracronConfigError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TeracronConfigError, `expected a TeracronConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'TERACRON_ERR_CONFIG');
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'teracron-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('defaults apply when only the key is set', () => {
  const config = resolveConfig({}, withKey());
  assert.equal(config.apiKey, API_KEY);
  assert.equal(config.slug, vectors.slug);
  assert.equal(config.publicKeyPem, vectors.public_key_pem);
  assert.equal(config.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
  assert.equal(config.baseUrl, 'https://www.teracron.com');
  assert.equal(config.domain, 'www.teracron.com');
  assert.equal(config.intervalS, 10);
  assert.equal(config.maxBufferSize, 10);
  assert.equal(config.flushDeadlineS, 60);
  assert.equal(config.timeoutS, 10);
  assert.equal(config.debug, false);
  assert.equal(config.targetPid, null);
  assert.equal(config.tracingEnabled, true);
  assert.equal(config.traceBatchSize, 100);
  assert.equal(config.traceFlushIntervalS, 10);
  assert.equal(config.traceSampleRate, 1);
  assert.equal(config.tracingScrubber, undefined);
  assert.equal(config.traceEmitEvents, false);
  assert.equal(config.service, findPackageName() ?? 'node-app');
  assert.equal(config.environment, 'production');
  assert.equal(config.wireFormat, 'msgpack');
  assert.equal(config.caFile, null);
  assert.equal(config.caPem, null);
  assert.equal(config.exitTimeoutMs, 2000);
  assert.equal(config.ringBytes, 8388608);
  assert.equal(config.maxSendAttempts, 5);
  assert.deepEqual(config.warnings, []);
});

test('the config and its warnings are frozen', () => {
  const config = resolveConfig({ intervalS: 1 }, withKey());
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.warnings));
});

test('the key can come from the apiKey option alone', () => {
  assert.equal(resolveConfig({ apiKey: API_KEY }, {}).slug, vectors.slug);
});

test('environment variables are read when no option is given', () => {
  const config = resolveConfig({}, withKey({
    TERACRON_INTERVAL: '30',
    TERACRON_DEBUG: 'true',
    TERACRON_TRACING_ENABLED: 'off',
    TERACRON_TRACE_SAMPLE_RATE: '0.25',
    TERACRON_SERVICE: 'billing',
    TERACRON_ENVIRONMENT: 'staging',
    TERACRON_WIRE_FORMAT: 'json',
    TERACRON_DOMAIN: 'http://127.0.0.1:7777',
    TERACRON_TARGET_PID: '4242',
    TERACRON_EXIT_TIMEOUT_MS: '500',
  }));
  assert.equal(config.intervalS, 30);
  assert.equal(config.debug, true);
  assert.equal(config.tracingEnabled, false);
  assert.equal(config.traceSampleRate, 0.25);
  assert.equal(config.service, 'billing');
  assert.equal(config.environment, 'staging');
  assert.equal(config.wireFormat, 'json');
  assert.equal(config.baseUrl, 'http://127.0.0.1:7777');
  assert.equal(config.targetPid, 4242);
  assert.equal(config.exitTimeoutMs, 500);
});

test('options beat environment variables', () => {
  const config = resolveConfig(
    { intervalS: 20, debug: false, tracingEnabled: true, service: 'api', environment: 'dev', wireFormat: 'msgpack', domain: 'eu.teracron.com', targetPid: null },
    withKey({
      TERACRON_INTERVAL: '30',
      TERACRON_DEBUG: '1',
      TERACRON_TRACING_ENABLED: '0',
      TERACRON_SERVICE: 'billing',
      TERACRON_ENVIRONMENT: 'staging',
      TERACRON_WIRE_FORMAT: 'json',
      TERACRON_DOMAIN: 'us.teracron.com',
      TERACRON_TARGET_PID: '4242',
    }),
  );
  assert.equal(config.intervalS, 20);
  assert.equal(config.debug, false);
  assert.equal(config.tracingEnabled, true);
  assert.equal(config.service, 'api');
  assert.equal(config.environment, 'dev');
  assert.equal(config.wireFormat, 'msgpack');
  assert.equal(config.domain, 'eu.teracron.com');
  assert.equal(config.targetPid, null);
});

test('the apiKey option beats TERACRON_API_KEY', () => {
  configError(() => resolveConfig({ apiKey: 'tcn_!!!' }, withKey()), /option apiKey/);
});

// [option, env, min, max, field]
const RANGES: Array<[keyof TeracronOptions, string, number, number, string]> = [
  ['intervalS', 'TERACRON_INTERVAL', 5, 300, 'intervalS'],
  ['maxBufferSize', 'TERACRON_MAX_BUFFER', 1, 1000, 'maxBufferSize'],
  ['flushDeadlineS', 'TERACRON_FLUSH_DEADLINE', 10, 600, 'flushDeadlineS'],
  ['timeoutS', 'TERACRON_TIMEOUT', 2, 30, 'timeoutS'],
  ['traceBatchSize', 'TERACRON_TRACE_BATCH_SIZE', 1, 10000, 'traceBatchSize'],
  ['traceFlushInterval', 'TERACRON_TRACE_FLUSH_INTERVAL', 1, 300, 'traceFlushIntervalS'],
  ['traceSampleRate', 'TERACRON_TRACE_SAMPLE_RATE', 0, 1, 'traceSampleRate'],
  ['exitTimeoutMs', 'TERACRON_EXIT_TIMEOUT_MS', 0, 30000, 'exitTimeoutMs'],
  ['ringBytes', 'TERACRON_RING_BYTES', 4096, 268435456, 'ringBytes'],
  ['maxSendAttempts', 'TERACRON_MAX_SEND_ATTEMPTS', 1, 20, 'maxSendAttempts'],
];

for (const [option, envName, min, max, field] of RANGES) {
  test(`${envName} below ${min} is clamped to ${min} with a warning`, () => {
    const config = resolveConfig({}, withKey({ [envName]: String(min - 1) }));
    assert.equal(config[field as keyof typeof config], min);
    assert.deepEqual(config.warnings, [`${envName}=${min - 1} is below the minimum ${min}; using ${min}.`]);
  });

  test(`${envName} above ${max} is clamped to ${max} with a warning`, () => {
    const config = resolveConfig({}, withKey({ [envName]: String(max * 2) }));
    assert.equal(config[field as keyof typeof config], max);
    assert.deepEqual(config.warnings, [`${envName}=${max * 2} is above the maximum ${max}; using ${max}.`]);
  });

  test(`option ${option} out of range is clamped with a warning naming the option`, () => {
    const config = resolveConfig({ [option]: max + 1 }, withKey());
    assert.equal(config[field as keyof typeof config], max);
    assert.match(config.warnings.join('\n'), new RegExp(`^option ${option}=${max + 1} is above the maximum ${max}; using ${max}\\.$`));
  });

  test(`${envName}="abc" is an error naming the variable, the value and the range`, () => {
    configError(() => resolveConfig({}, withKey({ [envName]: 'abc' })), new RegExp(`${envName}="abc"`), new RegExp(`from ${min} to ${max}`));
  });
}

test('an empty variable counts as unset, so the default applies', () => {
  const config = resolveConfig({}, withKey({ TERACRON_INTERVAL: '', TERACRON_DEBUG: ' ', TERACRON_TARGET_PID: '' }));
  assert.equal(config.intervalS, 10);
  assert.equal(config.debug, false);
  assert.equal(config.targetPid, null);
});

for (const bad of ['NaN', 'Infinity', '-Infinity', '0x10', '1e400', '5s', '1,5']) {
  test(`TERACRON_INTERVAL=${JSON.stringify(bad)} is rejected as not a number`, () => {
    configError(() => resolveConfig({}, withKey({ TERACRON_INTERVAL: bad })), new RegExp(`TERACRON_INTERVAL=${JSON.stringify(bad)} is not a finite number`), /from 5 to 300/);
  });
}

test('number options that are not finite numbers are rejected naming the option', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 'abc', {}, true]) {
    configError(() => resolveConfig({ timeoutS: bad as number }, withKey()), /option timeoutS=/, /from 2 to 30/);
  }
});

test('a numeric string option is accepted', () => {
  assert.equal(resolveConfig({ intervalS: '15' as unknown as number }, withKey()).intervalS, 15);
});

test('decimal env numbers with exponent and padding are accepted', () => {
  assert.equal(resolveConfig({}, withKey({ TERACRON_INTERVAL: ' 1.2e1 ' })).intervalS, 12);
});

test('counts are rounded with a warning', () => {
  const config = resolveConfig({ maxSendAttempts: 1.4 }, withKey({ TERACRON_MAX_BUFFER: '2.6', TERACRON_TRACE_BATCH_SIZE: '50' }));
  assert.equal(config.maxBufferSize, 3);
  assert.equal(config.maxSendAttempts, 1);
  assert.equal(config.traceBatchSize, 50);
  assert.deepEqual(config.warnings, [
    'TERACRON_MAX_BUFFER=2.6 is not a whole number (snapshots); using 3.',
    'option maxSendAttempts=1.4 is not a whole number (attempts); using 1.',
  ]);
});

test('seconds are not rounded', () => {
  assert.equal(resolveConfig({}, withKey({ TERACRON_TRACE_FLUSH_INTERVAL: '2.5' })).traceFlushIntervalS, 2.5);
});

test('ringBytes is rounded up to a power of two with a warning', () => {
  const config = resolveConfig({}, withKey({ TERACRON_RING_BYTES: '5000' }));
  assert.equal(config.ringBytes, 8192);
  assert.deepEqual(config.warnings, ['TERACRON_RING_BYTES=5000 is not a power of two; using 8192.']);
});

test('a power-of-two ringBytes is kept without a warning', () => {
  const config = resolveConfig({ ringBytes: 65536 }, withKey());
  assert.equal(config.ringBytes, 65536);
  assert.deepEqual(config.warnings, []);
});

test('boolean variables accept 1/0, true/false, yes/no, on/off in any case', () => {
  for (const [text, expected] of [['1', true], ['0', false], ['TRUE', true], ['False', false], ['yes', true], ['NO', false], ['On', true], ['off', false]] as const) {
    assert.equal(resolveConfig({}, withKey({ TERACRON_DEBUG: text })).debug, expected, text);
  }
});

for (const envName of ['TERACRON_DEBUG', 'TERACRON_TRACING_ENABLED', 'TERACRON_TRACE_EMIT_EVENTS']) {
  test(`${envName}="maybe" is an error naming the variable, the value and the accepted words`, () => {
    configError(() => resolveConfig({}, withKey({ [envName]: 'maybe' })), new RegExp(`${envName}="maybe" is not a boolean`), /1\/0, true\/false, yes\/no, on\/off/);
  });
}

test('a boolean option that is not a boolean is rejected naming the option', () => {
  configError(() => resolveConfig({ traceEmitEvents: 2 as unknown as boolean }, withKey()), /option traceEmitEvents=2 is not a boolean/);
});

test('the wire format is read case-insensitively', () => {
  assert.equal(resolveConfig({}, withKey({ TERACRON_WIRE_FORMAT: 'JSON' })).wireFormat, 'json');
  assert.equal(resolveConfig({ wireFormat: 'MsgPack' as 'msgpack' }, withKey()).wireFormat, 'msgpack');
});

test('an unknown wire format is an error listing the two values', () => {
  configError(() => resolveConfig({}, withKey({ TERACRON_WIRE_FORMAT: 'protobuf' })), /TERACRON_WIRE_FORMAT="protobuf"/, /"json" or "msgpack"/);
});

test('a pid that is not a positive whole number is an error naming the variable and value', () => {
  for (const bad of ['0', '-3', '1.5', 'abc']) {
    configError(() => resolveConfig({}, withKey({ TERACRON_TARGET_PID: bad })), new RegExp(`TERACRON_TARGET_PID=${JSON.stringify(bad)} is not a process id`));
  }
});

test('a targetPid option is used as the sidecar target', () => {
  assert.equal(resolveConfig({ targetPid: 77 }, withKey()).targetPid, 77);
});

test('a tracingScrubber function is kept as given', () => {
  const scrub = (data: Record<string, unknown>): Record<string, unknown> => data;
  assert.equal(resolveConfig({ tracingScrubber: scrub }, withKey()).tracingScrubber, scrub);
});

test('a tracingScrubber that is not a function is rejected', () => {
  configError(() => resolveConfig({ tracingScrubber: 'redact' as never }, withKey()), /option tracingScrubber="redact" is not a function/);
});

test('an empty service variable falls back to the default', () => {
  assert.equal(resolveConfig({}, withKey({ TERACRON_SERVICE: '  ' })).service, findPackageName() ?? 'node-app');
});

test('the default service name is the nearest package.json that has a name', (t) => {
  const root = tempDir(t);
  const nested = join(root, 'app', 'src', 'esm');
  mkdirSync(nested, { recursive: true });
  writeFileSync(join(root, 'app', 'package.json'), JSON.stringify({ name: 'orders-api' }));
  writeFileSync(join(root, 'app', 'src', 'package.json'), JSON.stringify({ type: 'module' }));
  assert.equal(findPackageName(nested), 'orders-api');
});

test('an unknown option is ignored with a warning naming the option it most likely meant', () => {
  const config = resolveConfig({ intervalSeconds: 30 } as TeracronOptions, withKey());
  assert.equal(config.intervalS, 10);
  assert.deepEqual(config.warnings, ['option intervalSeconds is not a teracron option and was ignored; did you mean intervalS?']);
});

test('an unknown option like no known one is ignored with a warning that suggests nothing', () => {
  const config = resolveConfig({ colour: 'red' } as TeracronOptions, withKey());
  assert.deepEqual(config.warnings, ['option colour is not a teracron option and was ignored; check its spelling.']);
});

test('a missing key is an error saying how to pass or make one', () => {
  configError(() => resolveConfig({}, {}), /TERACRON_API_KEY is not set/, /\{ apiKey/, /teracron keygen/);
});

test('an empty key variable counts as missing', () => {
  configError(() => resolveConfig({}, { TERACRON_API_KEY: '   ' }), /TERACRON_API_KEY is not set/);
});

test('a malformed key is a config error carrying the key error as its cause', () => {
  const err = configError(() => resolveConfig({}, { TERACRON_API_KEY: 'sk_live_0123456789abcdef' }), /TERACRON_API_KEY/, /must start with "tcn_"/);
  assert.ok(err.cause instanceof TeracronKeyError);
  assert.ok(err.message.includes((err.cause as Error).message));
  assert.ok(!err.message.includes('0123456789abcdef'), 'the whole key must not be echoed');
});

test('a well-formed key holding a 2048-bit RSA key is rejected', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKey = encodeApiKey('vivid-kudu-655', publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const err = configError(() => resolveConfig({ apiKey }, {}), /option apiKey/, /4096-bit/, /2048/);
  assert.ok(err.cause instanceof TeracronKeyError);
  assert.ok(!err.message.includes(apiKey), 'the whole key must not be echoed');
});

test('the domain option is parsed into baseUrl and domain', () => {
  const config = resolveConfig({ domain: 'http://[::1]:7777/' }, withKey());
  assert.equal(config.baseUrl, 'http://[::1]:7777');
  assert.equal(config.domain, '[::1]:7777');
});

test('a custom domain option still needs TERACRON_ALLOW_CUSTOM_DOMAIN in the environment', () => {
  configError(() => resolveConfig({ domain: 'collector.example.com' }, withKey()), /option domain="collector\.example\.com"/, /TERACRON_ALLOW_CUSTOM_DOMAIN=1/);
  const config = resolveConfig({ domain: 'collector.example.com' }, withKey({ TERACRON_ALLOW_CUSTOM_DOMAIN: '1' }));
  assert.equal(config.baseUrl, 'https://collector.example.com');
});

test('plain http to a non-loopback TERACRON_DOMAIN is rejected', () => {
  configError(() => resolveConfig({}, withKey({ TERACRON_DOMAIN: 'http://www.teracron.com' })), /TERACRON_DOMAIN="http:\/\/www\.teracron\.com"/, /loopback/);
});

test('a missing caFile is an error naming the path and the errno', (t) => {
  const path = join(tempDir(t), 'missing.pem');
  configError(() => resolveConfig({}, withKey({ TERACRON_CA_FILE: path })), /TERACRON_CA_FILE/, new RegExp(JSON.stringify(path).replace(/[.\\/]/g, '\\$&')), /ENOENT/);
});

test('a caFile without a PEM certificate is an error naming the path', (t) => {
  const path = join(tempDir(t), 'key.pem');
  writeFileSync(path, vectors.public_key_pem);
  configError(() => resolveConfig({ caFile: path }, withKey()), /option caFile/, /key\.pem/, /-----BEGIN CERTIFICATE-----/);
});

test('a readable PEM caFile is loaded into caPem', (t) => {
  const path = join(tempDir(t), 'ca.pem');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  writeFileSync(path, pem);
  const config = resolveConfig({}, withKey({ TERACRON_CA_FILE: path }));
  assert.equal(config.caFile, path);
  assert.equal(config.caPem, pem);
});
