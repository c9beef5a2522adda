// Finishing a contact: the wrap-up form (disposition and notes) and the
// transfer dialog (to a queue or an agent, with a note for the next person).

import { post } from '../api.js';
import { h, notice, options } from '../dom.js';
import { busy, field, showError } from '../forms.js';

/** The server's default `disposition_grace_seconds` of a queue. */
const DEFAULT_GRACE_SECONDS = 600;

const minutes = (s) => (s >= 120 ? `${Math.round(s / 60)} minutes` : `${Math.round(s)} seconds`);

/**
 * What the form says about time, by the queue's wrap-up mode (its
 * settings): none, a fixed time (counted down) or until the agent is done.
 * The disposition can be recorded for the queue's grace period after
 * wrap-up ends, so the form stays usable whichever comes first.
 */
export function wrapUpTiming(settings, startedAt = Date.now()) {
  const wrap = settings?.wrap_up ?? 'none';
  const grace = minutes(settings?.disposition_grace_seconds ?? DEFAULT_GRACE_SECONDS);
  if (wrap === 'until_ended') return { mode: 'until_ended', text: () => 'You stay in wrap-up until you complete.' };
  if (wrap && typeof wrap === 'object' && Number(wrap.fixed) > 0) {
    const ends = startedAt + Number(wrap.fixed) * 1000;
    return {
      mode: 'fixed',
      ends,
      text: (now = Date.now()) => {
        const left = Math.ceil((ends - now) / 1000);
        if (left <= 0) return `Wrap-up time is over; the disposition can still be recorded for ${grace}.`;
        return `Wrap-up ends in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.`;
      },
    };
  }
  return { mode: 'none', text: () => `This queue has no wrap-up time: the contact is closed. Record its disposition within ${grace}.` };
}

/**
 * The wrap-up form. With disposition codes defined, one must be chosen
 * (the server accepts only known codes then); without, it is free text.
 * `timing` (from `wrapUpTiming`) says how long it may take.
 */
export function wrapUpForm({ dispositions, submit, timing }) {
  const message = notice('wrapup-error');
  const codes = dispositions || [];
  const disposition = codes.length
    ? h('select', { required: true }, h('option', { value: '' }, 'Choose…'), options(codes.map((d) => [d.code, d.label || d.code])))
    : h('input', { type: 'text', placeholder: 'e.g. resolved' });
  const notes = h('textarea', { rows: 2, placeholder: 'What happened, what is left to do' });
  const form = h(
    'form',
    { class: 'wrapup', 'aria-label': 'Wrap-up', dataset: { testid: 'wrapup' } },
    h('h3', null, 'Wrap-up'),
    timing ? h('p', { class: 'hint', dataset: { testid: 'wrapup-timing', mode: timing.mode } }, timing.text()) : null,
    h('div', { class: 'row' }, field({ label: 'Disposition', name: 'disposition', input: disposition, testid: 'wrapup-disposition' }), field({ label: 'Notes', name: 'notes', input: notes, testid: 'wrapup-notes' })),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'wrapup-submit' } }, 'Complete')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (codes.length && !disposition.value) {
      showError(form, { field: 'disposition', message: 'Choose a disposition.' }, message);
      return;
    }
    const body = {};
    if (disposition.value.trim()) body.disposition = disposition.value.trim();
    if (notes.value.trim()) body.notes = notes.value.trim();
    busy(form, () => submit(body).catch((err) => showError(form, err, message)));
  });
  if (timing?.mode === 'fixed') {
    const hint = form.querySelector('[data-testid=wrapup-timing]');
    const tick = setInterval(() => {
      if (!form.isConnected && Date.now() > timing.ends) return clearInterval(tick);
      hint.textContent = timing.text();
    }, 1000);
  }
  return form;
}

/**
 * Asks where to transfer `conv` and does it. The transfer call takes no
 * note, so a note is written on the customer (their timeline), where the
 * next agent sees it in the customer panel.
 */
export function transferDialog({ conv, queues, agents, me, onDone }) {
  const message = notice('transfer-error');
  const channel = conv.channel;
  const served = queues.filter((q) => !channel || !Array.isArray(q.settings?.channels) || q.settings.channels.includes(channel));
  const queue = h('select', null, options(served.map((q) => [q.id, q.name]), conv.record?.queue));
  const others = (agents || []).filter((a) => a.id !== me);
  const agent = others.length
    ? h('select', null, options(others.map((a) => [a.id, a.name])))
    : h('input', { type: 'number', min: 1, placeholder: 'agent user id' });
  const toQueue = h('input', { type: 'radio', name: 'to', value: 'queue', checked: true });
  const toAgent = h('input', { type: 'radio', name: 'to', value: 'agent' });
  const note = h('textarea', { rows: 3, placeholder: 'What the next person should know' });
  const queueField = field({ label: 'Queue', name: 'queue', input: queue, testid: 'transfer-queue' });
  const agentField = field({ label: 'Agent', name: 'agent', input: agent, testid: 'transfer-agent', hint: others.length ? null : 'The agent list is for supervisors; enter the agent’s user id.' });
  agentField.hidden = true;
  const sync = () => {
    queueField.hidden = !toQueue.checked;
    agentField.hidden = !toAgent.checked;
  };
  toQueue.addEventListener('change', sync);
  toAgent.addEventListener('change', sync);

  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', null, 'Transfer'),
    h('div', { class: 'row', role: 'radiogroup', 'aria-label': 'Transfer to' }, h('label', null, toQueue, ' To a queue'), h('label', null, toAgent, ' To an agent')),
    queueField,
    agentField,
    field({ label: 'Note', name: 'note', input: note, testid: 'transfer-note' }),
    message,
    h('div', { class: 'actions' }, cancel, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'transfer-submit' } }, 'Transfer')),
  );
  const dialog = h('dialog', { 'aria-label': 'Transfer', dataset: { testid: 'transfer-dialog' } }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, async () => {
      const body = toQueue.checked ? { queue: Number(queue.value) } : { agent: Number(agent.value) };
      if (!body.queue && !body.agent) {
        showError(form, { field: toQueue.checked ? 'queue' : 'agent', message: 'Choose where to transfer to.' }, message);
        return;
      }
      try {
        await post(`contacts/${conv.id}/transfer`, body);
      } catch (err) {
        showError(form, err, message);
        return;
      }
      // Transferred: the note follows (after, so that a refused transfer leaves no stray note).
      let problem = null;
      const customer = conv.record?.customer;
      if (note.value.trim() && customer) {
        const where = toQueue.checked ? queue.selectedOptions[0]?.textContent : agent.selectedOptions?.[0]?.textContent || `agent ${agent.value}`;
        try {
          await post(`customers/${customer}/notes`, { text: `Transfer to ${where}: ${note.value.trim()}` });
        } catch (err) {
          problem = `Transferred, but the note was not saved: ${err.message}`;
        }
      }
      dialog.close();
      onDone(problem);
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
