import { render } from 'preact';
import './i18n/index.js';
import { App } from './ui/App.js';
import { SandboxBanner } from './ui/SandboxBanner.js';
import './styles.css';

render(<><SandboxBanner /><App /></>, document.getElementById('app')!);
