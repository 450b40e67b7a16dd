/**
 * `teracron login [--domain d] [--api-key k]` checks the pair against the collector's whoami
 * before keeping it, so a typo is caught now rather than at the next query; `teracron logout`
 * zeroes the file, then deletes it.
 */
import { createInterface } from 'node:readline/promises';
import { wantsHelp } from './commands';
import { readCredentials, removeCredentials, writeCredentials } from './credentials';
import { clean, parseFlags, RequestError, runCommand, say, UsageError, EXIT_OK, EXIT_USAGE } from './output';
import { API_KEY_ENV, DOMAIN_ENV, queryApi, resolveTarget } from './query-client';

export const USAGE: Record<string, string> = {
  login: 'teracron login [--domain host[:port] | http(s)://host[:port]] [--api-key tcn_…]',
  logout: 'teracron logout',
};

export async function run(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  const usage = USAGE[command];
  if (usage === undefined) {
    say(`teracron: ${JSON.stringify(command)} is not login or logout.`);
    return EXIT_USAGE;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`usage: ${usage}\n`);
    return EXIT_OK;
  }
  return runCommand(command, usage, () => (command === 'login' ? login(rest) : logout(rest)));
}

function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

async function login(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseFlags({ args: argv, options: { domain: { type: 'string' }, 'api-key': { type: 'string' } } });
  let domain = given(values.domain) ? values.domain : env[DOMAIN_ENV];
  let apiKey = given(values['api-key']) ? values['api-key'] : env[API_KEY_ENV];
  if (!given(domain) || !given(apiKey)) {
    if (!(process.stdin.isTTY && process.stderr.isTTY)) {
      const missing = [!given(domain) && `--domain (or ${DOMAIN_ENV})`, !given(apiKey) && `--api-key (or ${API_KEY_ENV})`].filter(Boolean).join(' and ');
      throw new UsageError(`login needs ${missing}; stdin is not a terminal, so it cannot ask. For the hosted service the domain is www.teracron.com; for your own collector, the URL it printed (e.g. http://127.0.0.1:7777).`);
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      if (!given(domain)) domain = await prompt.question('Domain (www.teracron.com, or your collector, e.g. http://127.0.0.1:7777): ');
      if (!given(apiKey)) apiKey = await prompt.question('API key (tcn_…): ');
    } finally {
      prompt.close();
    }
    if (!given(domain) || !given(apiKey)) throw new UsageError('login needs both a domain and an API key.');
  }

  // Both are given, so the stored file plays no part in choosing the target.
  const target = resolveTarget({ domain, apiKey }, env);
  const body = (await queryApi(target, '/v1/auth/whoami')) as { project_slug?: unknown; authenticated?: unknown } | null;
  const slug = body?.project_slug;
  if (typeof slug !== 'string' || body?.authenticated === false) {
    throw new RequestError(`${target.baseUrl} did not confirm the key (whoami answered without a project_slug): is it a Teracron collector? Nothing was saved.`);
  }
  if (slug !== target.slug) {
    throw new RequestError(`${target.baseUrl} says the key belongs to project ${JSON.stringify(clean(slug))}, but the key names ${JSON.stringify(target.slug)}: nothing was saved; check that the domain is the collector that serves this key.`);
  }

  let replaced = false;
  try {
    replaced = readCredentials(env) !== null;
  } catch {
    // An unreadable or unsafe old file is replaced all the same.
    replaced = true;
  }
  const path = writeCredentials({ domain: target.baseUrl, api_key: target.apiKey, project_slug: slug, saved_at: new Date().toISOString() }, env);
  say(`Logged in to ${target.baseUrl} as project ${slug}. ${replaced ? 'Replaced' : 'Saved'} ${path} (mode 0600); \`teracron logout\` removes it.`);
  return EXIT_OK;
}

async function logout(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  parseFlags({ args: argv, options: {} });
  const result = removeCredentials(env);
  if (!result.removed) {
    say(`No credentials at ${result.path}; nothing to do.`);
  } else if (result.wasSymlink) {
    say(`Removed the symbolic link ${result.path}; the file it pointed to was left untouched.`);
  } else {
    say(`Overwrote ${result.path} with ${result.zeroedBytes} zero bytes, flushed it to disk and deleted it.`);
  }
  return EXIT_OK;
}
