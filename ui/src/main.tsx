import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app';
import { onLinkClick } from './router';

document.addEventListener('click', onLinkClick);
render(<App />, document.getElementById('app')!);
