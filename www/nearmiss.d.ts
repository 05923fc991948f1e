// Types for nearmiss: the ES module `/nearmiss.mjs`, and the script tag's global
// `nearmiss(...)`. The same options and events as the README's "Embedding".

/** The script tag's data- attributes, in camelCase. */
export interface Options {
  /** The site's public key (`nearmiss site add` prints it). */
  site: string;
  /** `button` (default: a floating button), `open` (ask at once), `manual` (only `open()`). */
  trigger?: "button" | "open" | "manual";
  /** Your reference for what is rated: an order, a visit, a ticket. */
  interaction?: string;
  /** A token your server signed for that interaction. */
  interactionToken?: string;
  /** The language to speak, a BCP 47 tag like `de` or `pt-BR`; default: the browser's. */
  lang?: string;
  /** The floating button's label; default: "Rate your visit" in the customer's language. */
  label?: string;
  /** `light`, `dark`, or `auto` (default: the browser's). */
  theme?: "light" | "dark" | "auto";
  /** The floating button's corner. */
  position?: "bottom-right" | "bottom-left";
  /** A CSS selector: render inline inside that element instead of floating. */
  mount?: string;
  /** `intent` (default) or `idle`: when the widget downloads. */
  preload?: "intent" | "idle";
  /** The page's CSP nonce. */
  nonce?: string;
  /** The collector's base URL; default: where the script came from. */
  endpoint?: string;
}

/** What `open` may set. */
export interface OpenOptions {
  interaction?: string;
  /** A token your server signed for that interaction (`interactionToken` also works). */
  token?: string;
  interactionToken?: string;
  /** Fills in the contact field for the customer. */
  contact?: { email?: string; phone?: string };
}

/** `rated` (every score, the moment it is chosen) and `flagged` (below perfect). */
export interface Rated {
  /** The rating's id (a UUID). */
  id: string;
  score: number;
  perfect: boolean;
}

/** `sent`: the server has the rating. */
export interface Sent {
  id: string;
  /** The case's reference for a near miss, like `NM-7K2Q`; `null` for a perfect score. */
  case: string | null;
}

export interface Events {
  rated: Rated;
  flagged: Rated;
  sent: Sent;
}

/** Adds the script tag with these options (once; again after `destroy`). */
export function init(options: Options): void;
/** Opens the widget (also for `manual`, and inline). */
export function open(options?: OpenOptions): void;
export function close(): void;
/** Removes the widget, every listener it added, and the script tag. */
export function destroy(): void;
export function on<E extends keyof Events>(event: E, callback: (event: Events[E]) => void): void;

/** The script tag's global, usable before the script has loaded (a command queue). */
export interface Nearmiss {
  (command: "open", options?: OpenOptions): void;
  (command: "close" | "destroy"): void;
  <E extends keyof Events>(command: "on", event: E, callback: (event: Events[E]) => void): void;
}

declare global {
  interface Window {
    nearmiss?: Nearmiss;
  }
}
