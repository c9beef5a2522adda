// What the agent holds right now — offers, conversations, wrap-ups — kept
// from the events WebSocket and corrected from the contact records.
//
// Events are applied without any request so that replaying a long backlog
// (a fresh tab starts the stream at 0) costs nothing: a contact that was
// offered, handled and completed in the past comes and goes in memory. Only
// what is still held after a burst is fetched (see `touched`). A contact
// record from the API always wins over what the events implied.

export const HELD = ['offered', 'connected', 'wrap_up'];

export class Work {
  constructor(me) {
    this.me = me;
    /** id → {id, state, expiresAt, record, chatEnded, kept} */
    this.items = new Map();
    /** Ids whose record should be (re)fetched. */
    this.touched = new Set();
  }

  item(id) {
    let it = this.items.get(id);
    if (!it) {
      it = { id, state: null, expiresAt: null, record: null, chatEnded: null, kept: false };
      this.items.set(id, it);
    }
    return it;
  }

  drop(id) {
    const it = this.items.get(id);
    // The agent is filling in the wrap-up of this one: keep it on screen until they finish.
    if (it && it.kept) {
      it.state = 'done';
      return;
    }
    this.items.delete(id);
    this.touched.delete(id);
  }

  /** Applies one event; returns true when the set of held contacts may have changed. */
  apply(ev) {
    const c = ev.contact;
    if (c === null || c === undefined) return false;
    const mine = ev.agent === this.me;
    const p = ev.payload || {};
    switch (ev.kind) {
      case 'offer_created':
        if (!mine) return false;
        Object.assign(this.item(c), { state: 'offered', expiresAt: p.expires_at ?? null, chatEnded: null, kept: false });
        break;
      case 'offer_accepted':
        if (!mine) return false;
        Object.assign(this.item(c), { state: 'connected', expiresAt: null });
        break;
      case 'offer_ended':
        if (!mine) return false;
        if (this.items.get(c)?.state === 'offered') this.drop(c);
        return true;
      case 'contact_ended':
        if (!mine || !this.items.has(c)) return false;
        this.item(c).state = 'wrap_up';
        break;
      case 'wrap_up_ended':
      case 'contact_left':
      case 'contact_cancelled':
      case 'contact_transferred':
        if (!this.items.has(c)) return false;
        this.drop(c);
        return true;
      case 'conversation_ended':
      case 'chat_ended':
        if (!this.items.has(c)) return false;
        this.item(c).chatEnded = p.by || 'customer';
        break;
      default:
        return false;
    }
    this.touched.add(c);
    return true;
  }

  /** Takes a contact record from the API as the truth about it. */
  setRecord(rec) {
    if (rec.agent !== this.me || !HELD.includes(rec.state)) {
      this.drop(rec.id);
      return;
    }
    const it = this.item(rec.id);
    it.record = rec;
    it.state = rec.state;
  }

  /** Offers whose time has not run out, by `now` on the server's clock. */
  offers(now) {
    return [...this.items.values()].filter((it) => it.state === 'offered' && (it.expiresAt === null || it.expiresAt > now));
  }

  /** Accepted contacts and those in wrap-up, oldest first. */
  conversations() {
    return [...this.items.values()].filter((it) => it.state && it.state !== 'offered').sort((a, b) => a.id - b.id);
  }

  /** Ids to fetch now: touched and still held. Clears the set. */
  takeTouched() {
    const out = [...this.touched].filter((id) => this.items.has(id));
    this.touched.clear();
    return out;
  }
}
