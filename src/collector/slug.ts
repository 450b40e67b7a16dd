/**
 * Project slugs: `adjective-animal-NNN` (e.g. `vivid-kudu-655`), the form `SLUG_PATTERN` in
 * wire/api-key.ts accepts. A slug names a project, it does not protect it (the key does), so
 * it only needs to be readable and unlikely to collide in one keys/ directory; keygen retries
 * on a collision.
 */
import { randomInt } from 'node:crypto';

export const ADJECTIVES: readonly string[] = [
  'agile', 'amber', 'ancient', 'azure', 'bold', 'brave', 'breezy', 'bright', 'brisk', 'calm',
  'clever', 'cosmic', 'crimson', 'crisp', 'daring', 'dusty', 'eager', 'early', 'fancy', 'fearless',
  'fluffy', 'frosty', 'gentle', 'gilded', 'glad', 'golden', 'grand', 'happy', 'hazel', 'humble',
  'icy', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'lunar', 'mellow', 'merry', 'mighty',
  'misty', 'nimble', 'noble', 'polar', 'proud', 'quick', 'quiet', 'rapid', 'rustic', 'shiny',
  'silent', 'silver', 'sleek', 'solar', 'spry', 'steady', 'stormy', 'sunny', 'swift', 'tidy',
  'vivid', 'warm', 'wild', 'windy', 'witty', 'zesty',
];

export const ANIMALS: readonly string[] = [
  'alpaca', 'badger', 'beaver', 'bison', 'bobcat', 'camel', 'caribou', 'cheetah', 'cobra', 'condor',
  'coyote', 'crane', 'dingo', 'dolphin', 'eagle', 'egret', 'falcon', 'ferret', 'finch', 'gazelle',
  'gecko', 'gibbon', 'heron', 'hyena', 'ibex', 'iguana', 'impala', 'jackal', 'jaguar', 'koala',
  'kudu', 'lemur', 'leopard', 'llama', 'lynx', 'marmot', 'meerkat', 'mink', 'moose', 'narwhal',
  'ocelot', 'orca', 'osprey', 'otter', 'panda', 'panther', 'pelican', 'puffin', 'quokka', 'raven',
  'salmon', 'seal', 'sparrow', 'tapir', 'tiger', 'toucan', 'walrus', 'wombat', 'yak', 'zebra',
];

export function newSlug(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
  const animal = ANIMALS[randomInt(ANIMALS.length)]!;
  return `${adjective}-${animal}-${String(randomInt(1000)).padStart(3, '0')}`;
}
