import { isPackageInstall } from '../../agents/pipeline/install-command.js';

// Which agent commands get the registry network: a package install alone, never a chain.
test.each([
  'npm install',
  'npm i',
  'npm ci',
  'npm install express@5 --save-dev',
  'npm add @types/node',
  'pnpm add zod',
  'yarn',
  'yarn add left-pad@^1.3.0',
  '  npm install --no-audit  ',
])('%s is an install', (command) => expect(isPackageInstall(command)).toBe(true));

test.each([
  'npm test',
  'npm run build',
  'npm install && curl http://example.com',
  'npm install; node x.js',
  'npm install | tee log',
  'npm install $(cat pkgs)',
  'npm install `whoami`',
  'npm install > out.txt',
  'npm publish',
  'npx some-tool',
  'curl https://registry.npmjs.org/',
  'node -e "require(\'https\')"',
])('%s is not', (command) => expect(isPackageInstall(command)).toBe(false));
