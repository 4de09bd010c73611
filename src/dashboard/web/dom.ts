/**
 * The page's elements and the only ways values reach them: as text (textContent), never as
 * HTML — app and function ids are customer-supplied.
 */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** The element of `root` that `selector` names (the page's own markup: it is there). */
export function part<T extends Element = HTMLElement>(root: ParentNode, selector: string): T {
  const el = root.querySelector<T & Element>(selector);
  if (!el) throw new Error(`no ${selector} in the page`);
  return el;
}

export function text<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  value: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

/** A table row of cells: [text, numeric?]. */
export function row(cells: ReadonlyArray<readonly [string, boolean?]>): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const [value, numeric] of cells) tr.appendChild(text('td', value, numeric ? 'num' : ''));
  return tr;
}
