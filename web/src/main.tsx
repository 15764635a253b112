import { render } from 'preact';
import { App } from './ui/App.js';
import { SandboxBanner } from './ui/SandboxBanner.js';
import './styles.css';

render(<><SandboxBanner /><App /></>, document.getElementById('app')!);
