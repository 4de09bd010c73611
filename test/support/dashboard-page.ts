import { JSDOM, VirtualConsole } from 'jsdom';

/**
 * The dashboard page (GET /) with its script run by jsdom against a real service: requests go
 * out through Node's fetch, with Node's Request, Response and Headers (jsdom has no fetch API;
 * every browser has it). Script errors are pushed to `errors`.
 */
export async function openDashboard(baseUrl: string, errors: string[]): Promise<JSDOM> {
  const page = await fetch(`${baseUrl}/`);
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e) => errors.push(`${e.message} ${e.stack ?? ''}`));
  virtualConsole.on('error', (e) => errors.push(String(e)));
  const dom = new JSDOM(await page.text(), {
    url: `${baseUrl}/`,
    virtualConsole,
    runScripts: 'dangerously',
    resources: 'usable',
    beforeParse(window) {
      Object.assign(window, {
        fetch: (input: string | Request, init?: RequestInit) =>
          fetch(typeof input === 'string' ? new URL(input, `${baseUrl}/`) : input, init),
        Request,
        Response,
        Headers,
      });
    },
  });
  const { document } = dom.window;
  await new Promise<void>((resolve) => {
    if (document.readyState === 'complete') resolve();
    else dom.window.addEventListener('load', () => resolve());
  });
  return dom;
}

/** Waits until the page says it loaded (or failed); returns which. */
async function settled(dom: JSDOM): Promise<string | undefined> {
  const { document } = dom.window;
  const deadline = Date.now() + 15_000;
  while (!['loaded', 'error'].includes(document.body.dataset.state ?? '')) {
    if (Date.now() > deadline) throw new Error('dashboard did not finish loading');
    await new Promise((r) => setTimeout(r, 50));
  }
  return document.body.dataset.state;
}

/** Signs in with a key, as a person would; resolves with `loaded` or `error`. */
export async function signIn(dom: JSDOM, apiKey: string): Promise<string | undefined> {
  const { document } = dom.window;
  (document.getElementById('api-key') as unknown as { value: string }).value = apiKey;
  delete document.body.dataset.state;
  document.getElementById('sign-in')!.dispatchEvent(new dom.window.Event('submit', { cancelable: true }));
  return settled(dom);
}

/** Picks a month in the month picker and waits for it to load. */
export async function pickMonth(dom: JSDOM, period: string): Promise<string | undefined> {
  const { document } = dom.window;
  const select = document.getElementById('month') as unknown as {
    value: string;
    dispatchEvent(e: Event): void;
  };
  select.value = period;
  delete document.body.dataset.state;
  select.dispatchEvent(new dom.window.Event('change'));
  return settled(dom);
}
