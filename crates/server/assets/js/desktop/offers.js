// Offers waiting for the agent: who, from which queue, and how long is
// left before the offer goes to someone else (from the event's
// `expires_at`, on the server's clock).

import { serverNow } from '../api.js';
import { h, replace } from '../dom.js';

export class OfferStrip {
  /** `ctx`: {describe(item) → {title, detail}, accept(item), reject(item), expired(item)}. */
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'offers', role: 'region', 'aria-label': 'Incoming offers', 'aria-live': 'assertive', dataset: { testid: 'offers' } });
    this.cards = new Map(); // id → {el, count, bar, total}
    this.timer = setInterval(() => this.tick(), 250);
  }

  /** Shows exactly `items` (offers), keeping the cards of those already shown. */
  update(items) {
    const ids = new Set(items.map((i) => i.id));
    for (const [id, card] of this.cards) {
      if (!ids.has(id)) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    for (const it of items) {
      const card = this.cards.get(it.id);
      if (card) {
        card.item = it;
        this.fill(card);
      } else this.add(it);
    }
    this.tick();
  }

  add(item) {
    const title = h('strong', { dataset: { testid: 'offer-title' } });
    const detail = h('span', { class: 'muted' });
    const count = h('span', { class: 'countdown', dataset: { testid: 'offer-countdown' }, 'aria-label': 'Seconds left' });
    const bar = h('progress', { max: 100, value: 100, 'aria-hidden': 'true' });
    const accept = h('button', { type: 'button', class: 'primary', dataset: { testid: 'offer-accept' }, title: 'Accept (Alt+A)' }, 'Accept');
    const reject = h('button', { type: 'button', dataset: { testid: 'offer-reject' }, title: 'Reject (Alt+R)' }, 'Reject');
    const el = h('div', { class: 'offer', dataset: { testid: 'offer', contact: String(item.id) } }, h('div', null, title, h('br'), detail), count, bar, accept, reject);
    const card = { el, title, detail, count, bar, item, total: null };
    accept.addEventListener('click', () => this.ctx.accept(card.item));
    reject.addEventListener('click', () => this.ctx.reject(card.item));
    this.cards.set(item.id, card);
    this.fill(card);
    this.el.append(el);
  }

  fill(card) {
    const d = this.ctx.describe(card.item);
    replace(card.title, d.title);
    replace(card.detail, d.detail);
  }

  tick() {
    const now = serverNow();
    for (const card of this.cards.values()) {
      const at = card.item.expiresAt;
      if (at === null || at === undefined) {
        card.count.textContent = '';
        continue;
      }
      const left = Math.max(0, at - now);
      // The bar's full length is the time left when the card first showed.
      if (card.total === null) card.total = Math.max(left, 1);
      card.count.textContent = `${Math.ceil(left / 1000)}s`;
      card.bar.value = Math.round((100 * left) / card.total);
      if (left === 0 && !card.expired) {
        card.expired = true;
        this.ctx.expired(card.item);
      }
    }
  }

  /** The offer that came first: what Alt+A and Alt+R act on. */
  first() {
    const [first] = this.cards.values();
    return first ? first.item : null;
  }
}
