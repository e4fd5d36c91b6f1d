import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => cleanup());

// jsdom has <dialog> without its modal methods: open and close it as a browser would.
const dialog = HTMLDialogElement.prototype;
if (!('showModal' in dialog)) Object.assign(dialog, { showModal(this: HTMLDialogElement) { this.open = true; } });
if (!('close' in dialog)) Object.assign(dialog, { close(this: HTMLDialogElement) { this.open = false; } });
