// The pages' logic that needs no browser, with Node's test runner:
//   node --test tests/browser/
// (the modules are plain ES modules shared with the browser).

import test from 'node:test';
import assert from 'node:assert/strict';

const assets = new URL('../../crates/server/assets/js/', import.meta.url);
const load = (path) => import(new URL(path, assets));

const { Work } = await load('desktop/work.js');
const metrics = await load('wallboard/metrics.js');
const { splitPath, locate, lineCol } = await load('admin/jsonpath.js');
const { shortcutAt, matching, attachmentProblem } = await load('desktop/composer.js');
const { parseRanges } = await load('admin/hours.js');
const { describe, groupTimeline, historyEvents, verification } = await load('desktop/customer.js');
const { niceStep } = await load('charts.js');
const { listOf, SeenIds } = await load('api.js');
const { deliveryMark, deliveryOf } = await load('desktop/delivery.js');
const email = await load('desktop/email.js');
const { isVoicemail } = await load('desktop/recording.js');
const { slaText, slaState, slaMoved } = await load('desktop/sla.js');

const ev = (id, kind, contact, agent, payload = {}) => ({ id, kind, contact, agent, at: 1000 + id, payload });

test('work: an offer, accepted, ended and wrapped up comes and goes', () => {
  const w = new Work(2);
  w.apply(ev(1, 'offer_created', 10, 2, { expires_at: 5000 }));
  assert.deepEqual(w.offers(4000).map((i) => i.id), [10]);
  assert.deepEqual(w.offers(6000), [], 'an expired offer is not shown');
  w.apply(ev(2, 'offer_accepted', 10, 2));
  assert.equal(w.conversations()[0].state, 'connected');
  w.apply(ev(3, 'contact_ended', 10, 2));
  assert.equal(w.conversations()[0].state, 'wrap_up');
  w.apply(ev(4, 'wrap_up_ended', 10, 2));
  assert.equal(w.items.size, 0);
  assert.deepEqual(w.takeTouched(), [], 'nothing to fetch for a contact that is gone');
});

test('work: other agents’ offers are ignored; a rejected offer goes', () => {
  const w = new Work(2);
  assert.equal(w.apply(ev(1, 'offer_created', 10, 3, { expires_at: 5000 })), false);
  w.apply(ev(2, 'offer_created', 11, 2, { expires_at: 5000 }));
  w.apply(ev(3, 'offer_ended', 11, 2, { reason: 'rejected' }));
  assert.equal(w.items.size, 0);
});

test('work: a wrap-up the agent is working on outlives the queue timer', () => {
  const w = new Work(2);
  w.apply(ev(1, 'offer_accepted', 10, 2));
  w.apply(ev(2, 'contact_ended', 10, 2));
  w.items.get(10).kept = true;
  w.apply(ev(3, 'wrap_up_ended', 10, 2));
  assert.equal(w.items.get(10).state, 'done');
});

test('work: a contact record wins over the events', () => {
  const w = new Work(2);
  w.apply(ev(1, 'offer_accepted', 10, 2));
  w.setRecord({ id: 10, agent: 2, state: 'completed' });
  assert.equal(w.items.size, 0);
  w.setRecord({ id: 12, agent: 2, state: 'offered', channel: 'chat' });
  assert.equal(w.items.get(12).state, 'offered');
  w.setRecord({ id: 12, agent: 5, state: 'offered' });
  assert.equal(w.items.size, 0, 'offered to someone else now');
});

test('wallboard: colours against the target', () => {
  assert.equal(metrics.slClass(85, 80), 'good');
  assert.equal(metrics.slClass(80, 80), 'good');
  assert.equal(metrics.slClass(72, 80), 'amber');
  assert.equal(metrics.slClass(69.9, 80), 'bad');
  assert.equal(metrics.slClass(null, 80), '');
  assert.equal(metrics.asaClass(10, 20), 'good');
  assert.equal(metrics.asaClass(25, 20), 'amber');
  assert.equal(metrics.asaClass(31, 20), 'bad');
  assert.equal(metrics.slTarget({ settings: {} }), 80);
  assert.equal(metrics.slTarget({ settings: { sl_target_percent: 90 } }), 90);
});

test('wallboard: totals weight SL and ASA by handled contacts', () => {
  const t = metrics.totals([
    { waiting: 2, handled: 3, abandoned: 1, offered: 4, oldest_wait_seconds: 12, service_level: 1, asa_seconds: 5, sla_breaches: 3, sla_breached_now: 1 },
    { waiting: 1, handled: 1, abandoned: 0, offered: 1, oldest_wait_seconds: 30, service_level: 0, asa_seconds: 45, sla_breaches: 2, sla_breached_now: 2 },
    { waiting: 0, handled: 0, abandoned: 0, offered: 0, oldest_wait_seconds: null, service_level: null, asa_seconds: null },
  ]);
  assert.equal(t.waiting, 3);
  assert.equal(t.oldest, 30);
  assert.equal(t.sl, 75);
  assert.equal(t.asa, 15);
  assert.deepEqual([t.slaBreaches, t.slaBreachedNow], [5, 3]);
});

test('wallboard: intervals summed across queues, gaps filled', () => {
  const t0 = Date.UTC(2026, 0, 5, 9, 0);
  const slots = metrics.byInterval([
    { start: t0, queue: 1, offered: 2, handled: 2, abandoned: 0, contained: 1, service_level: 1 },
    { start: t0, queue: 2, offered: 2, handled: 2, abandoned: 1, contained: 0, service_level: 0.5 },
    { start: new Date(t0 + 60 * 60000).toISOString(), queue: 1, offered: 1, handled: 1, abandoned: 0, contained: 0, service_level: 0 },
  ], 30);
  assert.equal(slots.length, 3);
  assert.deepEqual([slots[0].handled, slots[1].handled, slots[2].handled], [4, 0, 1]);
  assert.equal(slots[0].sl, 75);
  assert.equal(slots[1].sl, null);
  assert.deepEqual(metrics.daySums(slots), { offered: 5, handled: 5, abandoned: 1, contained: 1, sl: 60 });
  assert.equal(metrics.csatMean([{ count: 1, average: 5 }, { count: 3, average: 3 }]), 3.5);
  assert.equal(metrics.csatMean([]), null);
});

test('flows: the server’s field is found in the JSON text', () => {
  assert.deepEqual(splitPath('blocks.menu.options[1].next'), ['blocks', 'menu', 'options', 1, 'next']);
  const text = '{\n  "blocks": {\n    "menu": {\n      "options": [\n        {"next": "a"},\n        {"next": "nowhere"}\n      ]\n    }\n  }\n}';
  const hit = locate(text, 'blocks.menu.options[1].next');
  assert.equal(text.slice(hit.start, hit.end), '"nowhere"');
  assert.equal(hit.exact, true);
  assert.equal(lineCol(text, hit.start).line, 6);
  const missing = locate(text, 'blocks.menu.options[1].label');
  assert.equal(missing.exact, false, 'a missing field points at its object');
  assert.equal(text.slice(missing.start, missing.end), '{"next": "nowhere"}');
  assert.equal(locate(text, 'definition.blocks.menu').exact, true, 'a leading name the text lacks is skipped');
  assert.equal(locate('{oops', 'a'), null);
});

test('composer: /shortcuts and attachment rules', () => {
  assert.deepEqual(shortcutAt('hello /ref', 10), { word: 'ref', start: 6 });
  assert.equal(shortcutAt('a/b', 3), null, 'a slash inside a word is no shortcut');
  const canned = [{ shortcut: 'refund-long' }, { shortcut: 'ship' }, { shortcut: 'refund' }];
  assert.deepEqual(matching(canned, 'ref').map((c) => c.shortcut), ['refund', 'refund-long']);
  assert.deepEqual(matching(canned, 'refund').map((c) => c.shortcut)[0], 'refund');
  assert.equal(attachmentProblem({ name: 'a.png', type: 'image/png', size: 10 }), null);
  assert.match(attachmentProblem({ name: 'a.exe', type: 'application/x-msdownload', size: 10 }), /type/);
  assert.match(attachmentProblem({ name: 'big.pdf', type: 'application/pdf', size: 6 * 1024 * 1024 }), /larger/);
});

test('business hours: ranges are checked', () => {
  assert.deepEqual(parseRanges('08:00-12:00, 13:00-17:30'), ['08:00-12:00', '13:00-17:30']);
  assert.deepEqual(parseRanges(''), []);
  assert.deepEqual(parseRanges('22:00-06:00'), ['22:00-06:00']);
  assert.throws(() => parseRanges('8-12'), /HH:MM/);
});

test('timeline: grouped by contact, newest first, in words', () => {
  const names = { agent: (id) => (id === 2 ? 'you' : `agent #${id}`), queue: (id) => `Q${id}` };
  const events = [
    { id: 1, at: 1, kind: 'contact_queued', contact: 5, channel: 'api', payload: { queue: 1 } },
    { id: 2, at: 2, kind: 'customer_note', contact: null, payload: { text: 'VIP', author: 'Dave' } },
    { id: 3, at: 3, kind: 'message', contact: 9, channel: 'chat', payload: { from: 'customer', name: 'Robin', text: 'hi' } },
  ];
  const groups = groupTimeline(events);
  assert.deepEqual(groups.map((g) => g.contact), [9, null, 5]);
  assert.equal(describe(events[0], names), 'Queued in Q1');
  assert.equal(describe(events[1], names), 'Note by Dave: VIP');
  assert.equal(describe(events[2], names), 'Robin: hi');
  assert.equal(describe({ kind: 'offer_accepted', agent: 2, payload: { agent: 2, waited: 3.4 } }, names), 'Answered by you after 3 s');
  assert.equal(describe({ kind: 'sla_policy_applied', payload: { policy: 4, sla_policy: { name: 'VIP' } } }, names), 'SLA policy VIP applied');
  assert.equal(describe({ kind: 'sla_breached', payload: { timer: 'resolution' } }, names), 'Resolution target breached');
  assert.equal(describe({ kind: 'conversation_opened', payload: { channel: 'email', endpoint: 2 } }, names), 'Email opened');
  assert.equal(describe({ kind: 'contact_held', payload: { by: 'desktop', channel: 'voice' } }, names), 'Put on hold');
  assert.equal(describe({ kind: 'contact_resumed', payload: { by: 'phone', channel: 'voice' } }, names), 'Taken off hold on the phone');
});

test('timeline: the contact on screen without its messages, an earlier one with them folded into one line', () => {
  const names = { agent: () => 'Alice', queue: (id) => `Q${id}` };
  const msg = (id, contact, from, text) => ({ id, at: id, kind: 'message', contact, channel: 'chat', payload: { from, text } });
  const events = [
    { id: 1, at: 1, kind: 'contact_queued', contact: 5, channel: 'chat', payload: { queue: 1 } },
    msg(2, 5, 'bot', 'Hi!'),
    msg(3, 5, 'customer', `My tent pole broke${' again'.repeat(20)}`),
    msg(4, 5, 'agent', 'Sorry to hear that'),
    { id: 5, at: 5, kind: 'contact_queued', contact: 8, channel: 'chat', payload: { queue: 1 } },
    msg(6, 8, 'customer', 'Where is my order?'),
  ];
  const [now, before] = groupTimeline(events);
  assert.deepEqual(historyEvents(now, 8).map((e) => e.kind), ['contact_queued'], 'the current conversation is not repeated');
  const earlier = historyEvents(before, 8);
  assert.deepEqual(earlier.map((e) => e.kind), ['contact_queued', 'messages']);
  const line = describe(earlier[1], names);
  assert.match(line, /^3 messages, first: “My tent pole broke again/);
  assert.ok(line.length < 110, `a bounded quote: ${line}`);
  assert.equal(describe({ kind: 'messages', payload: { count: 1, first: '' } }, names), '1 message');
});

test('charts and lists: round steps, list answers', () => {
  assert.equal(niceStep(7), 2);
  assert.equal(niceStep(100), 50);
  assert.equal(niceStep(0), 1);
  assert.deepEqual(listOf({ queues: [1] }, 'queues'), [1]);
  assert.deepEqual(listOf({ items: [2] }, 'canned_responses'), [2], 'an unnamed list is taken as it is');
  assert.deepEqual(listOf(null), []);
});

test('forms: a field named only in the message is found', async () => {
  const { impliedField } = await load('forms.js');
  assert.equal(impliedField("code 'resolved' is taken"), 'code');
  assert.equal(impliedField('Failed to deserialize the JSON body into the target type: calendar.weekly.mon[0]: bad opening hours'), 'calendar.weekly.mon[0]');
  assert.equal(impliedField('something else'), null);
});

test('forms: the library framing is taken off a body error', async () => {
  const { plainMessage } = await load('forms.js');
  const m = "Failed to deserialize the JSON body into the target type: calendar.weekly.mon[0]: bad opening hours '9-17': expected HH:MM-HH:MM at line 1 column 66";
  assert.equal(plainMessage(m, 'calendar.weekly.mon[0]'), "bad opening hours '9-17': expected HH:MM-HH:MM");
  assert.equal(plainMessage('other', 'x'), 'other');
});

test('events: a late event is shown once, a replayed one not again', () => {
  const seen = new SeenIds(10, 3);
  assert.equal(seen.first(9), false, 'before the page');
  assert.equal(seen.first(12), true);
  assert.equal(seen.first(11), true, 'published after 12, still shown');
  assert.equal(seen.first(11), false);
  seen.first(13);
  seen.first(14);
  assert.equal(seen.first(11), false, 'forgotten, and below the floor');
});

const { wrapUpTiming } = await load('desktop/wrapup.js');

test('wrap-up: the form says what the queue’s wrap-up mode allows', () => {
  const none = wrapUpTiming({ wrap_up: 'none' });
  assert.equal(none.mode, 'none');
  assert.match(none.text(), /no wrap-up time.*within 10 minutes/);
  assert.equal(wrapUpTiming(null).mode, 'none', 'unknown settings are the default: none');
  assert.match(wrapUpTiming({ wrap_up: 'none', disposition_grace_seconds: 90 }).text(), /within 90 seconds/);
  const fixed = wrapUpTiming({ wrap_up: { fixed: 75 } }, 1_000_000);
  assert.equal(fixed.mode, 'fixed');
  assert.equal(fixed.text(1_000_000), 'Wrap-up ends in 1:15.');
  assert.equal(fixed.text(1_074_500), 'Wrap-up ends in 0:01.');
  assert.match(fixed.text(1_075_000), /over; the disposition can still be recorded for 10 minutes/);
  assert.equal(wrapUpTiming({ wrap_up: 'until_ended' }).mode, 'until_ended');
});

test('work: a withdrawn contact goes; the timeline says so', () => {
  const w = new Work(2);
  w.apply(ev(1, 'offer_created', 10, 2, { expires_at: 5000 }));
  w.apply(ev(2, 'contact_cancelled', 10, 2, { waited: 3 }));
  assert.equal(w.items.size, 0);
  assert.equal(describe({ kind: 'contact_cancelled', payload: {} }, { agent: String, queue: String }), 'Withdrawn');
});

test('delivery marks: queued until news, then the latest state; a failure says why', () => {
  assert.equal(deliveryMark(undefined).state, 'queued');
  assert.equal(deliveryMark({ state: 'sent' }).text, '✓ Sent');
  assert.equal(deliveryMark({ state: 'read' }).text, '✓✓ Read');
  const retrying = deliveryMark(deliveryOf(ev(9, 'delivery', 10, 2, { message: 7, state: 'failed', reason: 'provider busy', final: false })).delivery);
  assert.deepEqual(retrying, { state: 'failed', text: '⚠ Not sent yet', title: 'provider busy — trying again' });
  const given = deliveryOf(ev(10, 'delivery', 10, 2, { message: 7, state: 'failed', reason: 'blocked number', final: true }));
  assert.equal(given.message, 7);
  assert.deepEqual(deliveryMark(given.delivery), { state: 'failed', text: '⚠ Not delivered', title: 'blocked number' });
});

test('email: a reply goes to the customer, a reply to all to the others too, never to us', () => {
  const attrs = { email_from: 'ann@customer.example', email_to: 'support@demo.example', subject: 'Order' };
  const messages = [
    { id: 1, from: 'customer', subject: 'Order', to: ['support@demo.example'], cc: [] },
    { id: 2, from: 'agent' },
    { id: 3, from: 'customer', subject: 'Re: Order', to: ['Support@demo.example', 'bob@customer.example'], cc: ['carol@x.example', 'ANN@customer.example', 'bob@customer.example'] },
  ];
  assert.deepEqual(email.replyDefaults(messages, attrs, false), { to: ['ann@customer.example'], cc: [], subject: 'Re: Order' });
  assert.deepEqual(email.replyDefaults(messages, attrs, true), { to: ['ann@customer.example'], cc: ['bob@customer.example', 'carol@x.example'], subject: 'Re: Order' });
  assert.equal(email.replyDefaults([], { subject: 'Hello' }, true).subject, 'Re: Hello');
  assert.equal(email.reSubject('RE: x'), 'RE: x');
  assert.equal(email.reSubject(''), 'Re: your message');
  assert.deepEqual(email.splitAddresses(' a@x.example, b@y.example;c@z.example '), ['a@x.example', 'b@y.example', 'c@z.example']);
});

test('email: quoted history, signatures and Outlook headers fold away; a forward stays whole', () => {
  const reply = 'Thanks, that works.\n\nOn Mon, 1 Dec 2026 at 10:00, Support\n<support@demo.example> wrote:\n> Try again?\n>\n> -- \n> Alice';
  assert.deepEqual(email.splitQuoted(reply), { body: 'Thanks, that works.', history: 'On Mon, 1 Dec 2026 at 10:00, Support\n<support@demo.example> wrote:\n> Try again?\n>\n> -- \n> Alice' });
  assert.deepEqual(email.splitQuoted('Hi\n-- \nAnn, Acme'), { body: 'Hi', history: '-- \nAnn, Acme' });
  assert.deepEqual(email.splitQuoted('Yes.\n-----Original Message-----\nFrom: x'), { body: 'Yes.', history: '-----Original Message-----\nFrom: x' });
  assert.deepEqual(email.splitQuoted('> all quoted\n> here'), { body: '> all quoted\n> here', history: '' });
  assert.deepEqual(email.splitQuoted('> a quote first\nthen my answer'), { body: '> a quote first\nthen my answer', history: '' }, 'a quote answered inline is the message');
});

test('email: the draft has room to write, the signature and the quote of the customer', () => {
  const quote = email.quoteOf({ name: 'Ann', at: 0, text: 'It broke.\n\nOn Sunday, Bob wrote:\n> old' }, () => 'Monday');
  assert.equal(quote, 'On Monday, Ann wrote:\n> It broke.');
  assert.equal(email.draftOf('The Support team', quote), '\n\n-- \nThe Support team\n\nOn Monday, Ann wrote:\n> It broke.');
  assert.equal(email.draftOf(null, ''), '');
});

test('screen pop: the caller verification outcome, from the event or the attribute', () => {
  const names = { agent: String, queue: String };
  const checked = (outcome) => ({ kind: 'verification', contact: 7, payload: { check: 'pin', outcome } });
  assert.equal(describe(checked('verified'), names), 'Caller verification (pin): verified');
  assert.equal(describe({ kind: 'verification', payload: { check: 'date_of_birth', outcome: 'not_attempted' } }, names), 'Caller verification (date of birth): not attempted');
  assert.equal(verification({ id: 7, attributes: {} }, [checked('failed'), checked('verified')]), 'verified');
  // Another contact's outcome is not this one's.
  assert.equal(verification({ id: 8, attributes: {} }, [checked('verified')]), 'not_attempted');
  assert.equal(verification({ id: 8, attributes: { verified: false } }, []), 'failed');
  assert.equal(verification({ id: 8, attributes: { verified: true } }, []), 'verified');
  assert.equal(verification({ id: 8, attributes: { verified: 'true' } }, []), 'not_attempted');
});

test('timeline: recordings, voicemails and their pauses, in words', () => {
  const names = { agent: (id) => (id === 2 ? 'you' : `agent #${id}`), queue: String };
  assert.equal(describe({ kind: 'recording', payload: { seconds: 61.6, channels: ['customer', 'agent'] } }, names), 'Call recorded (62 s)');
  assert.equal(describe({ kind: 'recording', payload: { seconds: 12.2, voicemail: true } }, names), 'Voicemail (12 s)');
  assert.equal(describe({ kind: 'recording_paused', payload: { by: 2 } }, names), 'Recording paused by you');
  assert.equal(describe({ kind: 'recording_resumed', payload: { by: 3 } }, names), 'Recording resumed by agent #3');
  assert.equal(isVoicemail({ attributes: { voicemail: true } }), true);
  assert.equal(isVoicemail({ attributes: {} }), false);
  assert.equal(isVoicemail(null), false);
});

test('email: the sender check is a badge saying who checked and what they found', () => {
  assert.equal(email.senderBadge(undefined), null);
  const ok = email.senderBadge({ verdict: 'trusted', checked_by: 'mx.example.net', results: { spf: 'pass', dkim: 'pass', dmarc: 'pass' } });
  assert.deepEqual([ok.text, ok.cls], ['Verified sender', 'available']);
  assert.match(ok.title, /checked by mx\.example\.net: spf=pass dkim=pass dmarc=pass/);
  const bad = email.senderBadge({ verdict: 'failed', checked_by: 'mx.example.net', results: { dmarc: 'fail' } });
  assert.deepEqual([bad.text, bad.cls], ['Sender check failed', 'failed']);
  assert.match(bad.title, /may be forged/);
  assert.match(email.senderBadge({ verdict: 'unknown', results: {} }).title, /no trusted relay/);
});

test('sla: the badge counts down, then says breached; records are read again when a clock may move', () => {
  const due = 1_000_000;
  const running = { timer: 'first_response', due, state: 'running' };
  assert.equal(slaText(running, due - 245_000), '4:05 left');
  assert.equal(slaText(running, due - 500), '0:01 left', 'a part of a second left is a second');
  assert.equal(slaText(running, due - (2 * 3600 + 600) * 1000), '2 h 10 min left');
  assert.equal(slaText(running, due - (3 * 86400 + 4 * 3600) * 1000), '3 d 4 h left');
  assert.equal(slaText(running, due), 'Breached');
  assert.equal(slaState(running, due - 1), 'running');
  assert.equal(slaState(running, due), 'breached', 'past due here before the server says so');
  assert.equal(slaState({ ...running, state: 'at_risk' }, due - 1), 'at_risk');
  assert.equal(slaText({ ...running, state: 'breached' }, due - 60_000), 'Breached');

  const email = { channel: 'email', sla: null };
  const chat = { channel: 'chat', sla: null };
  assert.ok(slaMoved(ev(1, 'sla_warning', 10, 2), chat));
  assert.ok(slaMoved(ev(2, 'sla_policy_applied', 10, 2), null));
  assert.ok(slaMoved(ev(3, 'message', 10, 2), email), 'the customer’s answer may start a clock');
  assert.ok(!slaMoved(ev(4, 'message', 10, 2), chat), 'chats have no clocks');
  assert.ok(!slaMoved(ev(5, 'typing', 10, 2), email));
});
